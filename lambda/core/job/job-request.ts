import type { InputFormat } from '../input/parse-input.js';
import type { JobOptions } from '../job-options.js';

/** jobs/<jobId>/job.json: what was asked for. */
export interface JobRequest {
  jobId: string;
  /** Where the list came from: a path, '-', an s3:// URL or 'inline'. */
  source: string;
  format: InputFormat;
  options: JobOptions;
  submittedAt: string;
  /**
   * sha256 of the list as read (a file or stdin on the CLI, an inline list given to the API),
   * so a different list under the same id is told apart. Absent for an S3 source.
   */
  inputDigest?: string;
}

/** jobs/<jobId>/manifest.json: written when dispatch is complete. */
export interface JobManifest {
  jobId: string;
  /** The last input line that held a URL or a rejected line (blank and comment lines after it are not counted). */
  lines: number;
  accepted: number;
  /** Rejected lines, duplicates not included. */
  invalid: number;
  /** Repeated URLs skipped by dedupe (in invalid.jsonl.gz as DUPLICATE). Absent in older manifests. */
  duplicates?: number;
  chunks: number;
  chunkSize: number;
  dispatchedAt: string;
}
