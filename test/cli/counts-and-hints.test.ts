/**
 * Issue 22, item 12: counts read "1 invalid line", "1 URL" (not "1 invalid lines"), and a
 * job whose URLs were blocked says how to allow them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { blockedAddresses, blockedHint } from '../../lambda/cli/blocked-hint.js';
import { renderJob } from '../../lambda/cli/remote/job-view.js';
import { renderSummary } from '../../lambda/cli/summary-screen.js';
import type { JobView } from '../../lambda/core/job/job-view.js';
import { plural } from '../../lambda/core/report/format.js';
import { SummaryAccumulator } from '../../lambda/core/summary.js';

const dir = mkdtempSync(join(tmpdir(), 'fanout-hints-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('counts and their nouns', () => {
  it.each([
    [0, '0 invalid lines'],
    [1, '1 invalid line'],
    [2, '2 invalid lines'],
    [1234, '1,234 invalid lines'],
  ])('plural(%d)', (value, text) => expect(plural(value, 'invalid line')).toBe(text));

  it('the summary screen says "1 invalid line" and "1 redirect"', () => {
    const summary = new SummaryAccumulator().toSummary({
      jobId: 'one',
      invalid: 1,
      chunks: 0,
      startedAt: new Date(0),
      finishedAt: new Date(1000),
    } as Parameters<SummaryAccumulator['toSummary']>[0]);
    const screen = renderSummary({ ...summary, redirects: 1 }, '/out');
    expect(screen).toContain('· 1 invalid line\n');
    expect(screen).toContain('· 1 redirect\n');
  });

  it('fanout status says "1 of 1 URL done" and "1 invalid line"', () => {
    const view: JobView = {
      jobId: 'j',
      status: 'completed_with_errors',
      cancelRequested: false,
      createdAt: '2026-11-25T22:00:00.000Z',
      updatedAt: '2026-11-25T22:00:01.000Z',
      progress: { chunksDone: 1, totalChunks: 1, accepted: 1, invalid: 1, urlsDone: 1, urlsFailed: 0 },
    };
    expect(renderJob(view)).toContain('urls      1 of 1 URL done, 0 failed, 1 invalid line\n');
  });
});

describe('the hint for blocked URLs', () => {
  const failedJsonl = (messages: string[]) => {
    const path = join(dir, `failed-${messages.length}.jsonl`);
    const lines = messages.map((message, i) =>
      JSON.stringify({ url: `http://x/${i}`, error: { code: 'BLOCKED_ADDRESS', message } }),
    );
    writeFileSync(
      path,
      `${JSON.stringify({ url: 'http://y/', error: { code: 'DNS', message: 'no' } })}\n${lines.join('\n')}\n`,
    );
    return path;
  };

  it('names the --allow for a loopback address, and --allow-private', async () => {
    const addresses = await blockedAddresses(
      failedJsonl(['address 127.0.0.1 is blocked (loopback)', 'address 127.0.0.1 is blocked (loopback)']),
    );
    expect(addresses).toEqual([{ address: '127.0.0.1', reason: 'loopback' }]);
    expect(blockedHint(2, addresses)).toBe(
      '2 URLs were blocked (BLOCKED_ADDRESS): 127.0.0.1 is loopback. To fetch them, add --allow 127.0.0.1/32, or --allow-private for every blocked range (local testing only)',
    );
  });

  it('names each of a few addresses (IPv6 as /128), and only some of many', async () => {
    const two = await blockedAddresses(
      failedJsonl(['address 10.1.2.3 is blocked (private)', 'address ::1 is blocked (loopback)']),
    );
    expect(blockedHint(1, two)).toBe(
      '1 URL was blocked (BLOCKED_ADDRESS): 10.1.2.3 and ::1 are private and loopback. To fetch it, add --allow 10.1.2.3/32 --allow ::1/128, or --allow-private for every blocked range (local testing only)',
    );
    const many = await blockedAddresses(
      failedJsonl([1, 2, 3, 4, 5].map((i) => `address 10.0.0.${i} is blocked (private)`)),
    );
    expect(blockedHint(5, many)).toMatch(
      /^5 URLs were blocked \(BLOCKED_ADDRESS\): 10\.0\.0\.1, 10\.0\.0\.2, 10\.0\.0\.3 and more \(private\)\. To fetch them, add --allow CIDR for each range, or --allow-private/,
    );
  });

  it('without a failed.jsonl to read, still names both flags; none blocked, no hint', async () => {
    expect(await blockedAddresses(join(dir, 'missing.jsonl'))).toEqual([]);
    expect(blockedHint(3, [])).toMatch(/--allow CIDR .*--allow-private/);
    expect(blockedHint(0, [])).toBeNull();
  });
});
