import { describe, expect, it } from 'vitest';
import { FetchError } from '../../../lambda/core/errors.js';
import { toFetchError } from '../../../lambda/core/fetch/error-map.js';

const withCode = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('toFetchError', () => {
  it.each([
    ['UND_ERR_CONNECT_TIMEOUT', 'CONNECT_TIMEOUT', true],
    ['UND_ERR_HEADERS_TIMEOUT', 'HEADERS_TIMEOUT', true],
    ['UND_ERR_BODY_TIMEOUT', 'BODY_TIMEOUT', true],
    ['ECONNREFUSED', 'CONNECTION_REFUSED', true],
    ['ECONNRESET', 'CONNECTION_RESET', true],
    ['UND_ERR_SOCKET', 'CONNECTION_RESET', true],
    ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', 'CONNECTION_RESET', true],
    ['HPE_INVALID_EOF_STATE', 'CONNECTION_RESET', true],
    ['EMFILE', 'RESOURCE_EXHAUSTED', true],
    ['ENFILE', 'RESOURCE_EXHAUSTED', true],
    ['ENOBUFS', 'RESOURCE_EXHAUSTED', true],
    ['EAI_AGAIN', 'DNS', true],
    ['ENOTFOUND', 'DNS', false],
    ['HPE_INVALID_CHUNK_SIZE', 'PROTOCOL', false],
    ['UND_ERR_HEADERS_OVERFLOW', 'PROTOCOL', false],
    ['Z_DATA_ERROR', 'DECODE', false],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'TLS', false],
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'TLS', false],
    ['SOMETHING_NEW', 'INTERNAL', false],
  ])('%s → %s (retryable %s)', (code, expected, retryable) => {
    const err = toFetchError(withCode(code), 'http://x/');
    expect(err).toBeInstanceOf(FetchError);
    expect(err.code).toBe(expected);
    expect(err.retryable).toBe(retryable);
    expect(err.url).toBe('http://x/');
  });

  it('a parser error without a code that says the socket ended mid-message is a cut-off', () => {
    const err = Object.assign(
      new Error('Response does not match the HTTP/1.1 protocol (Invalid EOF state)'),
      {
        name: 'HTTPParserError',
      },
    );
    expect(toFetchError(err)).toMatchObject({ code: 'CONNECTION_RESET', retryable: true });
  });

  it('passes FetchErrors through', () => {
    const original = new FetchError('BLOCKED_ADDRESS', 'no');
    expect(toFetchError(original)).toBe(original);
  });

  it('reads the first error of an AggregateError (autoSelectFamily)', () => {
    expect(toFetchError(new AggregateError([withCode('ECONNREFUSED')])).code).toBe('CONNECTION_REFUSED');
  });

  it('looks inside cause', () => {
    expect(toFetchError(new Error('fetch failed', { cause: withCode('ECONNRESET') })).code).toBe(
      'CONNECTION_RESET',
    );
  });

  it('never throws on odd values', () => {
    expect(toFetchError('a string').code).toBe('INTERNAL');
    expect(toFetchError(null).code).toBe('INTERNAL');
  });
});
