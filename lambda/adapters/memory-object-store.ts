import { MULTIPART_LIMITS, type MultipartUploads, type ObjectStore } from '../core/ports.js';

/** An object store in memory, for tests and dry runs. */
export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, Buffer>();
  /** Uploads under way, by id: the parts copied in so far. */
  readonly uploads = new Map<string, { key: string; parts: Map<number, Buffer> }>();
  private uploadCount = 0;

  /** S3's multipart uploads, with S3's part-size and part-count checks. */
  readonly multipart: MultipartUploads = {
    create: async (key) => {
      this.uploadCount += 1;
      const id = `upload-${this.uploadCount}`;
      this.uploads.set(id, { key, parts: new Map() });
      return id;
    },
    copyPart: async (key, uploadId, partNumber, sourceKey) => {
      const upload = this.upload(key, uploadId);
      const source = this.objects.get(sourceKey);
      if (!source) throw new Error(`NoSuchKey: ${sourceKey}`);
      if (partNumber < 1 || partNumber > MULTIPART_LIMITS.maxParts)
        throw new Error(`InvalidArgument: part ${partNumber}`);
      upload.parts.set(partNumber, Buffer.from(source));
      return { partNumber, etag: `"${partNumber}"` };
    },
    complete: async (key, uploadId, parts) => {
      const upload = this.upload(key, uploadId);
      const bodies = parts.map((part, index) => {
        const body = upload.parts.get(part.partNumber);
        if (!body || (index > 0 && part.partNumber <= (parts[index - 1]?.partNumber ?? 0))) {
          throw new Error(`InvalidPart: ${part.partNumber}`);
        }
        if (index < parts.length - 1 && body.length < MULTIPART_LIMITS.minPartBytes) {
          throw new Error(`EntityTooSmall: part ${part.partNumber} has ${body.length} bytes`);
        }
        return body;
      });
      this.objects.set(key, Buffer.concat(bodies));
      this.uploads.delete(uploadId);
    },
    abort: async (_key, uploadId) => {
      this.uploads.delete(uploadId);
    },
  };

  async putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    if (this.objects.has(key)) return false;
    this.objects.set(key, Buffer.from(body));
    return true;
  }

  async put(key: string, body: Uint8Array | string): Promise<void> {
    this.objects.set(key, Buffer.from(body));
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array>): Promise<void> {
    const parts: Buffer[] = [];
    for await (const part of body) parts.push(Buffer.from(part));
    this.objects.set(key, Buffer.concat(parts));
  }

  async get(key: string): Promise<Buffer | null> {
    return this.objects.get(key) ?? null;
  }

  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }

  async list(prefix: string): Promise<string[]> {
    return this.keys(prefix);
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }

  private upload(key: string, uploadId: string) {
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.key !== key) throw new Error(`NoSuchUpload: ${uploadId}`);
    return upload;
  }

  /** Keys under a prefix, sorted. */
  keys(prefix = ''): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
  }
}
