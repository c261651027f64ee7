import type { FetchErrorCode } from './errors.js';

/** One URL accepted from the input, as it travels in a chunk. */
export interface InputItem {
  /** 1-based line (or record) number in the input. */
  line: number;
  /** The URL exactly as given (trimmed). */
  url: string;
  /** Caller-given id, when the input has one. */
  id?: string;
  /** Caller-given metadata (CSV's other columns, JSONL's `meta`). */
  meta?: Record<string, unknown>;
  /** Request headers for this URL (JSONL's `headers`), over the job's; sensitive ones by reference only. */
  headers?: Record<string, string>;
}

/** The outcome of one input URL: exactly one per accepted line. */
export interface ResultRecord {
  url: string;
  id?: string;
  meta?: Record<string, unknown>;
  line: number;
  /** URL of the last response, after redirects; null when no response came. */
  finalUrl: string | null;
  status: number | null;
  redirects: number;
  contentType: string | null;
  /** Decoded body bytes read. */
  bytes: number;
  /** sha256 (hex) of the decoded body, when the body mode hashes it. */
  sha256: string | null;
  /** The body itself, for body mode 'inline'. */
  body?: string;
  bodyEncoding?: 'utf8' | 'base64';
  /** True when an inline body was cut at the inline cap. */
  bodyTruncated?: boolean;
  /**
   * Body mode 'warc': the WARC response record of the last response (after redirects): its file,
   * relative to the job's folder (`warc/<chunk>.warc.gz`), and the offset and length of its gzip
   * member in that file. Absent when no response came.
   */
  warc?: WarcLocation;
  timings: {
    /** When the first attempt started (ISO 8601). */
    start: string;
    /** Time to first byte of the last response, from the start of its attempt (ms). */
    ttfbMs: number | null;
    /** From first attempt to the end of the body, all retries included (ms). */
    totalMs: number;
  };
  attempts: number;
  error: { code: FetchErrorCode; message: string } | null;
}

/** Where a WARC record is: a file of the job's folder and the byte range of its gzip member. */
export interface WarcLocation {
  file: string;
  offset: number;
  length: number;
}

/** A rejected input line, as written to invalid.jsonl.gz. */
export interface InvalidLine {
  line: number;
  code: string;
  message: string;
  /** The offending text, cut to a few hundred characters. */
  raw: string;
}

/**
 * The record of an item before anything happened to it: no response, no error yet.
 * `start` defaults to now; the engine fills it in when the first attempt starts.
 */
export function blankRecord(item: InputItem, start = new Date().toISOString()): ResultRecord {
  const timings = { start, ttfbMs: null, totalMs: 0 };
  // Most items have neither id nor meta: one literal, one object shape, no spreads.
  if (item.id === undefined && item.meta === undefined) {
    return {
      url: item.url,
      line: item.line,
      finalUrl: null,
      status: null,
      redirects: 0,
      contentType: null,
      bytes: 0,
      sha256: null,
      timings,
      attempts: 0,
      error: null,
    };
  }
  return {
    url: item.url,
    ...(item.id !== undefined && { id: item.id }),
    ...(item.meta !== undefined && { meta: item.meta }),
    line: item.line,
    finalUrl: null,
    status: null,
    redirects: 0,
    contentType: null,
    bytes: 0,
    sha256: null,
    timings,
    attempts: 0,
    error: null,
  };
}

/** What a failed record looks like in failed.jsonl: valid JSONL input for a new job. */
export interface FailedLine {
  url: string;
  id?: string;
  meta?: Record<string, unknown>;
  error: { code: FetchErrorCode; message: string };
}

/** The resubmittable form of a failed record. */
export function toFailedLine(record: ResultRecord): FailedLine | null {
  if (record.error === null) return null;
  const failed: FailedLine = { url: record.url, error: record.error };
  if (record.id !== undefined) failed.id = record.id;
  if (record.meta !== undefined) failed.meta = record.meta;
  return failed;
}
