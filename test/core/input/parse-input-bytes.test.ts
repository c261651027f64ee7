import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../lambda/core/errors.js';
import { parseInputBatches } from '../../../lambda/core/input/parse-input.js';
import { chunked, collect, garbage, gzipMembers, inputEvents, parse, parseBrief } from './helpers.js';

const formats = {
  text: {
    input: '# urls\nhttps://a.example/1\n\nbad url\r\nhttps://b.example/2',
    expected: [
      [2, 'https://a.example/1'],
      [4, 'INVALID_URL'],
      [5, 'https://b.example/2'],
    ],
  },
  csv: {
    input: 'url,id,note\nhttps://a.example/1,1,"x, y"\n\nhttps://b.example/2,2\nhttps://c.example/3,3,z\n',
    expected: [
      [2, 'https://a.example/1'],
      [4, 'INVALID_FIELD'],
      [5, 'https://c.example/3'],
    ],
  },
  jsonl: {
    input: '{"url":"https://a.example/1","meta":{"k":"v"}}\n{oops\n\n{"url":"https://b.example/2","id":7}\n',
    expected: [
      [1, 'https://a.example/1'],
      [2, 'INVALID_JSON'],
      [4, 'https://b.example/2'],
    ],
  },
} as const;

describe.each(Object.entries(formats))('parseInputBatches, gzip, %s', (format, { input, expected }) => {
  it.each([
    ['plain', Buffer.from(input)],
    ['one gzip member', gzipSync(input)],
    ['three concatenated gzip members', gzipMembers(input, 3)],
  ])('%s, whole and in 1-byte chunks', async (_name, bytes) => {
    const plain = await parse(input);
    expect(await parse(bytes)).toEqual(plain);
    expect(await parseBrief(bytes, {}, 1)).toEqual(expected);
  });

  it('detects gzip by content, not by name', async () => {
    expect(
      await parseBrief(gzipSync(input), { filename: `list.${format === 'text' ? 'txt' : format}` }),
    ).toEqual(expected);
    expect(await parseBrief(input, { filename: `list.${format === 'text' ? 'txt' : format}.gz` })).toEqual(
      expected,
    );
  });
});

describe('parseInputBatches, corrupt gzip', () => {
  const good = gzipSync('https://a.example/\n'.repeat(1000));
  it.each([
    ['truncated', good.subarray(0, good.length - 20)],
    ['garbage after the magic bytes', Buffer.concat([Buffer.from([0x1f, 0x8b]), garbage(500, 1)])],
    ['a corrupted body', Buffer.concat([good.subarray(0, 20), Buffer.alloc(40, 0xaa), good.subarray(60)])],
  ])('throws INPUT_UNREADABLE for %s', async (_name, bytes) => {
    const error = await parse(bytes, {}, 7).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ code: 'INPUT_UNREADABLE', message: expect.stringMatching(/gzip/) });
  });

  it('releases the source when a gzip stream breaks', async () => {
    let released = false;
    async function* source() {
      try {
        yield* chunked(Buffer.concat([Buffer.from([0x1f, 0x8b]), garbage(5000, 2)]), 100);
      } finally {
        released = true;
      }
    }
    await expect(collect(inputEvents(source()))).rejects.toBeInstanceOf(InputError);
    expect(released).toBe(true);
  });
});

describe('parseInputBatches, bad bytes', () => {
  const bad = (...parts: (string | number[])[]) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

  it.each([
    ['a lone continuation byte', [0x80]],
    ['an invalid lead byte', [0xff]],
    ['a truncated sequence', [0xe2, 0x82]],
    ['an overlong encoding', [0xc0, 0xaf]],
    ['a UTF-16 surrogate', [0xed, 0xa0, 0x80]],
  ])('reports %s as INVALID_ENCODING, keeping line numbers', async (_name, bytes) => {
    const input = bad('https://a.example/\n', 'https://b.example/', bytes, '\n', 'https://c.example/\n');
    const events = await parse(input);
    expect(
      events.map((e) => (e.kind === 'url' ? [e.item.line, e.item.url] : [e.invalid.line, e.invalid.code])),
    ).toEqual([
      [1, 'https://a.example/'],
      [2, 'INVALID_ENCODING'],
      [3, 'https://c.example/'],
    ]);
    expect(events[1]).toMatchObject({
      invalid: { raw: expect.stringMatching(/^https:\/\/b\.example\/\uFFFD/) },
    });
  });

  it.each([1, 2, 3, 4, 5])(
    'turns binary garbage after a text start into invalid events, never a throw (seed %i)',
    async (seed) => {
      const start = 'https://a.example/\n'.repeat(500); // past the 8 KiB the binary check reads
      const bytes = Buffer.concat([Buffer.from(start), garbage(64 * 1024, seed)]);
      const events = (await parse(bytes, {}, 4096)).slice(500);
      expect(events.length).toBeGreaterThan(100);
      expect(events.every((e) => e.kind === 'invalid')).toBe(true);
      const lines = events.map((e) => (e.kind === 'invalid' ? e.invalid.line : 0));
      expect(lines).toEqual([...lines].sort((a, b) => a - b));
      expect(new Set(lines).size).toBe(lines.length);
      const newlines = bytes.filter((b) => b === 0x0a).length;
      expect(lines.at(-1)).toBeLessThanOrEqual(newlines + 1);
    },
  );

  it('treats control-character lines as invalid', async () => {
    expect(await parseBrief('\u0002\u0003\nhttps://a.example/\u0001\n\u0007\n')).toEqual([
      [1, 'INVALID_URL'],
      [2, 'INVALID_URL'],
      [3, 'INVALID_URL'],
    ]);
  });
});

describe('parseInputBatches, binary input', () => {
  const PNG = Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]),
    Buffer.from('IHDR'),
    garbage(2000, 9),
  ]);
  const noNul = (bytes: Buffer) => Buffer.from(bytes.map((b) => (b === 0 ? 1 : b)));

  it.each<[string, Buffer, RegExp]>([
    ['a PNG', PNG, /a NUL byte at byte 8/],
    ['random bytes', garbage(64 * 1024, 1), /looks binary \(a NUL byte at byte \d+\)/],
    [
      'random bytes without a NUL',
      noNul(garbage(4000, 2)),
      /control characters and bytes that are not UTF-8/,
    ],
    [
      'a NUL after some URLs',
      Buffer.from('https://a.example/\nhttps://b.example/\n\0\n'),
      /a NUL byte at byte 38/,
    ],
    ['UTF-16 text', Buffer.from('\uFEFFhttps://a.example/\n', 'utf16le'), /UTF-16 text; save it as UTF-8/],
    ['gzipped random bytes', gzipSync(garbage(20_000, 3)), /looks binary/],
  ])('%s is refused as a whole: INPUT_UNREADABLE naming the input', async (_name, bytes, reason) => {
    for (const size of [1000, Number.POSITIVE_INFINITY]) {
      const batches = parseInputBatches(chunked(bytes, size), { filename: 'data/list.bin' });
      const error = await batches.next().then(
        () => null,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(InputError);
      expect(error).toMatchObject({
        code: 'INPUT_UNREADABLE',
        message: expect.stringMatching(/^data\/list\.bin is not a URL list: .*fanout reads UTF-8 text/),
      });
      expect((error as Error).message).toMatch(reason);
    }
  });

  it('keeps a text list with a Latin-1 line: one INVALID_ENCODING line, not a binary file', async () => {
    const latin1 = Buffer.concat([
      Buffer.from('https://a.example/caf'),
      Buffer.from([0xe9]),
      Buffer.from('\n'),
    ]);
    expect(await parseBrief(Buffer.concat([latin1, Buffer.from('https://b.example/\n')]))).toEqual([
      [1, 'INVALID_ENCODING'],
      [2, 'https://b.example/'],
    ]);
  });

  it('cuts no multi-byte character at the end of the window into a false alarm', async () => {
    const head = 'https://a.example/\u0001\n'.repeat(400); // 8000 bytes with control characters
    const last = `https://b.example/${'a'.repeat(8191 - 8000 - 18)}é\n`; // é's 2 bytes straddle byte 8192
    expect(Buffer.byteLength(head + last)).toBe(8194);
    const events = await parse(head + last, {}, 333);
    expect(events).toHaveLength(401);
    expect(events.at(-1)).toMatchObject({ kind: 'url', item: { line: 401 } });
  });
});

describe('parseInputBatches, long lines and raw text', () => {
  it('reports a line over maxLineBytes once, skips a long comment, and keeps counting', async () => {
    const input = `https://a.example/\n${'x'.repeat(5000)}\n# ${'c'.repeat(5000)}\nhttps://b.example/\n`;
    const events = await parse(input, { maxLineBytes: 1024 }, 100);
    expect(events.map((e) => (e.kind === 'url' ? e.item.line : [e.invalid.line, e.invalid.code]))).toEqual([
      1,
      [2, 'LINE_TOO_LONG'],
      4,
    ]);
    expect(events[1]).toMatchObject({
      invalid: { message: 'line is longer than 1024 bytes', raw: 'x'.repeat(200) },
    });
  });

  it('reports URL_TOO_LONG by maxUrlLength', async () => {
    const url = `https://a.example/${'p'.repeat(100)}`;
    expect(await parseBrief(`${url}\n`, { maxUrlLength: 50 })).toEqual([[1, 'URL_TOO_LONG']]);
    expect(await parseBrief(`${url}\n`)).toEqual([[1, url]]);
  });

  it('cuts raw to 200 characters without splitting a surrogate pair', async () => {
    const events = await parse(`${'a'.repeat(199)}😀${'b'.repeat(300)}\n${'c'.repeat(300)}\n`);
    const raws = events.map((e) => (e.kind === 'invalid' ? e.invalid.raw : ''));
    expect(raws[0]).toBe('a'.repeat(199));
    expect(raws[1]).toBe('c'.repeat(200));
  });

  it('keeps line numbers right across every kind of line', async () => {
    const input = Buffer.concat([
      Buffer.from('\uFEFF# header comment\r\n'), // 1
      Buffer.from('id,url\r\n'), // 2 header
      Buffer.from('\r\n'), // 3 blank
      Buffer.from('1,https://a.example/\r\n'), // 4
      Buffer.from([0x32, 0x2c, 0xff, 0x0a]), // 5 bad UTF-8
      Buffer.from(`3,https://b.example/${'z'.repeat(300)}\n`), // 6 too long
      Buffer.from('   # indented comment\n'), // 7
      Buffer.from('4,"https://c.example/?a=1,2"\n'), // 8
      Buffer.from('5,https://a.example/\n'), // 9 duplicate
      Buffer.from('6,"broken\n'), // 10
      Buffer.from('7,https://d.example/'), // 11, no newline
    ]);
    for (const size of [1, 13, Number.POSITIVE_INFINITY]) {
      expect(await parseBrief(gzipMembers(input, 2), { dedupe: true, maxLineBytes: 256 }, size)).toEqual([
        [4, 'https://a.example/'],
        [5, 'INVALID_ENCODING'],
        [6, 'LINE_TOO_LONG'],
        [8, 'https://c.example/?a=1,2'],
        [9, 'DUPLICATE'],
        [10, 'INVALID_FIELD'],
        [11, 'https://d.example/'],
      ]);
    }
  });
});
