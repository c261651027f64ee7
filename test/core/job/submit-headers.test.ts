import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseSubmission, RequestError, type SubmitPolicy } from '../../../lambda/core/job/submit.js';
import { OPTION_LIMITS, resolveOptions } from '../../../lambda/core/options.js';

const policy: SubmitPolicy = {
  bucket: 'b',
  defaults: resolveOptions(),
  limits: OPTION_LIMITS,
  allowPrivate: false,
  headerSecretsPrefix: 'fanout/',
};

function refusal(options: unknown): RequestError {
  try {
    parseSubmission(JSON.stringify({ urls: ['https://example.com/'], options }), policy);
  } catch (err) {
    if (err instanceof RequestError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('POST /jobs options.headers', () => {
  it('keeps headers and references as given', () => {
    const headers = {
      Accept: 'application/json',
      Authorization: 'secret:fanout/api-token',
      'X-Key': 'secret:fanout/k',
    };
    const { request } = parseSubmission(
      JSON.stringify({ urls: ['https://example.com/'], options: { headers, sensitiveHeaders: ['X-Key'] } }),
      policy,
    );
    expect(request.options.headers).toEqual(headers);
    expect(request.options.sensitiveHeaders).toEqual(['X-Key']);
  });

  it.each([
    [{ headers: { Host: 'x' } }, 'options.headers: header Host may not be set'],
    [{ headers: { 'Bad Name': 'x' } }, 'options.headers: header name "Bad Name" is not a valid HTTP token'],
    [
      { headers: { 'X-A': 'a\r\nb: c' } },
      'options.headers: header X-A: value must not contain CR, LF or NUL',
    ],
    [{ headers: { 'User-Agent': 'x' } }, 'User-Agent is set by its own option'],
    [{ headers: { Authorization: 'Bearer abc' } }, 'options.headers: header Authorization is sensitive'],
    [
      { headers: { 'X-Key': 'abc' }, sensitiveHeaders: ['x-key'] },
      'options.headers: header X-Key is sensitive',
    ],
    [{ headers: { Authorization: 'env:TOKEN' } }, 'use secret:NAME'],
    [{ headers: { Authorization: 'secret:prod/token' } }, 'only secrets named fanout/*'],
    [{ headers: ['Accept: x'] }, 'options.headers: must be an object'],
  ])('refuses %j with 400 naming it', (options, message) => {
    const err = refusal(options);
    expect(err.status).toBe(400);
    expect(err.message).toContain(message);
    expect(err.message).not.toContain('abc');
  });
});

describe('POST /jobs inline urls with headers', () => {
  const inline = (urls: unknown[], options: object = {}) =>
    parseSubmission(JSON.stringify({ urls, options }), policy);

  it("keeps a URL's headers in the stored list, references only", () => {
    const headers = { 'X-Tenant': 'north', Authorization: 'secret:fanout/north' };
    const { inline: list } = inline([{ url: 'https://example.com/a', headers }, 'https://example.com/b']);
    const lines = gunzipSync(list ?? Buffer.alloc(0))
      .toString('utf8')
      .trim()
      .split('\n');
    expect(lines.map((l) => JSON.parse(l))).toEqual([
      { url: 'https://example.com/a', headers },
      { url: 'https://example.com/b' },
    ]);
  });

  it.each([
    [{ Cookie: 'sid=abc' }, {}, 'urls[0].headers: header Cookie is sensitive'],
    [{ 'X-Key': 'abc' }, { sensitiveHeaders: ['X-Key'] }, 'urls[0].headers: header X-Key is sensitive'],
    [{ Authorization: 'env:TOKEN' }, {}, 'use secret:NAME'],
    [{ Authorization: 'secret:prod/x' }, {}, 'only secrets named fanout/*'],
    [{ Host: 'x' }, {}, 'urls[0].headers: header Host may not be set'],
  ])('refuses %j with 400 before anything is stored', (headers, options, message) => {
    let error: unknown;
    try {
      inline([{ url: 'https://example.com/a', headers }], options);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).status).toBe(400);
    expect((error as RequestError).message).toContain(message);
    expect((error as RequestError).message).not.toContain('abc');
  });
});
