/**
 * Issue 22, item 12: report.html shows the job's source and options, and why input lines
 * were rejected (a count per code, with the first lines of each), as a finished job writes it.
 */
import { describe, expect, it } from 'vitest';
import { MemoryObjectStore } from '../../../lambda/adapters/memory-object-store.js';
import { encodeJsonlGz } from '../../../lambda/core/job/jsonl.js';
import { jobKeys } from '../../../lambda/core/job/keys.js';
import { resolveOptions } from '../../../lambda/core/options.js';
import { tallyInvalidLines } from '../../../lambda/core/report/invalid-lines.js';
import { runLocalJob } from '../../../lambda/local/run-local.js';

/** The text of an element's first match, tags removed. */
const textOf = (html: string, pattern: RegExp) => (pattern.exec(html)?.[1] ?? '').replace(/<[^>]+>/g, '');

describe('report.html of a finished job', () => {
  it('shows the source, the options and the invalid lines by code with examples', async () => {
    const store = new MemoryObjectStore();
    const lines = [
      'http://192.0.2.1/a',
      'not a url',
      'ftp://files.example/x',
      'http://exa mple.com/',
      'still not one',
      'mailto:someone@example.com',
      'and again',
      'one more bad line',
    ];
    await runLocalJob({
      jobId: 'report-request',
      source: 'lists/urls.txt',
      format: 'text',
      // 192.0.2.1 is a documentation address: blocked, so nothing is fetched.
      options: resolveOptions({ concurrency: 7, timeoutMs: 45_000, maxBodyBytes: 512 * 1024, allow: [] }),
      input: (async function* () {
        yield Buffer.from(`${lines.join('\n')}\n`);
      })(),
      store,
    });
    const html = (await store.get(jobKeys.report('report-request')))?.toString('utf8') ?? '';

    expect(textOf(html, /<code id="job-source">(.*?)<\/code>/)).toBe('lists/urls.txt');
    const option = (name: string) =>
      textOf(html, new RegExp(`data-option="${name}"><dt>.*?</dt><dd>(.*?)</dd>`));
    expect(option('concurrency')).toBe('7');
    expect(option('timeoutMs')).toBe('45 s');
    expect(option('maxBodyBytes')).toBe('512.0 KiB');
    expect(option('allow')).toBe('none');

    const invalid = /<section id="invalid" data-lines="(\d+)">([\s\S]*?)<\/section>/.exec(html);
    expect(invalid?.[1]).toBe('7');
    const codes = [...(invalid?.[2] ?? '').matchAll(/data-invalid-code="(\w+)" data-count="(\d+)"/g)].map(
      ([, code, n]) => [code, Number(n)],
    );
    expect(codes).toEqual([
      ['INVALID_URL', 5],
      ['UNSUPPORTED_SCHEME', 2],
    ]);
    // The first three lines of each code, with their line numbers and text.
    const examples = [...(invalid?.[2] ?? '').matchAll(/<li data-line="(\d+)" data-code="(\w+)">/g)].map(
      ([, line, code]) => [Number(line), code],
    );
    expect(examples).toEqual([
      [2, 'INVALID_URL'],
      [4, 'INVALID_URL'],
      [5, 'INVALID_URL'],
      [3, 'UNSUPPORTED_SCHEME'],
      [6, 'UNSUPPORTED_SCHEME'],
    ]);
    expect(invalid?.[2]).toContain('ftp://files.example/x');
  });
});

describe('tallyInvalidLines', () => {
  it('counts every line by code, keeps the first few of each, and cuts long text', async () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      line: i + 1,
      code: i % 10 === 0 ? 'URL_TOO_LONG' : 'INVALID_URL',
      message: 'm'.repeat(400),
      raw: `row ${i + 1}`,
    }));
    const tally = await tallyInvalidLines(encodeJsonlGz(rows), { invalidExamples: 2, messageChars: 50 });
    expect(tally.lines).toBe(1000);
    expect(tally.codes.map((c) => [c.code, c.count, c.examples.map((e) => e.line)])).toEqual([
      ['INVALID_URL', 900, [2, 3]],
      ['URL_TOO_LONG', 100, [1, 11]],
    ]);
    expect(tally.codes[0]?.examples[0]?.message).toHaveLength(50);
    expect(await tallyInvalidLines(null)).toEqual({ lines: 0, codes: [] });
  });
});
