import { BodyTooLargeError } from '../errors.js';
import type { ExchangeTap } from '../fetch/exchange.js';
import type { WarcLocation } from '../record.js';

/** The request of one exchange, as fanout sent it. */
export interface WarcRequest {
  url: URL;
  method: string;
  /** The headers fanout sent (lower-case names), sensitive values already redacted (redactHeaders). */
  headers: Readonly<Record<string, string>>;
  /** When the request was sent: the records' WARC-Date. */
  date: Date;
  /** The address the socket connected to, asked once the response came. */
  remoteAddress: () => string | null;
}

/** Why a payload is shorter than the server sent (WARC-Truncated). */
export type WarcTruncation = 'length' | 'time' | 'disconnect' | 'unspecified';

/** One exchange, complete: what its request and response records are made of. */
export interface CapturedExchange {
  request: WarcRequest;
  remoteAddress: string | null;
  statusCode: number;
  statusText: string;
  /** The response's header lines as received, names in their case, in their order. */
  headers: Array<[string, string]>;
  payload: Buffer[];
  truncated: WarcTruncation | null;
}

/** Writes a captured exchange's records; resolves to the response record's place. */
export type ExchangeWriter = (exchange: CapturedExchange) => Promise<WarcLocation>;

/**
 * The header lines a WARC request record keeps of what fanout sent: Host, then the headers as
 * the engine captured them, with sensitive values redacted (the engine's `redactHeaders`).
 */
export function warcRequestHeaders(
  url: URL,
  headers: Readonly<Record<string, string>>,
): Array<[string, string]> {
  return [['Host', url.host], ...Object.entries(headers)];
}

/**
 * Collects one exchange's response for the WARC as undici delivers it: the payload up to
 * `maxPayloadBytes` (maxBodyBytes; what passes it is dropped and the record is marked
 * WARC-Truncated: length). `written` settles once the records are in the chunk's WARC file:
 * with the response record's place, or null when no response came.
 */
export class ExchangeCapture implements ExchangeTap {
  readonly written: Promise<WarcLocation | null>;
  private exchange: CapturedExchange | null = null;
  private kept = 0;
  private ended = false;
  private settle!: (place: Promise<WarcLocation | null>) => void;

  constructor(
    private readonly request: WarcRequest,
    private readonly maxPayloadBytes: number,
    private readonly write: ExchangeWriter,
  ) {
    this.written = new Promise((resolve) => {
      this.settle = resolve;
    });
  }

  response(statusCode: number, statusText: string, rawHeaders: readonly (Buffer | string)[]): void {
    const headers: Array<[string, string]> = [];
    for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
      headers.push([latin1(rawHeaders[i] as Buffer | string), latin1(rawHeaders[i + 1] as Buffer | string)]);
    }
    this.exchange = {
      request: this.request,
      remoteAddress: this.request.remoteAddress(),
      statusCode,
      statusText,
      headers: withoutTransferCoding(headers),
      payload: [],
      truncated: null,
    };
  }

  data(chunk: Buffer): void {
    const exchange = this.exchange;
    if (!exchange || this.ended) return;
    const room = this.maxPayloadBytes - this.kept;
    if (chunk.length > room) exchange.truncated = 'length';
    if (room <= 0) return;
    const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
    // undici reuses no buffer it hands over, so the chunk is kept as it is.
    exchange.payload.push(part);
    this.kept += part.length;
  }

  end(err: Error | null): void {
    if (this.ended) return;
    this.ended = true;
    const exchange = this.exchange;
    if (!exchange) {
      this.settle(Promise.resolve(null));
      return;
    }
    if (err && exchange.truncated === null) exchange.truncated = truncationOf(err);
    this.settle(this.write(exchange));
  }
}

/**
 * The payload is stored with its transfer coding removed (undici de-chunks it), so the header
 * that announced the coding would misdescribe it: it is kept under another name, as warcprox does.
 */
function withoutTransferCoding(headers: Array<[string, string]>): Array<[string, string]> {
  return headers.map(([name, value]) =>
    name.toLowerCase() === 'transfer-encoding' ? [`X-Crawler-${name}`, value] : [name, value],
  );
}

function truncationOf(err: Error): WarcTruncation {
  if (err instanceof BodyTooLargeError) return 'length';
  const code = (err as { code?: string }).code ?? '';
  return /TIMEOUT/.test(code) ? 'time' : 'disconnect';
}

function latin1(value: Buffer | string): string {
  return typeof value === 'string' ? value : value.toString('latin1');
}
