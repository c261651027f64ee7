import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../lambda/core/errors.js';
import { gunzipIfGzipped, openInput } from '../../../lambda/core/input/open-input.js';
import { chunked, collect, inputEvents } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fanout-open-input-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openInput', () => {
  it('streams a file', async () => {
    const path = join(dir, 'urls.txt');
    await writeFile(path, 'https://a.example/\nhttps://b.example/\n');
    const events = await collect(inputEvents(await openInput(path), { filename: path }));
    expect(events.map((e) => e.kind === 'url' && e.item.url)).toEqual([
      'https://a.example/',
      'https://b.example/',
    ]);
  });

  it('streams a gzipped file', async () => {
    const path = join(dir, 'urls.jsonl.gz');
    await writeFile(path, gzipSync('{"url":"https://a.example/","id":1}\n'));
    const events = await collect(inputEvents(await openInput(path), { filename: path }));
    expect(events).toEqual([{ kind: 'url', item: { line: 1, url: 'https://a.example/', id: '1' } }]);
  });

  it('reads a file longer than one read whole and in order, and closes it when the reader stops early', async () => {
    const path = join(dir, 'long.txt');
    const lines = Array.from({ length: 40_000 }, (_, i) => `https://h${i % 7}.example/${i}`);
    await writeFile(path, `${lines.join('\n')}\n`);
    const events = await collect(inputEvents(await openInput(path), { filename: path }));
    expect(events.map((e) => e.kind === 'url' && e.item.url)).toEqual(lines);

    // The process's open descriptors (Linux and macOS both list them under /dev/fd).
    const fds = () => readdirSync('/dev/fd').length;
    const before = fds();
    for await (const chunk of await openInput(path)) {
      expect(chunk.length).toBeGreaterThan(0);
      expect(fds()).toBe(before + 1);
      break;
    }
    expect(fds()).toBe(before);
  });

  it("returns stdin for '-'", async () => {
    expect(await openInput('-')).toBe(process.stdin);
  });

  it.each([
    ['a missing file', () => join(dir, 'nope.txt'), /nope\.txt: ENOENT: no such file or directory/],
    ['a directory', () => dir, /it is a directory/],
  ])('throws INPUT_UNREADABLE for %s, naming the path', async (_name, path, message) => {
    const error = await openInput(path()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ code: 'INPUT_UNREADABLE', message: expect.stringMatching(message) });
    expect((error as Error).message).toContain(path());
  });
});

describe('gunzipIfGzipped', () => {
  it.each([
    ['empty input', ''],
    ['one byte that starts like gzip', Buffer.from([0x1f])],
    ['plain text', 'hello\nworld\n'],
  ])('passes %s through unchanged, even in 1-byte chunks', async (_name, data) => {
    const expected = Buffer.from(data);
    expect(Buffer.concat(await collect(gunzipIfGzipped(chunked(data, 1))))).toEqual(expected);
    expect(Buffer.concat(await collect(gunzipIfGzipped(chunked(data))))).toEqual(expected);
  });

  it('gunzips when the magic bytes span two chunks', async () => {
    const out = await collect(gunzipIfGzipped(chunked(gzipSync('hello\n'), 1)));
    expect(Buffer.concat(out).toString()).toBe('hello\n');
  });
});

describe('openInput from an offset', () => {
  it('reads a file from the byte given on, and refuses an offset on stdin', async () => {
    const path = join(dir, 'offset.txt');
    await writeFile(path, 'https://a.example/\r\nhttps://b.example/\n');
    expect(Buffer.concat(await collect(await openInput(path, 20))).toString()).toBe('https://b.example/\n');
    await expect(openInput('-', 20)).rejects.toMatchObject({ code: 'INPUT_UNREADABLE' });
  });
});
