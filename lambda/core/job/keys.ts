/** The bucket layout of DESIGN.md, in one place. Local mode writes the same tree under --out. */
import { createHash } from 'node:crypto';
import { RETENTION_TAG } from '../contract.js';

export const INPUTS_PREFIX = 'inputs/';

const job = (jobId: string) => `jobs/${jobId}`;

/** Object keys of one job. */
export const jobKeys = {
  prefix: (jobId: string) => `${job(jobId)}/`,
  request: (jobId: string) => `${job(jobId)}/job.json`,
  manifest: (jobId: string) => `${job(jobId)}/manifest.json`,
  invalid: (jobId: string) => `${job(jobId)}/invalid.jsonl.gz`,
  part: (jobId: string, chunkId: string) => `${job(jobId)}/parts/${chunkId}.jsonl.gz`,
  /** Records of a chunk fetched before a worker ran out of time; the next worker resumes from them. */
  checkpoint: (jobId: string, chunkId: string) => `${job(jobId)}/checkpoints/${chunkId}.jsonl.gz`,
  /** Where a dispatch that continues in another invocation keeps its place. */
  dispatchCheckpoint: (jobId: string) => `${job(jobId)}/dispatch/checkpoint.json`,
  /** The pace of a host group's hosts, as its last owner left it (process-chunk.ts). */
  hostPace: (jobId: string, group: number) => `${job(jobId)}/hosts/${group}.json`,
  /** URLs a paused dispatch run left in host groups' unfinished chunks, for the chain's next run. */
  dispatchPending: (jobId: string, chain: string, run: number) =>
    `${job(jobId)}/dispatch/pending-${chain}-${String(run).padStart(4, '0')}.json`,
  /**
   * Rejected lines of one run of a dispatch chain; the chain's last run joins its segments
   * into invalid.jsonl.gz. Two chains of one job (a duplicated S3 event) keep apart.
   */
  invalidSegment: (jobId: string, chain: string, run: number) =>
    `${job(jobId)}/dispatch/invalid-${chain}-${String(run).padStart(5, '0')}.jsonl.gz`,
  /** A list file uploaded for one job (by `fanout run --endpoint` and `fanout submit`). */
  uploadedInput: (jobId: string, fileName: string) => `${job(jobId)}/input/${fileName}`,
  /** An inline list given to the API, as JSONL. */
  inlineInput: (jobId: string) => `${job(jobId)}/input.jsonl.gz`,
  /** An origin's robots.txt verdict, fetched once for the job and read by every worker. */
  robots: (jobId: string, origin: string) => `${job(jobId)}/robots/${safeOrigin(origin)}.json`,
  body: (jobId: string, sha256: string) => `${job(jobId)}/bodies/${sha256}`,
  /** A chunk's exchanges as WARC/1.1 (body mode 'warc'); result records name it by `warcFile`. */
  warc: (jobId: string, chunkId: string) => `${job(jobId)}/${warcFile(chunkId)}`,
  /** A chunk WARC's CDXJ lines, sorted; finalize merges them into index.cdxj. */
  warcIndex: (jobId: string, chunkId: string) => `${job(jobId)}/parts/${chunkId}.cdxj`,
  /** Every response of a WARC job, by SURT key: what a replay tool (pywb) looks URLs up in. */
  cdxIndex: (jobId: string) => `${job(jobId)}/index.cdxj`,
  results: (jobId: string) => `${job(jobId)}/results.jsonl.gz`,
  summary: (jobId: string) => `${job(jobId)}/summary.json`,
  /** A self-contained page that shows the job at a glance. */
  report: (jobId: string) => `${job(jobId)}/report.html`,
  failed: (jobId: string) => `${job(jobId)}/failed.jsonl`,
  /** Where the fan-in (finalize) keeps its place between invocations. */
  finalizeCheckpoint: (jobId: string) => `${job(jobId)}/finalize/checkpoint.json`,
  /** The n-th run of parts joined by the fan-in: plain gzip members, copied into results.jsonl.gz. */
  resultsSegment: (jobId: string, n: number) =>
    `${job(jobId)}/finalize/results-${String(n).padStart(5, '0')}.gz`,
  /** The failed lines of the n-th segment's parts, joined into failed.jsonl. */
  failedSegment: (jobId: string, n: number) =>
    `${job(jobId)}/finalize/failed-${String(n).padStart(5, '0')}.jsonl`,
  success: (jobId: string) => `${job(jobId)}/_SUCCESS`,
} as const;

/** A chunk's WARC file, relative to its job's folder: the `file` of a record's `warc` and of index.cdxj. */
export function warcFile(chunkId: string): string {
  return `warc/${chunkId}.warc.gz`;
}

/** An origin (scheme://host:port) as one key segment: `https://a.example:8443` → `https_a.example_8443`. */
function safeOrigin(origin: string): string {
  return origin.replace('://', '_').replace(/[^A-Za-z0-9.-]/g, '_');
}

const SCRATCH = /^jobs\/[^/]+\/(parts|checkpoints|dispatch|finalize)\//;
const BODY = /^jobs\/[^/]+\/bodies\//;

/** The retention tag of an object, as a URL-encoded S3 Tagging value; undefined for objects kept with the job. */
export function retentionTagging(key: string): string | undefined {
  const value = SCRATCH.test(key) ? RETENTION_TAG.scratch : BODY.test(key) ? RETENTION_TAG.body : undefined;
  return value === undefined ? undefined : `${RETENTION_TAG.key}=${value}`;
}

const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Job ids become key segments: letters, digits, '.', '_' and '-', at most 128, not starting with a symbol. */
export function isValidJobId(jobId: string): boolean {
  return JOB_ID.test(jobId) && !jobId.includes('..');
}

/** A fresh, sortable job id: UTC time plus randomness. */
export function newJobId(now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const random = Math.random().toString(36).slice(2, 8).padEnd(6, '0');
  return `${stamp}-${random}`;
}

/**
 * The job id of an uploaded list: the same object (key and ETag) always gives the same id,
 * so Lambda's retry of a crashed dispatch resumes the same job instead of starting another.
 */
export function uploadJobId(key: string, etag: string): string {
  const base = key
    .slice(INPUTS_PREFIX.length)
    .replace(/\.(gz)$/, '')
    .replace(/\.[a-z]+$/, '');
  const name =
    base
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, 80) || 'upload';
  // S3 notifications carry the ETag bare, PutObject answers it quoted: both give one id.
  const bare = etag.replace(/"/g, '');
  const digest = createHash('sha256').update(`${key}\n${bare}`).digest('hex').slice(0, 12);
  return `${name}-${digest}`;
}
