import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { summaryScreen } from '../../../lambda/cli/summary-screen.js';
import { robotsNote } from '../../../lambda/core/report/robots-note.js';
import { SummaryAccumulator } from '../../../lambda/core/summary.js';

const dir = mkdtempSync(join(tmpdir(), 'fanout-robots-note-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function summaryWith(errors: Record<string, number>) {
  const summary = new SummaryAccumulator().toSummary({
    jobId: 'robots',
    invalid: 0,
    chunks: 0,
    startedAt: new Date(0),
    finishedAt: new Date(1000),
  } as Parameters<SummaryAccumulator['toSummary']>[0]);
  return { ...summary, errors };
}

describe('what robots.txt disallowed, on the summary screen and in the report', () => {
  it('counts the URLs and names --robots ignore and the API field', () => {
    expect(robotsNote(summaryWith({ ROBOTS_DISALLOWED: 1 }))).toBe(
      '1 URL disallowed by robots.txt, not fetched. For sites you own, fetch them anyway with --robots ignore (API: "robots": "ignore").',
    );
    expect(robotsNote(summaryWith({ DNS: 4 }))).toBeNull();
  });

  it('the summary screen ends with the hint', async () => {
    const screen = await summaryScreen(summaryWith({ ROBOTS_DISALLOWED: 1200 }), dir);
    expect(screen).toMatch(
      /\n {2}hint {6}1,200 URLs disallowed by robots\.txt, not fetched\. .*--robots ignore/,
    );
    expect(await summaryScreen(summaryWith({}), dir)).not.toContain('hint');
  });
});
