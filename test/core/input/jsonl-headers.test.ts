import { describe, expect, it } from 'vitest';
import { jsonlRowEvent } from '../../../lambda/core/input/jsonl-rows.js';

const event = (row: unknown, sensitive: string[] = []) =>
  jsonlRowEvent(7, JSON.stringify(row), 8192, sensitive);

describe('a JSONL line with headers', () => {
  it('carries them on the item', () => {
    const headers = { Accept: 'application/json', Authorization: 'env:TOKEN' };
    expect(event({ url: 'https://example.com/a', headers })).toEqual({
      kind: 'url',
      item: { line: 7, url: 'https://example.com/a', headers },
    });
  });

  it.each([
    [{ 'Bad Name': 'x' }, [], 'headers: header name "Bad Name" is not a valid HTTP token'],
    [{ Host: 'x' }, [], 'headers: header Host may not be set'],
    [{ 'X-A': 'a\nb' }, [], 'headers: header X-A: value must not contain CR, LF or NUL'],
    [{ Cookie: 'sid=hunter2' }, [], 'headers: header Cookie is sensitive'],
    [{ 'X-Key': 'hunter2' }, ['x-key'], 'headers: header X-Key is sensitive'],
    ['Accept: x', [], 'headers: must be an object'],
  ])('%j is INVALID_FIELD naming the header, its values left out', (headers, sensitive, message) => {
    const got = event({ url: 'https://example.com/a', headers }, sensitive);
    expect(got).toMatchObject({
      kind: 'invalid',
      invalid: { line: 7, code: 'INVALID_FIELD', message: expect.stringContaining(message) },
    });
    expect(JSON.stringify(got)).not.toContain('hunter2');
  });

  it('keeps references in the raw text of a line turned down for another reason', () => {
    const got = event({ url: 'ftp://example.com/', headers: { Authorization: 'env:T', Cookie: 'hunter2' } });
    expect(got.kind).toBe('invalid');
    const raw = got.kind === 'invalid' ? got.invalid.raw : '';
    expect(JSON.parse(raw).headers).toEqual({ Authorization: 'env:T', Cookie: '[redacted]' });
  });
});
