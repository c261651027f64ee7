import type { JobState, JobStatus, JobStore, Progress } from './ports.js';

/** Job state in memory: the local runtime's job table. */
export class MemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, { state: JobState; done: Set<string>; claimed: boolean }>();

  async create(jobId: string, createdAt: Date): Promise<void> {
    if (this.jobs.has(jobId)) return;
    const at = createdAt.toISOString();
    this.jobs.set(jobId, {
      state: {
        jobId,
        status: 'dispatching',
        totalChunks: null,
        chunksDone: 0,
        accepted: 0,
        invalid: 0,
        createdAt: at,
        updatedAt: at,
      },
      done: new Set(),
      claimed: false,
    });
  }

  async setTotal(
    jobId: string,
    totals: { chunks: number; accepted: number; invalid: number },
  ): Promise<Progress> {
    const job = this.entry(jobId);
    job.state.totalChunks = totals.chunks;
    job.state.accepted = totals.accepted;
    job.state.invalid = totals.invalid;
    if (job.state.status === 'dispatching') job.state.status = 'running';
    this.touch(job.state);
    return progressOf(job.state);
  }

  async markChunkDone(jobId: string, chunkId: string): Promise<Progress> {
    const job = this.entry(jobId);
    if (!job.done.has(chunkId)) {
      job.done.add(chunkId);
      job.state.chunksDone = job.done.size;
      this.touch(job.state);
    }
    return progressOf(job.state);
  }

  async claimFinalize(jobId: string): Promise<boolean> {
    const job = this.entry(jobId);
    if (job.claimed) return false;
    job.claimed = true;
    job.state.status = 'finalizing';
    return true;
  }

  async finish(jobId: string, status: JobStatus, error?: string): Promise<void> {
    const job = this.entry(jobId);
    job.state.status = status;
    if (error !== undefined) job.state.error = error;
    this.touch(job.state);
  }

  async requestCancel(jobId: string): Promise<JobState | null> {
    const job = this.jobs.get(jobId);
    if (!job) return null;
    job.state.cancelRequested = true;
    this.touch(job.state);
    return { ...job.state };
  }

  async get(jobId: string): Promise<JobState | null> {
    const job = this.jobs.get(jobId);
    return job ? { ...job.state } : null;
  }

  private entry(jobId: string) {
    const job = this.jobs.get(jobId);
    if (!job) throw new Error(`unknown job ${jobId}`);
    return job;
  }

  private touch(state: JobState): void {
    state.updatedAt = new Date().toISOString();
  }
}

function progressOf(state: JobState): Progress {
  return { chunksDone: state.chunksDone, totalChunks: state.totalChunks };
}
