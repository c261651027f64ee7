import { gzipSync } from 'node:zlib';
import type { InputEvent } from '../../../lambda/core/input/input-event.js';
import { type ParseInputOptions, parseInputBatches } from '../../../lambda/core/input/parse-input.js';

/** Yields `data` in chunks of `size` bytes (Infinity: one chunk). */
export async function* chunked(
  data: string | Uint8Array,
  size = Number.POSITIVE_INFINITY,
): AsyncGenerator<Uint8Array> {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  const step = Math.max(1, Math.min(size, bytes.length));
  for (let i = 0; i < bytes.length; i += step) yield bytes.subarray(i, i + step);
}

/** Every event of an input, one at a time: the batches dispatch reads (parseInputBatches), flattened. */
export async function* inputEvents(
  source: AsyncIterable<Uint8Array>,
  options?: ParseInputOptions,
): AsyncGenerator<InputEvent> {
  for await (const batch of parseInputBatches(source, options)) yield* batch.events;
}

/** Drains an async iterable into an array. */
export async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

/** A compact, comparable view of an event: [line, url] or [line, code]. */
export type Brief = [number, string];

export function brief(event: InputEvent): Brief {
  return event.kind === 'url' ? [event.item.line, event.item.url] : [event.invalid.line, event.invalid.code];
}

/** Parses `data` (fed in `chunkSize` pieces) and returns every event. */
export function parse(data: string | Uint8Array, options?: ParseInputOptions, chunkSize?: number) {
  return collect(inputEvents(chunked(data, chunkSize), options));
}

/** Parses and returns the brief form of every event. */
export async function parseBrief(data: string | Uint8Array, options?: ParseInputOptions, chunkSize?: number) {
  return (await parse(data, options, chunkSize)).map(brief);
}

/** `data` as `members` concatenated gzip members (as `cat a.gz b.gz` makes), cut mid-line. */
export function gzipMembers(data: string | Uint8Array, members: number): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
  const per = Math.ceil(bytes.length / members);
  const parts: Buffer[] = [];
  for (let i = 0; i < members; i++) parts.push(gzipSync(bytes.subarray(i * per, (i + 1) * per)));
  return Buffer.concat(parts);
}

/** Deterministic pseudo-random bytes (mulberry32), so garbage tests are repeatable. */
export function garbage(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let a = seed;
  for (let i = 0; i < length; i++) {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = ((t ^ (t >>> 14)) >>> 0) & 0xff;
  }
  return out;
}
