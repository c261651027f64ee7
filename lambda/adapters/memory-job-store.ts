import {
  type ChunkCounts,
  DEFAULT_FINALIZE_LEASE_MS,
  FINAL_STATUSES,
  type JobState,
  type JobStatus,
  type JobStore,
  newJobState,
  type Progress,
} from '../core/ports.js';

/** Job state in memory: the local runtime's job table. */
export class MemoryJobStore implements JobStore {
  private readonly jobs = new Map<string, { state: JobState; done: Set<string>; claimedAt: number | null }>();

  async create(jobId: string, createdAt: Date): Promise<void> {
    if (this.jobs.has(jobId)) return;
    this.jobs.set(jobId, {
      state: newJobState(jobId, createdAt),
      done: new Set(),
      claimedAt: null,
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

  async markChunkDone(jobId: string, chunkId: string, urls?: ChunkCounts): Promise<Progress> {
    const job = this.entry(jobId);
    if (!job.done.has(chunkId)) {
      job.done.add(chunkId);
      job.state.chunksDone = job.done.size;
      job.state.urlsDone += urls?.urls ?? 0;
      job.state.urlsFailed += urls?.failed ?? 0;
      this.touch(job.state);
    }
    return progressOf(job.state);
  }

  async claimFinalize(jobId: string, leaseMs = DEFAULT_FINALIZE_LEASE_MS): Promise<boolean> {
    const job = this.entry(jobId);
    const now = Date.now();
    const { state } = job;
    const allDone = state.totalChunks !== null && state.chunksDone >= state.totalChunks;
    const free = job.claimedAt === null || job.claimedAt <= now - leaseMs;
    if (!allDone || !free || FINAL_STATUSES.includes(state.status)) return false;
    job.claimedAt = now;
    state.status = 'finalizing';
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

  async isCancelRequested(jobId: string): Promise<boolean> {
    return this.jobs.get(jobId)?.state.cancelRequested === true;
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
