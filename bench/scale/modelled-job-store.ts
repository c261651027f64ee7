import { counterShardOf } from '../../lambda/adapters/aws/dynamo-job-store.js';
import { backoffDelay } from '../../lambda/core/fetch/retry-policy.js';
import {
  type ChunkCounts,
  DEFAULT_FINALIZE_LEASE_MS,
  FINAL_STATUSES,
  type JobState,
  type JobStatus,
  type JobStore,
  newJobState,
  type Progress,
} from '../../lambda/core/ports.js';
import { seededRandom } from '../lib/seeded-random.mjs';
import { AWS_LATENCY_MS, AWS_LIMITS, CONFLICT_RETRY } from './aws-figures.js';
import { TokenBucket, type VirtualClock } from './virtual-clock.js';

export interface JobStoreCounters {
  /** TransactWriteItems that went through. */
  transactions: number;
  /** Writes and transactions refused because a transaction on one of their items was under way. */
  conflicts: number;
  /** Requests refused because an item's partition was over 1,000 WCU/s (or 3,000 RCU/s). */
  throttles: number;
  /** Single-item writes (UpdateItem, PutItem) that went through. */
  writes: number;
  /** Item reads (GetItem, or an item of a BatchGetItem). */
  reads: number;
  /** Requests that gave up after every retry. */
  failures: number;
}

interface Item {
  lockedUntil: number;
  writeUnits: TokenBucket;
  readUnits: TokenBucket;
}

interface Job {
  state: JobState;
  done: Set<string>;
  /** chunksDone, urlsDone and urlsFailed per counter item (one item: the job's own). */
  shards: Array<{ chunks: number; urls: number; failed: number }>;
  claimedAt: number | null;
}

/** A DynamoDB request refused for good (every retry spent). */
export class ModelledDynamoError extends Error {
  constructor(code: string, key: string) {
    super(`${code} on ${key} after ${CONFLICT_RETRY.attempts} attempts`);
    this.name = 'ModelledDynamoError';
  }
}

/**
 * fanout's DynamoDB job table in memory, on the model's clock. With `shards: 1` it is today's
 * design (lambda/adapters/aws/dynamo-job-store.ts): counting a chunk is one TransactWriteItems
 * of the chunk's marker and the job item, then a consistent read of the job item. With
 * `shards: N` the counts live on N counter items (a chunk's by its sequence number, as DynamoJobStore's counterShardOf) and progress
 * is their sum (one BatchGetItem). Each item is limited to its partition's 1,000 WCU and 3,000
 * RCU a second; a transaction writes 2 WCU per item and holds its items for its duration, so a
 * write to an item under a transaction is refused (TransactionConflict) and retried with the
 * adapter's backoff. Writes per item per simulated second are recorded.
 */
export class ModelledJobStore implements JobStore {
  readonly counters: JobStoreCounters = {
    transactions: 0,
    conflicts: 0,
    throttles: 0,
    writes: 0,
    reads: 0,
    failures: 0,
  };
  private readonly jobs = new Map<string, Job>();
  private readonly items = new Map<string, Item>();
  /** Write units per item key per simulated second. */
  private readonly unitsBySecond = new Map<string, Map<number, number>>();
  private readonly random: () => number;
  readonly shards: number;

  constructor(
    private readonly clock: VirtualClock,
    options: { shards?: number; seed?: number } = {},
  ) {
    this.shards = Math.max(1, options.shards ?? 1);
    this.random = seededRandom(options.seed ?? 1);
  }

  async create(jobId: string, createdAt: Date): Promise<void> {
    await this.write(jobKey(jobId));
    if (this.jobs.has(jobId)) return;
    this.jobs.set(jobId, {
      state: newJobState(jobId, createdAt),
      done: new Set(),
      shards: Array.from({ length: this.shards }, () => ({ chunks: 0, urls: 0, failed: 0 })),
      claimedAt: null,
    });
  }

  /** A running job of `totalChunks` chunks, none counted yet, without a request (a bench's set-up). */
  preloadRunning(jobId: string, totalChunks: number): void {
    this.preloadDone(jobId, { chunks: 0, accepted: 0 });
    const job = this.entry(jobId);
    job.state.status = 'running';
    job.state.totalChunks = totalChunks;
    job.claimedAt = null;
  }

  /** A job whose chunks are all counted, without a request (a bench's set-up). */
  preloadDone(jobId: string, totals: { chunks: number; accepted: number }): void {
    const shards = Array.from({ length: this.shards }, () => ({ chunks: 0, urls: 0, failed: 0 }));
    (shards[0] as { chunks: number; urls: number }).chunks = totals.chunks;
    (shards[0] as { chunks: number; urls: number }).urls = totals.accepted;
    const at = new Date().toISOString();
    this.jobs.set(jobId, {
      state: {
        jobId,
        status: 'finalizing',
        totalChunks: totals.chunks,
        chunksDone: totals.chunks,
        accepted: totals.accepted,
        invalid: 0,
        urlsDone: totals.accepted,
        urlsFailed: 0,
        createdAt: at,
        updatedAt: at,
      },
      done: new Set(),
      shards,
      claimedAt: this.clock.now,
    });
  }

  async setTotal(
    jobId: string,
    totals: { chunks: number; accepted: number; invalid: number },
  ): Promise<Progress> {
    await this.write(jobKey(jobId));
    const job = this.entry(jobId);
    job.state.totalChunks = totals.chunks;
    job.state.accepted = totals.accepted;
    job.state.invalid = totals.invalid;
    if (job.state.status === 'dispatching') job.state.status = 'running';
    return this.progress(jobId);
  }

  async markChunkDone(jobId: string, chunkId: string, urls?: ChunkCounts): Promise<Progress> {
    const job = this.entry(jobId);
    const shard = this.shards === 1 ? 0 : counterShardOf(chunkId, this.shards);
    await this.transact([`chunk#${jobId}#${chunkId}`, counterKey(jobId, shard, this.shards)]);
    // The marker's attribute_not_exists(pk): a chunk counted before changes nothing.
    if (!job.done.has(chunkId)) {
      job.done.add(chunkId);
      const counter = job.shards[shard] as Job['shards'][number];
      counter.chunks += 1;
      counter.urls += urls?.urls ?? 0;
      counter.failed += urls?.failed ?? 0;
    }
    return this.progress(jobId);
  }

  async claimFinalize(jobId: string, leaseMs = DEFAULT_FINALIZE_LEASE_MS): Promise<boolean> {
    await this.write(jobKey(jobId));
    const job = this.entry(jobId);
    const state = this.view(job);
    const allDone = state.totalChunks !== null && state.chunksDone >= state.totalChunks;
    const free = job.claimedAt === null || job.claimedAt <= this.clock.now - leaseMs;
    if (!allDone || !free || FINAL_STATUSES.includes(state.status)) return false;
    job.claimedAt = this.clock.now;
    job.state.status = 'finalizing';
    return true;
  }

  async finish(jobId: string, status: JobStatus, error?: string): Promise<void> {
    await this.write(jobKey(jobId));
    const job = this.entry(jobId);
    job.state.status = status;
    if (error !== undefined) job.state.error = error;
  }

  async requestCancel(jobId: string): Promise<JobState | null> {
    if (!this.jobs.has(jobId)) return null;
    await this.write(jobKey(jobId));
    const job = this.entry(jobId);
    job.state.cancelRequested = true;
    return this.view(job);
  }

  /** One consistent read of the job item alone, as DynamoJobStore does for a worker's cancel check. */
  async isCancelRequested(jobId: string): Promise<boolean> {
    await this.readItems([jobKey(jobId)]);
    return this.jobs.get(jobId)?.state.cancelRequested === true;
  }

  async get(jobId: string): Promise<JobState | null> {
    await this.readItems(this.itemsOfProgress(jobId));
    const job = this.jobs.get(jobId);
    return job ? this.view(job) : null;
  }

  /**
   * The most write units one item took in one simulated second, and which item: the figure
   * to hold against DynamoDB's 1,000 WCU a second per partition.
   */
  peakItemWriteUnits(): { key: string; unitsPerSecond: number } {
    let best = { key: '', unitsPerSecond: 0 };
    for (const [key, bySecond] of this.unitsBySecond) {
      for (const units of bySecond.values())
        if (units > best.unitsPerSecond) best = { key, unitsPerSecond: units };
    }
    return best;
  }

  private async progress(jobId: string): Promise<Progress> {
    await this.readItems(this.itemsOfProgress(jobId));
    const state = this.view(this.entry(jobId));
    return { chunksDone: state.chunksDone, totalChunks: state.totalChunks };
  }

  /** The items a progress read touches: the job item, and the counter items when sharded. */
  private itemsOfProgress(jobId: string): string[] {
    const keys = [jobKey(jobId)];
    if (this.shards > 1)
      for (let s = 0; s < this.shards; s += 1) keys.push(counterKey(jobId, s, this.shards));
    return keys;
  }

  private view(job: Job): JobState {
    let chunks = 0;
    let urls = 0;
    let failed = 0;
    for (const s of job.shards) {
      chunks += s.chunks;
      urls += s.urls;
      failed += s.failed;
    }
    return { ...job.state, chunksDone: chunks, urlsDone: urls, urlsFailed: failed };
  }

  /** A TransactWriteItems over `keys`, retried on conflict and throttling as the adapter does. */
  private async transact(keys: string[]): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const now = this.clock.now;
      const refusal = keys.some((k) => this.item(k).lockedUntil > now)
        ? 'TransactionConflict'
        : this.takeWriteUnits(keys, AWS_LIMITS.dynamoTransactionWcuPerItem)
          ? null
          : 'ThrottlingError';
      if (refusal === null) {
        const until = now + AWS_LATENCY_MS.dynamoTransaction;
        for (const k of keys) this.item(k).lockedUntil = until;
        await this.clock.sleep(AWS_LATENCY_MS.dynamoTransaction);
        this.counters.transactions += 1;
        return;
      }
      await this.refused(refusal, keys[keys.length - 1] as string, attempt, AWS_LATENCY_MS.dynamoTransaction);
    }
  }

  /** A single-item write: refused while a transaction holds the item, or over the partition's rate. */
  private async write(key: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const now = this.clock.now;
      const refusal =
        this.item(key).lockedUntil > now
          ? 'TransactionConflict'
          : this.takeWriteUnits([key], 1)
            ? null
            : 'ThrottlingError';
      if (refusal === null) {
        await this.clock.sleep(AWS_LATENCY_MS.dynamoWrite);
        this.counters.writes += 1;
        return;
      }
      await this.refused(refusal, key, attempt, AWS_LATENCY_MS.dynamoWrite);
    }
  }

  /** Consistent reads of items (one request); an item over 3,000 RCU/s throttles the request. */
  private async readItems(keys: string[]): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      const ok = keys.every((k) => this.item(k).readUnits.take(this.clock.now, 1));
      if (ok) {
        await this.clock.sleep(AWS_LATENCY_MS.dynamoRead);
        this.counters.reads += keys.length;
        return;
      }
      await this.refused('ThrottlingError', keys[0] as string, attempt, AWS_LATENCY_MS.dynamoRead);
    }
  }

  private async refused(code: string, key: string, attempt: number, roundTripMs: number): Promise<void> {
    if (code === 'TransactionConflict') this.counters.conflicts += 1;
    else this.counters.throttles += 1;
    await this.clock.sleep(roundTripMs);
    if (attempt >= CONFLICT_RETRY.attempts) {
      this.counters.failures += 1;
      throw new ModelledDynamoError(code, key);
    }
    await this.clock.sleep(backoffDelay(attempt, CONFLICT_RETRY.baseMs, CONFLICT_RETRY.maxMs, this.random));
  }

  /** Takes `units` from every item's bucket, or none (false) when one of them has too few. */
  private takeWriteUnits(keys: string[], units: number): boolean {
    const now = this.clock.now;
    const buckets = keys.map((k) => this.item(k).writeUnits);
    if (buckets.some((b) => b.waitMsAt(now, units) > 0)) return false;
    for (const b of buckets) b.take(now, units);
    const second = Math.floor(now / 1000);
    for (const k of keys) {
      let bySecond = this.unitsBySecond.get(k);
      if (!bySecond) {
        bySecond = new Map();
        this.unitsBySecond.set(k, bySecond);
      }
      bySecond.set(second, (bySecond.get(second) ?? 0) + units);
    }
    return true;
  }

  private item(key: string): Item {
    let item = this.items.get(key);
    if (!item) {
      item = {
        lockedUntil: 0,
        // A tenth of a second's worth saved up at most: a partition's limit is a hard rate.
        writeUnits: new TokenBucket(
          AWS_LIMITS.dynamoWcuPerPartitionPerSecond,
          AWS_LIMITS.dynamoWcuPerPartitionPerSecond / 10,
        ),
        readUnits: new TokenBucket(
          AWS_LIMITS.dynamoRcuPerPartitionPerSecond,
          AWS_LIMITS.dynamoRcuPerPartitionPerSecond / 10,
        ),
      };
      this.items.set(key, item);
    }
    return item;
  }

  private entry(jobId: string): Job {
    const job = this.jobs.get(jobId);
    if (!job) throw new Error(`unknown job ${jobId}`);
    return job;
  }
}

const jobKey = (jobId: string) => `job#${jobId}`;

/** The item a shard's counts live on: the job item itself when there is one shard. */
function counterKey(jobId: string, shard: number, shards: number): string {
  return shards === 1 ? jobKey(jobId) : `job#${jobId}#shard#${shard}`;
}
