import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../../../lambda/core/errors.js';
import { type InputFormat, parseInputBatches } from '../../../lambda/core/input/parse-input.js';
import { chunked, collect, parse, parseBrief } from './helpers.js';

describe('parseInputBatches, choosing the format', () => {
  const text = 'https://a.example/\nnot-a-url\n';
  const csv = 'url,id\nhttps://a.example/,1\n';
  const jsonl = '{"url":"https://a.example/"}\n';

  it.each([
    [
      'text by sniffing',
      text,
      {},
      [
        [1, 'https://a.example/'],
        [2, 'INVALID_URL'],
      ],
    ],
    ['csv by sniffing a url header', csv, {}, [[2, 'https://a.example/']]],
    ['csv by sniffing after comments and blanks', `# c\n\n${csv}`, {}, [[4, 'https://a.example/']]],
    [
      'csv by sniffing a quoted header',
      '"id","url"\n1,https://a.example/\n',
      {},
      [[2, 'https://a.example/']],
    ],
    ['jsonl by sniffing a brace', jsonl, {}, [[1, 'https://a.example/']]],
    ['jsonl by sniffing an indented brace', `  ${jsonl}`, {}, [[1, 'https://a.example/']]],
    [
      'text: a header-less comma line is not csv',
      'https://a.example/?a=1,2\n',
      {},
      [[1, 'https://a.example/?a=1,2']],
    ],
    [
      'text by .txt, despite a url header',
      csv,
      { filename: 'list.txt' },
      [
        [1, 'INVALID_URL'],
        [2, 'https://a.example/,1'],
      ],
    ],
    ['csv by .csv.gz', csv, { filename: 'in/list.CSV.gz' }, [[2, 'https://a.example/']]],
    ['jsonl by .ndjson', jsonl, { filename: 'x.ndjson' }, [[1, 'https://a.example/']]],
    ['jsonl by .json-lines', jsonl, { filename: 'x.json-lines' }, [[1, 'https://a.example/']]],
    [
      'jsonl by .jsonl, for a text body',
      text,
      { filename: 'x.jsonl' },
      [
        [1, 'INVALID_JSON'],
        [2, 'INVALID_JSON'],
      ],
    ],
    ['sniffing for an unknown extension', csv, { filename: 'x.dat' }, [[2, 'https://a.example/']]],
    [
      'explicit format over the extension',
      text,
      { format: 'text', filename: 'x.jsonl' },
      [
        [1, 'https://a.example/'],
        [2, 'INVALID_URL'],
      ],
    ],
    ['explicit auto uses the extension', jsonl, { format: 'auto', filename: 'x.txt' }, [[1, 'INVALID_URL']]],
  ] as const)('%s', async (_name, input, options, expected) => {
    expect(await parseBrief(input, options)).toEqual(expected);
  });

  it('sniffs past invalid first lines without throwing', async () => {
    const input = Buffer.concat([Buffer.from([0xff, 0x0a]), Buffer.from(csv)]);
    expect(await parseBrief(input)).toEqual([
      [1, 'INVALID_ENCODING'],
      [3, 'https://a.example/'],
    ]);
  });

  it.each(['xml', 'TEXT'])('rejects format %j before reading', async (format) => {
    await expect(parse('', { format: format as InputFormat })).rejects.toBeInstanceOf(InvalidOptionError);
  });

  it.each([
    ['maxLineBytes', 0],
    ['maxUrlLength', -5],
    ['maxLineBytes', 2.5],
  ])('rejects %s = %s', async (option, value) => {
    await expect(parse('', { [option]: value })).rejects.toMatchObject({ code: 'INVALID_OPTION', option });
  });
});

describe('parseInputBatches, dedupe', () => {
  const input =
    'https://a.example/\nhttps://b.example/\n https://a.example/ \nhttps://A.example/\nhttps://a.example/\n';

  it.each([
    [
      false,
      [
        [1, 'https://a.example/'],
        [2, 'https://b.example/'],
        [3, 'https://a.example/'],
        [4, 'https://A.example/'],
        [5, 'https://a.example/'],
      ],
    ],
    [
      true,
      [
        [1, 'https://a.example/'],
        [2, 'https://b.example/'],
        [3, 'DUPLICATE'],
        [4, 'https://A.example/'],
        [5, 'DUPLICATE'],
      ],
    ],
  ] as const)('dedupe %s', async (dedupe, expected) => {
    expect(await parseBrief(input, { dedupe })).toEqual(expected);
  });

  it('names the first line in the message', async () => {
    const events = await parse(input, { dedupe: true });
    expect(events[2]).toMatchObject({
      invalid: { code: 'DUPLICATE', message: 'duplicate of the URL on line 1' },
    });
  });

  it('compares URLs across formats after trimming (csv)', async () => {
    const csv = 'url,id\nhttps://a.example/,1\n" https://a.example/",2\n';
    expect(await parseBrief(csv, { dedupe: true })).toEqual([
      [2, 'https://a.example/'],
      [3, 'DUPLICATE'],
    ]);
  });
});

describe('parseInputBatches, stopping early', () => {
  it('releases the source when the consumer breaks off', async () => {
    let released = false;
    async function* source() {
      try {
        yield* chunked('https://a.example/\nhttps://b.example/\n', 5);
      } finally {
        released = true;
      }
    }
    for await (const _batch of parseInputBatches(source())) break;
    expect(released).toBe(true);
  });

  it('yields a batch per chunk read, not one per line', async () => {
    const batches = await collect(parseInputBatches(chunked('https://a.example/\nhttps://b.example/\n')));
    expect(batches.map((b) => b.events.length)).toEqual([2]);
  });
});

describe('parseInputBatches from a line offset (a resumed read)', () => {
  const csv = 'name,url\r\na,https://a.example/\r\nb,https://b.example/\r\nc,https://c.example/\r\n';

  it('reads on with the CSV header the earlier lines gave, numbering lines from there', async () => {
    const all = await collect(parseInputBatches(chunked(csv, 7), { filename: 'l.csv' }));
    const ends = all.flatMap((b) => b.ends);
    const soFar = all[0]?.soFar;
    expect(soFar).toMatchObject({ format: 'csv', header: { urlIndex: 1, metaColumns: [[0, 'name']] } });
    const from = { offset: ends[0]!, line: 2, ...soFar! };
    const rest = await collect(
      parseInputBatches(chunked(Buffer.from(csv).subarray(from.offset), 5), { from }),
    );
    expect(rest.flatMap((b) => b.events)).toEqual(all.flatMap((b) => b.events).slice(1));
    expect(rest.flatMap((b) => b.ends)).toEqual(ends.slice(1));
    expect(rest.every((b) => b.plain)).toBe(true);
  });

  it('a gzipped input says so: its offsets cannot start a ranged read', async () => {
    const batches = await collect(parseInputBatches(chunked(gzipSync('https://a.example/\n'))));
    expect(batches.map((b) => b.plain)).toEqual([false]);
  });

  it('from an offset, bytes that look like gzip or binary are lines, not a whole-input verdict', async () => {
    const tail = Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('\nhttps://a.example/\n')]);
    const from = { offset: 100, line: 9, format: 'text' as const };
    const events = (await collect(parseInputBatches(chunked(tail), { from }))).flatMap((b) => b.events);
    expect(
      events.map((e) => (e.kind === 'url' ? [e.item.line, e.item.url] : [e.invalid.line, e.invalid.code])),
    ).toEqual([
      [10, 'INVALID_ENCODING'],
      [11, 'https://a.example/'],
    ]);
  });
});
