import { describe, expect, it } from 'vitest';
import { InputError } from '../../../lambda/core/errors.js';
import { parse, parseBrief } from './helpers.js';

describe('parseInputBatches, text', () => {
  const input = [
    '# a list of URLs', // 1
    'https://a.example/1', // 2
    '', // 3
    '   ', // 4
    '  # indented comment', // 5
    '  https://b.example/2  ', // 6
    'not a url', // 7
    'ftp://c.example/3', // 8
    'https://d.example/4\r', // 9 (CRLF)
    'https://e.example/5', // 10, no final newline
  ].join('\n');

  it.each([1, 2, 7, Number.POSITIVE_INFINITY])(
    'yields one event per content line (chunks of %s)',
    async (size) => {
      expect(await parseBrief(input, {}, size)).toEqual([
        [2, 'https://a.example/1'],
        [6, 'https://b.example/2'],
        [7, 'INVALID_URL'],
        [8, 'UNSUPPORTED_SCHEME'],
        [9, 'https://d.example/4'],
        [10, 'https://e.example/5'],
      ]);
    },
  );

  it('reports the offending line as raw, with a message', async () => {
    const events = await parse('not a url\n');
    expect(events).toEqual([
      {
        kind: 'invalid',
        invalid: {
          line: 1,
          code: 'INVALID_URL',
          message: expect.stringMatching(/whitespace/),
          raw: 'not a url',
        },
      },
    ]);
  });

  it('yields items with only line and url', async () => {
    expect(await parse('https://a.example/\n')).toEqual([
      { kind: 'url', item: { line: 1, url: 'https://a.example/' } },
    ]);
  });

  it.each([
    ['empty input', ''],
    ['only blanks', '\n\n  \r\n'],
    ['only comments', '# one\n#two\n'],
  ])('yields nothing for %s', async (_name, text) => {
    expect(await parse(text)).toEqual([]);
  });

  it('strips a UTF-8 BOM on the first line only', async () => {
    const events = await parseBrief('\uFEFFhttps://a.example/\nhttps://b.example/\n');
    expect(events).toEqual([
      [1, 'https://a.example/'],
      [2, 'https://b.example/'],
    ]);
  });
});

describe('parseInputBatches, CSV', () => {
  const csv = [
    '# exported from the crawler', // 1
    'id,URL,name,tag', // 2
    '1,https://a.example/,Alpha,x', // 3
    '"2","https://b.example/?q=a,b","Say ""hi""",', // 4
    '', // 5
    ',https://c.example/,,', // 6
    '4,https://d.example/,too,many,fields', // 7
    '5,"https://e.example/,x,y', // 8
    '6,,empty url,', // 9
    '7,javascript:alert(1),bad,', // 10
  ].join('\n');

  it('reads the header, id and meta columns, and reports bad rows', async () => {
    const events = await parse(csv, { format: 'csv' });
    expect(events).toEqual([
      {
        kind: 'url',
        item: { line: 3, url: 'https://a.example/', id: '1', meta: { name: 'Alpha', tag: 'x' } },
      },
      {
        kind: 'url',
        item: { line: 4, url: 'https://b.example/?q=a,b', id: '2', meta: { name: 'Say "hi"' } },
      },
      { kind: 'url', item: { line: 6, url: 'https://c.example/' } },
      {
        kind: 'invalid',
        invalid: {
          line: 7,
          code: 'INVALID_FIELD',
          message: 'row has 5 fields; the header on line 2 has 4',
          raw: '4,https://d.example/,too,many,fields',
        },
      },
      { kind: 'invalid', invalid: expect.objectContaining({ line: 8, code: 'INVALID_FIELD' }) },
      { kind: 'invalid', invalid: expect.objectContaining({ line: 9, code: 'MISSING_URL' }) },
      { kind: 'invalid', invalid: expect.objectContaining({ line: 10, code: 'UNSUPPORTED_SCHEME' }) },
    ]);
  });

  it('finds the url column case-insensitively and trimmed, with no id column', async () => {
    const events = await parse('name, Url \nA,https://a.example/\n');
    expect(events).toEqual([
      { kind: 'url', item: { line: 2, url: 'https://a.example/', meta: { name: 'A' } } },
    ]);
  });

  it.each([
    ['a header without url', 'id,link\n1,https://a.example/\n', /no url column; found: "id", "link"/],
    ['a header with malformed quoting', '"url,id\n', /cannot be read/],
    ['a header that is not UTF-8', Buffer.from([0x75, 0x72, 0x6c, 0xff, 0x0a]), /not valid UTF-8/],
  ])('throws MISSING_URL_COLUMN for %s', async (_name, input, message) => {
    const error = await parse(input, { format: 'csv' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InputError);
    expect(error).toMatchObject({ code: 'MISSING_URL_COLUMN', message: expect.stringMatching(message) });
  });

  it('throws MISSING_URL_COLUMN for a header longer than maxLineBytes', async () => {
    const input = `url,${'x'.repeat(200)}\nhttps://a.example/,1\n`;
    await expect(parse(input, { format: 'csv', maxLineBytes: 64 })).rejects.toMatchObject({
      code: 'MISSING_URL_COLUMN',
      message: expect.stringMatching(/longer than 64 bytes/),
    });
  });

  it('keeps a column named __proto__ as plain metadata', async () => {
    const [event] = await parse('url,__proto__\nhttps://a.example/,x\n');
    expect(
      event?.kind === 'url' && Object.getOwnPropertyDescriptor(event.item.meta, '__proto__')?.value,
    ).toBe('x');
    expect(Object.getPrototypeOf(event?.kind === 'url' ? event.item.meta : null)).toBe(Object.prototype);
  });

  it('strips a BOM before the header', async () => {
    expect(await parseBrief('\uFEFFurl\nhttps://a.example/\n', { format: 'csv' })).toEqual([
      [2, 'https://a.example/'],
    ]);
  });
});

describe('parseInputBatches, JSONL', () => {
  const jsonl = [
    '{"url":"https://a.example/","id":"a1","meta":{"n":1,"tags":["x"]}}', // 1
    '{"url":"https://b.example/","id":42}', // 2
    '{"url":"https://c.example/","error":{"code":"DNS","message":"nope"},"extra":true}', // 3
    '', // 4
    '{"url":"https://d.example/"', // 5
    '[1,2]', // 6
    'null', // 7
    '"https://e.example/"', // 8
    '{"id":"no-url"}', // 9
    '{"url":42}', // 10
    '{"url":"https://f.example/","id":true}', // 11
    '{"url":"https://g.example/","meta":[1]}', // 12
    '{"url":"https://h.example/","meta":"x"}', // 13
    '{"url":"  "}', // 14
    '{"url":"gopher://i.example/"}', // 15
    '  {"url":" https://j.example/ ", "id": ""}  ', // 16
  ].join('\n');

  it('reads url, id (string or number, kept as string) and meta, ignoring other keys', async () => {
    const events = (await parse(jsonl, { format: 'jsonl' })).filter((e) => e.kind === 'url');
    expect(events.map((e) => e.item)).toEqual([
      { line: 1, url: 'https://a.example/', id: 'a1', meta: { n: 1, tags: ['x'] } },
      { line: 2, url: 'https://b.example/', id: '42' },
      { line: 3, url: 'https://c.example/' },
      { line: 16, url: 'https://j.example/', id: '' },
    ]);
  });

  it.each([
    [5, 'INVALID_JSON', /not valid JSON/],
    [6, 'MISSING_URL', /not a JSON object/],
    [7, 'MISSING_URL', /not a JSON object/],
    [8, 'MISSING_URL', /not a JSON object/],
    [9, 'MISSING_URL', /no url/],
    [10, 'INVALID_FIELD', /^url must be a string/],
    [11, 'INVALID_FIELD', /^id must be/],
    [12, 'INVALID_FIELD', /^meta must be an object/],
    [13, 'INVALID_FIELD', /^meta must be an object/],
    [14, 'MISSING_URL', /empty/],
    [15, 'UNSUPPORTED_SCHEME', /gopher/],
  ])('reports line %i as %s', async (line, code, message) => {
    const events = await parse(jsonl, { format: 'jsonl' });
    const event = events.find((e) => e.kind === 'invalid' && e.invalid.line === line);
    expect(event).toMatchObject({
      kind: 'invalid',
      invalid: { line, code, message: expect.stringMatching(message) },
    });
  });

  it('yields exactly one event per content line', async () => {
    expect(await parse(jsonl, { format: 'jsonl' })).toHaveLength(15);
  });
});
