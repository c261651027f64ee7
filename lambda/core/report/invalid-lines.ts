import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { InvalidLine } from '../record.js';
import { truncate } from './html.js';
import { REPORT_LIMITS, type ReportLimits } from './report-builder.js';

/** Why input lines were rejected, as the report shows it: a count per code and the first lines of each. */
export interface InvalidLinesTally {
  /** Lines in invalid.jsonl.gz. */
  lines: number;
  /** Most frequent code first. */
  codes: Array<{ code: string; count: number; examples: InvalidLine[] }>;
}

/**
 * Reads a job's invalid.jsonl.gz line by line (never whole as text) and tallies it: lines
 * per code, and the first `invalidExamples` lines of each, their text cut to `messageChars`.
 */
export async function tallyInvalidLines(
  invalidJsonlGz: Uint8Array | null,
  limits: Pick<ReportLimits, 'invalidExamples' | 'messageChars'> = REPORT_LIMITS,
): Promise<InvalidLinesTally> {
  const codes = new Map<string, { code: string; count: number; examples: InvalidLine[] }>();
  let lines = 0;
  if (invalidJsonlGz && invalidJsonlGz.length > 0) {
    const text = Readable.from([invalidJsonlGz]).pipe(createGunzip());
    for await (const line of createInterface({ input: text, crlfDelay: Number.POSITIVE_INFINITY })) {
      if (line.trim() === '') continue;
      const invalid = JSON.parse(line) as InvalidLine;
      lines += 1;
      let entry = codes.get(invalid.code);
      if (!entry) {
        entry = { code: invalid.code, count: 0, examples: [] };
        codes.set(invalid.code, entry);
      }
      entry.count += 1;
      if (entry.examples.length < limits.invalidExamples) {
        entry.examples.push({
          line: invalid.line,
          code: invalid.code,
          message: truncate(invalid.message, limits.messageChars),
          raw: truncate(invalid.raw, limits.messageChars),
        });
      }
    }
  }
  const sorted = [...codes.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  return { lines, codes: sorted };
}
