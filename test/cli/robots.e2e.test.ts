/**
 * Issue 24, item 3, as a user meets it: `fanout run` (the built CLI) on a local site whose
 * robots.txt disallows part of it fetches the rest, says how many URLs robots.txt
 * disallowed and how to lift it, and exits as for other failed URLs; `--robots ignore`
 * fetches them all without asking for robots.txt.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, readJob, runCli } from '../helpers/cli-harness.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';

let site: TargetServer;
let dir: string;

beforeAll(async () => {
  ensureCliBuilt();
  dir = mkdtempSync(join(tmpdir(), 'fanout-robots-'));
  site = await startTargetServer(
    { '/robots.txt': (_req, res) => res.end('User-agent: fanout\nDisallow: /private/\n') },
    { fallback: (_req, res) => res.end('page') },
  );
});

afterAll(async () => {
  await site?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('fanout run on a site whose robots.txt disallows part of it', () => {
  it('fetches the rest, counts the disallowed URLs and says how to lift it', async () => {
    const list = join(dir, 'site.txt');
    writeFileSync(
      list,
      ['/a', '/b', '/private/1', '/private/2', '/private/3'].map((p) => site.url(p)).join('\n'),
    );
    const out = join(dir, 'obey');
    const run = await runCli(['run', list, '--out', out, '--job-id', 'obey', '--allow', '127.0.0.1/32']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('2 ok · 3 failed');
    expect(run.stdout).toContain('ROBOTS_DISALLOWED: 3');
    expect(run.stdout).toContain(
      '\n  hint      3 URLs disallowed by robots.txt, not fetched. For sites you own, fetch them anyway with --robots ignore (API: "robots": "ignore").',
    );
    expect(site.requests.map((r) => r.path).sort()).toEqual(['/a', '/b']);
    expect(site.robotsRequests).toHaveLength(1);
    const job = readJob(out, 'obey');
    expect(job.failed.map((f) => f.error.code)).toEqual([
      'ROBOTS_DISALLOWED',
      'ROBOTS_DISALLOWED',
      'ROBOTS_DISALLOWED',
    ]);
    expect(job.failed[0]?.error.message).toContain(`${site.origin}/robots.txt`);
    expect(readFileSync(join(job.dir, 'report.html'), 'utf8')).toContain('3 URLs disallowed by robots.txt');

    const ignored = await runCli([
      'run',
      list,
      '--out',
      join(dir, 'ignore'),
      '--allow',
      '127.0.0.1/32',
      '--robots',
      'ignore',
    ]);
    expect(ignored.code).toBe(0);
    expect(ignored.stdout).not.toContain('robots.txt');
    expect(site.requests).toHaveLength(7);
    expect(site.robotsRequests).toHaveLength(1);
  });
});
