import { describe, expect, it } from 'vitest';
import { type Line, LineSplitter, readLines } from '../../../lambda/core/input/line-reader.js';
import { chunked, collect } from './helpers.js';

type Row = [number, string, boolean];
const rows = (lines: Line[]): Row[] => lines.map((l) => [l.number, l.bytes.toString('latin1'), l.overflow]);

const x = (n: number) => 'x'.repeat(n);

// maxLineBytes is 10 throughout this table.
const cases: [string, string, Row[]][] = [
  ['empty input', '', []],
  [
    'LF lines',
    'a\nb\n',
    [
      [1, 'a', false],
      [2, 'b', false],
    ],
  ],
  [
    'CRLF lines',
    'a\r\nb\r\n',
    [
      [1, 'a', false],
      [2, 'b', false],
    ],
  ],
  [
    'mixed endings',
    'a\r\nb\nc\r\n',
    [
      [1, 'a', false],
      [2, 'b', false],
      [3, 'c', false],
    ],
  ],
  [
    'no final newline',
    'a\nlast',
    [
      [1, 'a', false],
      [2, 'last', false],
    ],
  ],
  [
    'no final newline after CR',
    'a\nlast\r',
    [
      [1, 'a', false],
      [2, 'last', false],
    ],
  ],
  [
    'only newlines',
    '\n\n',
    [
      [1, '', false],
      [2, '', false],
    ],
  ],
  ['single CRLF', '\r\n', [[1, '', false]]],
  [
    'empty lines between',
    'a\n\n\r\nb',
    [
      [1, 'a', false],
      [2, '', false],
      [3, '', false],
      [4, 'b', false],
    ],
  ],
  ['bare CR is not a line end', 'a\rb\n', [[1, 'a\rb', false]]],
  ['exactly the limit', `${x(10)}\n`, [[1, x(10), false]]],
  [
    'exactly the limit with CRLF',
    `${x(10)}\r\nz`,
    [
      [1, x(10), false],
      [2, 'z', false],
    ],
  ],
  [
    'one over the limit',
    `${x(11)}\nz`,
    [
      [1, x(10), true],
      [2, 'z', false],
    ],
  ],
  [
    'one over the limit with CRLF',
    `${x(11)}\r\nz`,
    [
      [1, x(10), true],
      [2, 'z', false],
    ],
  ],
  ['limit then CR then text', `${x(10)}\ry\n`, [[1, x(10), true]]],
  [
    'far over the limit',
    `a\n${x(1000)}\nb\n`,
    [
      [1, 'a', false],
      [2, x(10), true],
      [3, 'b', false],
    ],
  ],
  [
    'overflow at end of input',
    `a\n${x(50)}`,
    [
      [1, 'a', false],
      [2, x(10), true],
    ],
  ],
  [
    'two overflows in a row',
    `${x(20)}\n${'y'.repeat(30)}\n`,
    [
      [1, x(10), true],
      [2, 'y'.repeat(10), true],
    ],
  ],
];

describe.each([
  ['one chunk', Number.POSITIVE_INFINITY],
  ['1-byte chunks', 1],
  ['3-byte chunks', 3],
  ['11-byte chunks', 11],
])('readLines, %s', (_name, size) => {
  it.each(cases)('%s', async (_case, input, expected) => {
    expect(rows(await collect(readLines(chunked(input, size), 10)))).toEqual(expected);
  });
});

describe('readLines', () => {
  it('accepts plain Uint8Array chunks', async () => {
    async function* source() {
      yield new TextEncoder().encode('ab');
      yield new TextEncoder().encode('c\nd');
    }
    expect(rows(await collect(readLines(source(), 10)))).toEqual([
      [1, 'abc', false],
      [2, 'd', false],
    ]);
  });

  it('copies a carried partial line, so a source may reuse its buffer', async () => {
    async function* source() {
      const buf = Buffer.from('ab');
      yield buf;
      buf.write('c\n');
      yield buf;
    }
    expect(rows(await collect(readLines(source(), 10)))).toEqual([[1, 'abc', false]]);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects maxLineBytes %s', (max) => {
    expect(() => new LineSplitter(max)).toThrow(RangeError);
  });

  it('reads a 10 MB single line in 64 KiB of memory: one cut line, the rest skipped', async () => {
    const max = 64 * 1024;
    const total = 10 * 1024 * 1024;
    // One reused chunk buffer: any growth in arrayBuffers would be the reader's own.
    const chunk = Buffer.alloc(64 * 1024, 'x');
    async function* source() {
      yield Buffer.from('https://a.example/\n');
      for (let sent = 0; sent < total; sent += chunk.length) yield chunk;
      yield Buffer.from('\nhttps://b.example/\n');
    }
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const lines: Line[] = [];
    for await (const line of readLines(source(), max)) {
      lines.push(line);
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }
    const after = process.memoryUsage().arrayBuffers;
    expect(lines.map((l) => [l.number, l.bytes.length, l.overflow])).toEqual([
      [1, 18, false],
      [2, max, true],
      [3, 18, false],
    ]);
    expect(lines[1]!.bytes.every((b) => b === 0x78)).toBe(true);
    expect(Math.max(peak, after) - before).toBeLessThan(2 * 1024 * 1024);
  });
});

describe('LineSplitter', () => {
  it('returns the lines each chunk completes, and the last one on end()', () => {
    const splitter = new LineSplitter(10);
    expect(rows(splitter.push(Buffer.from('a\nb')))).toEqual([[1, 'a', false]]);
    expect(rows(splitter.push(Buffer.from('c\r')))).toEqual([]);
    expect(rows(splitter.push(Buffer.from('\nd')))).toEqual([[2, 'bc', false]]);
    expect(rows(splitter.end())).toEqual([[3, 'd', false]]);
  });
});

describe('line ends: the offset where the next line starts', () => {
  // Every byte counts: CRLF, a cut line's dropped tail, a BOM, a last line without newline.
  const input = `\uFEFFa\r\n${x(25)}\r\n\nbc\n${x(12)}\r\nlast`;
  const starts = [0];
  for (let at = input.indexOf('\n'); at !== -1; at = input.indexOf('\n', at + 1))
    starts.push(Buffer.byteLength(input.slice(0, at + 1)));
  const total = Buffer.byteLength(input);

  it.each([1, 2, 3, 7, 64])('in chunks of %i bytes, each line ends where the next starts', async (size) => {
    const lines = await collect(readLines(chunked(input, size), 10));
    expect(lines.map((l) => l.end)).toEqual([...starts.slice(1), total]);
    expect(lines.map((l) => l.overflow)).toEqual([false, true, false, false, true, false]);
  });

  it('a splitter started at a line offset numbers and measures on from there', async () => {
    const from = starts[3]!;
    const splitter = new LineSplitter(10, { offset: from, line: 3 });
    const lines = [...splitter.push(Buffer.from(input).subarray(from)), ...splitter.end()];
    expect(lines.map((l) => [l.number, l.end])).toEqual([
      [4, starts[4]],
      [5, starts[5]],
      [6, total],
    ]);
  });
});
