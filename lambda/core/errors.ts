/**
 * fanout's typed errors and the stable codes that appear in result records,
 * invalid-line reports and CLI/API error messages. README documents every code.
 */

/** Why a URL's fetch ended without a usable response. Stable: records carry these. */
export const FETCH_ERROR_CODES = {
  BLOCKED_ADDRESS: 'BLOCKED_ADDRESS',
  INVALID_URL: 'INVALID_URL',
  DNS: 'DNS',
  CONNECT_TIMEOUT: 'CONNECT_TIMEOUT',
  CONNECTION_REFUSED: 'CONNECTION_REFUSED',
  CONNECTION_RESET: 'CONNECTION_RESET',
  HEADERS_TIMEOUT: 'HEADERS_TIMEOUT',
  BODY_TIMEOUT: 'BODY_TIMEOUT',
  DEADLINE: 'DEADLINE',
  TOO_MANY_REDIRECTS: 'TOO_MANY_REDIRECTS',
  BAD_REDIRECT: 'BAD_REDIRECT',
  BODY_TOO_LARGE: 'BODY_TOO_LARGE',
  DECODE: 'DECODE',
  TLS: 'TLS',
  PROTOCOL: 'PROTOCOL',
  HTTP_STATUS: 'HTTP_STATUS',
  ROBOTS_DISALLOWED: 'ROBOTS_DISALLOWED',
  RESOURCE_EXHAUSTED: 'RESOURCE_EXHAUSTED',
  NETWORK: 'NETWORK',
  CANCELLED: 'CANCELLED',
  HEADER_UNRESOLVED: 'HEADER_UNRESOLVED',
  INTERNAL: 'INTERNAL',
} as const;
export type FetchErrorCode = keyof typeof FETCH_ERROR_CODES;

/** Why an input line was rejected before fetching. Stable: invalid.jsonl.gz carries these. */
export const INPUT_ERROR_CODES = {
  INVALID_URL: 'INVALID_URL',
  UNSUPPORTED_SCHEME: 'UNSUPPORTED_SCHEME',
  URL_TOO_LONG: 'URL_TOO_LONG',
  LINE_TOO_LONG: 'LINE_TOO_LONG',
  INVALID_ENCODING: 'INVALID_ENCODING',
  INVALID_JSON: 'INVALID_JSON',
  INVALID_FIELD: 'INVALID_FIELD',
  MISSING_URL: 'MISSING_URL',
  DUPLICATE: 'DUPLICATE',
} as const;
export type InputErrorCode = keyof typeof INPUT_ERROR_CODES;

/** Base class: every error fanout raises on purpose has a stable code. */
export class FanoutError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FanoutError';
    this.code = code;
  }
}

/** A job option or CLI flag outside what is allowed. */
export class InvalidOptionError extends FanoutError {
  readonly option: string;
  /** What is wrong, without the option's name in front. */
  readonly detail: string;
  constructor(option: string, detail: string) {
    super('INVALID_OPTION', `${option}: ${detail}`);
    this.name = 'InvalidOptionError';
    this.option = option;
    this.detail = detail;
  }
}

/** The input as a whole cannot be used (unreadable, empty, wrong header). */
export class InputError extends FanoutError {
  constructor(
    code: 'INPUT_UNREADABLE' | 'EMPTY_INPUT' | 'MISSING_URL_COLUMN',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.name = 'InputError';
  }
}

/** One URL's fetch failed; `code` goes into the result record. */
export class FetchError extends FanoutError {
  declare readonly code: FetchErrorCode;
  readonly url: string | undefined;
  readonly status: number | undefined;
  /** Whether another attempt may succeed. */
  readonly retryable: boolean;
  constructor(
    code: FetchErrorCode,
    message: string,
    options: { url?: string; status?: number; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(code, message, { cause: options.cause });
    this.name = 'FetchError';
    this.url = options.url;
    this.status = options.status;
    this.retryable = options.retryable ?? false;
  }
}

/**
 * A response body over the cap. `bytes` is what the record's `bytes` reports: the
 * decoded bytes read when the read stopped, or, for a body refused unread because its
 * Content-Length already passed the cap (`declared`), that declared length.
 */
export class BodyTooLargeError extends FetchError {
  readonly bytes: number;
  readonly declared: boolean;
  constructor(maxBytes: number, bytes: number, declared: boolean) {
    super(
      'BODY_TOO_LARGE',
      declared
        ? `Content-Length ${bytes} is over the ${maxBytes}-byte cap; the body was not read`
        : `body exceeds ${maxBytes} bytes; stopped after ${bytes} decoded bytes`,
    );
    this.name = 'BodyTooLargeError';
    this.bytes = bytes;
    this.declared = declared;
  }
}

/** A URL's target address is not allowed by the address policy. */
export class BlockedAddressError extends FetchError {
  readonly address: string;
  constructor(address: string, reason: string, url?: string) {
    super('BLOCKED_ADDRESS', `address ${address} is blocked (${reason})`, { url });
    this.name = 'BlockedAddressError';
    this.address = address;
  }
}
