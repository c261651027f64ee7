import { HANDLER_ENV, RUNTIME_DEFAULTS } from '../core/contract.js';

/** Where log and metric lines go: stdout in Lambda (CloudWatch Logs reads it). */
export type LogSink = (line: string, level: LogLevel | 'metric') => void;
export type LogLevel = 'info' | 'warn' | 'error';

const RANK: Record<LogLevel | 'metric', number> = { info: 0, warn: 1, error: 2, metric: 0 };
/** HANDLER_ENV.logLevel: the least level written to stdout (info, warn, error), or off. @default info */
const LEAST =
  { info: 0, warn: 1, error: 2, off: 3 }[process.env[HANDLER_ENV.logLevel] ?? RUNTIME_DEFAULTS.logLevel] ?? 0;

const STDOUT: LogSink = (line, level) => {
  // Metrics are written unless logging is off: CloudWatch reads them from the log.
  if (RANK[level] >= LEAST || (level === 'metric' && LEAST < 3)) process.stdout.write(line);
};
let sink: LogSink = STDOUT;

/** Sends the handlers' log and metric lines elsewhere (the CLI runs handlers in-process); none restores stdout. */
export function setLogSink(next?: LogSink): void {
  sink = next ?? STDOUT;
}

/** Writes one line through the current sink. */
export function writeLine(line: string, level: LogLevel | 'metric'): void {
  sink(line, level);
}

/** One structured JSON log line (CloudWatch Logs parses it). */
export function log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
  writeLine(`${JSON.stringify({ level, message, time: new Date().toISOString(), ...fields })}\n`, level);
}

/** The message of anything thrown. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
