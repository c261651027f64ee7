import { FetchError, type FetchErrorCode } from '../errors.js';

/** Node/undici error codes → fanout code and whether another attempt may help. */
const BY_CODE: Record<string, [FetchErrorCode, boolean]> = {
  UND_ERR_CONNECT_TIMEOUT: ['CONNECT_TIMEOUT', true],
  ETIMEDOUT: ['CONNECT_TIMEOUT', true],
  UND_ERR_HEADERS_TIMEOUT: ['HEADERS_TIMEOUT', true],
  UND_ERR_BODY_TIMEOUT: ['BODY_TIMEOUT', true],
  ECONNREFUSED: ['CONNECTION_REFUSED', true],
  ECONNRESET: ['CONNECTION_RESET', true],
  EPIPE: ['CONNECTION_RESET', true],
  UND_ERR_SOCKET: ['CONNECTION_RESET', true],
  UND_ERR_CLOSED: ['CONNECTION_RESET', true],
  // A response with Connection: close whose socket ends before its Content-Length is complete.
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: ['CONNECTION_RESET', true],
  ECONNABORTED: ['CONNECTION_RESET', true],
  EHOSTUNREACH: ['NETWORK', true],
  ENETUNREACH: ['NETWORK', true],
  EHOSTDOWN: ['NETWORK', true],
  ENETDOWN: ['NETWORK', true],
  EADDRNOTAVAIL: ['RESOURCE_EXHAUSTED', true],
  EMFILE: ['RESOURCE_EXHAUSTED', true],
  ENFILE: ['RESOURCE_EXHAUSTED', true],
  ENOBUFS: ['RESOURCE_EXHAUSTED', true],
  ENOMEM: ['RESOURCE_EXHAUSTED', true],
  EAI_AGAIN: ['DNS', true],
  ENOTFOUND: ['DNS', false],
  ENODATA: ['DNS', false],
  UND_ERR_RES_EXCEEDED_MAX_SIZE: ['BODY_TOO_LARGE', false],
  UND_ERR_HEADERS_OVERFLOW: ['PROTOCOL', false],
  UND_ERR_INVALID_ARG: ['INVALID_URL', false],
  ERR_INVALID_URL: ['INVALID_URL', false],
  Z_DATA_ERROR: ['DECODE', false],
  Z_BUF_ERROR: ['DECODE', false],
  ERR_BROTLI_DECOMPRESSION_FAILED: ['DECODE', false],
  ERR__ERROR_FORMAT_PREFIX_UNKNOWN: ['DECODE', false],
};

function isTlsCode(code: string): boolean {
  return (
    code.startsWith('ERR_TLS_') ||
    code.startsWith('ERR_SSL_') ||
    code.includes('CERT') ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'EPROTO'
  );
}

/** Turns anything a fetch attempt threw into a FetchError with a stable code. */
export function toFetchError(err: unknown, url?: string): FetchError {
  if (err instanceof FetchError) return err;
  if (err instanceof AggregateError && err.errors.length > 0) {
    // autoSelectFamily tries every address; the first failure names the cause.
    return toFetchError(err.errors[0], url);
  }
  const e = err as { code?: unknown; message?: unknown; name?: unknown; cause?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' && e.message ? e.message : String(err);
  const known = BY_CODE[code];
  if (known) return new FetchError(known[0], message, { url, retryable: known[1], cause: err });
  if (code.startsWith('HPE_') || e?.name === 'HTTPParserError') {
    // llhttp reports a socket that ended inside a message (a truncated chunked body) as
    // "Invalid EOF state"; undici leaves such parser errors without a code. It is a cut-off.
    if (code === 'HPE_INVALID_EOF_STATE' || message.includes('(Invalid EOF state)')) {
      return new FetchError('CONNECTION_RESET', message, { url, retryable: true, cause: err });
    }
    return new FetchError('PROTOCOL', message, { url, cause: err });
  }
  if (code.startsWith('Z_') || code.startsWith('ERR_ZSTD') || code.startsWith('ERR_ZLIB')) {
    return new FetchError('DECODE', message, { url, cause: err });
  }
  if (isTlsCode(code)) return new FetchError('TLS', message, { url, cause: err });
  if (e?.cause !== undefined && e.cause !== err) {
    const inner = toFetchError(e.cause, url);
    if (inner.code !== 'INTERNAL') return inner;
  }
  return new FetchError('INTERNAL', message, { url, cause: err });
}
