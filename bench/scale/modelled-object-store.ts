import type { ObjectStore } from '../../lambda/core/ports.js';
import { AWS_LATENCY_MS, AWS_LIMITS } from './aws-figures.js';
import { TokenBucket, type VirtualClock } from './virtual-clock.js';

/** What an S3 request is counted as: GET/HEAD (and LIST) or PUT/COPY/POST/DELETE. */
type RequestClass = 'get' | 'put';

/** Requests by kind, and how many S3 refused with 503 SlowDown (then retried). */
export interface S3Counters {
  get: number;
  head: number;
  put: number;
  list: number;
  delete: number;
  multipartParts: number;
  slowDowns: number;
}

/** A multipart upload's parts are this big: the SDK's Upload (lib-storage) default, S3's minimum. */
const UPLOAD_PART_BYTES = AWS_LIMITS.s3MultipartMinPartBytes;
/** Parts of one upload in flight at once (lib-storage's default queue size is 4). */
const UPLOAD_QUEUE = 4;

/**
 * S3 in memory, on the model's clock: each request waits its typical latency, and each
 * partitioned prefix (by default one per job: S3 starts a new prefix on one partition) has
 * token buckets of 5,500 GET/HEAD and 3,500 PUT/COPY/POST/DELETE a second. A request over the
 * rate is answered 503 SlowDown after its round trip and retried once a token is due.
 */
export class ModelledObjectStore implements ObjectStore {
  readonly objects = new Map<string, Buffer>();
  readonly counters: S3Counters = {
    get: 0,
    head: 0,
    put: 0,
    list: 0,
    delete: 0,
    multipartParts: 0,
    slowDowns: 0,
  };
  private readonly buckets = new Map<string, { get: TokenBucket; put: TokenBucket }>();

  constructor(
    private readonly clock: VirtualClock,
    /** The partitioned prefix a key falls in; by default `jobs/<id>/` (or the key's first segment). */
    private readonly prefixOf: (key: string) => string = jobPrefix,
  ) {}

  /** Stores an object without a request (a bench's set-up). */
  preload(key: string, body: Uint8Array): void {
    this.objects.set(key, Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  }

  async putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    await this.request(key, 'put', AWS_LATENCY_MS.s3Put + body.byteLength / AWS_LATENCY_MS.s3BytesPerMs);
    this.counters.put += 1;
    if (this.objects.has(key)) return false;
    this.objects.set(key, Buffer.from(body));
    return true;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    const data = Buffer.from(body);
    await this.request(key, 'put', AWS_LATENCY_MS.s3Put + data.length / AWS_LATENCY_MS.s3BytesPerMs);
    this.counters.put += 1;
    this.objects.set(key, data);
  }

  /**
   * A multipart upload as S3ObjectStore makes it: create, 5 MiB parts four at a time, complete;
   * the object appears whole at the end. More than 10,000 parts (about 48.8 GiB) fails, as on S3.
   */
  async putStream(key: string, body: AsyncIterable<Uint8Array>): Promise<void> {
    const chunks: Buffer[] = [];
    const inFlight: Promise<void>[] = [];
    let pending = 0;
    let total = 0;
    let parts = 0;
    const upload = (bytes: number) => {
      parts += 1;
      if (parts > AWS_LIMITS.s3MultipartMaxParts) {
        throw new Error(
          `${key}: more than ${AWS_LIMITS.s3MultipartMaxParts} parts of ${UPLOAD_PART_BYTES} bytes`,
        );
      }
      this.counters.multipartParts += 1;
      return this.request(key, 'put', AWS_LATENCY_MS.s3Put + bytes / AWS_LATENCY_MS.s3BytesPerMs);
    };
    for await (const chunk of body) {
      chunks.push(Buffer.from(chunk));
      pending += chunk.byteLength;
      total += chunk.byteLength;
      if (pending >= UPLOAD_PART_BYTES) {
        inFlight.push(upload(pending));
        pending = 0;
        if (inFlight.length >= UPLOAD_QUEUE) await inFlight.shift();
      }
    }
    if (total < UPLOAD_PART_BYTES) {
      // The SDK sends a small body as one PutObject.
      await this.request(key, 'put', AWS_LATENCY_MS.s3Put + total / AWS_LATENCY_MS.s3BytesPerMs);
    } else {
      if (pending > 0) inFlight.push(upload(pending));
      await Promise.all(inFlight);
      // CreateMultipartUpload and CompleteMultipartUpload.
      await this.request(key, 'put', AWS_LATENCY_MS.s3Put);
      await this.request(key, 'put', AWS_LATENCY_MS.s3Put);
    }
    this.counters.put += 1;
    this.objects.set(key, Buffer.concat(chunks));
  }

  async get(key: string): Promise<Buffer | null> {
    const found = this.objects.get(key);
    await this.request(key, 'get', AWS_LATENCY_MS.s3Get + (found?.length ?? 0) / AWS_LATENCY_MS.s3BytesPerMs);
    this.counters.get += 1;
    return this.objects.get(key) ?? null;
  }

  async exists(key: string): Promise<boolean> {
    await this.request(key, 'get', AWS_LATENCY_MS.s3Head);
    this.counters.head += 1;
    return this.objects.has(key);
  }

  /** ListObjectsV2: one request per 1,000 keys. */
  async list(prefix: string): Promise<string[]> {
    const keys = [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (let page = 0; page === 0 || page * 1000 < keys.length; page += 1) {
      await this.request(prefix, 'get', AWS_LATENCY_MS.s3List);
      this.counters.list += 1;
    }
    return keys;
  }

  async delete(key: string): Promise<void> {
    await this.request(key, 'put', AWS_LATENCY_MS.s3Delete);
    this.counters.delete += 1;
    this.objects.delete(key);
  }

  /** One request's round trip; a 503 SlowDown costs a round trip and a retry once a token is due. */
  private async request(key: string, kind: RequestClass, latencyMs: number): Promise<void> {
    const bucket = this.bucketOf(key)[kind];
    while (!bucket.take(this.clock.now)) {
      this.counters.slowDowns += 1;
      await this.clock.sleep(AWS_LATENCY_MS.s3Head + bucket.waitMsAt(this.clock.now));
    }
    await this.clock.sleep(latencyMs);
  }

  private bucketOf(key: string) {
    const prefix = this.prefixOf(key);
    let b = this.buckets.get(prefix);
    if (!b) {
      b = {
        get: new TokenBucket(AWS_LIMITS.s3GetPerPrefixPerSecond),
        put: new TokenBucket(AWS_LIMITS.s3PutPerPrefixPerSecond),
      };
      this.buckets.set(prefix, b);
    }
    return b;
  }
}

/** `jobs/<id>/` for a job's keys, else the key's first path segment. */
export function jobPrefix(key: string): string {
  const m = /^jobs\/[^/]+\//.exec(key);
  return m ? m[0] : key.slice(0, key.indexOf('/') + 1);
}
