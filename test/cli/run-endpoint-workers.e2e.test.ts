import { existsSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../lambda/cli/exit-codes.js';
import { readJob, runCli } from '../helpers/cli-harness.js';
import { endpointFixture } from '../helpers/endpoint-fixture.js';

// Issue 24, item 5: `fanout run --endpoint --workers <n>` runs n worker instances at once, each
// isolated as a Lambda instance is (its own engine, so its own --concurrency and --per-host).

const HOSTS = Array.from({ length: 10 }, (_, i) => `127.0.0.${i + 2}`);
const WORKERS = 3;

// Holds each answer until WORKERS requests are in flight (or 1.5 s passed): requests from
// instances that run at once are answered together.
const held: ServerResponse[] = [];
const release = () => {
  for (const res of held.splice(0)) res.end('ok');
};
const fixture = endpointFixture(
  {
    '/hold': (_req, res) => {
      held.push(res);
      if (held.length >= WORKERS) release();
      else setTimeout(release, 1500);
    },
  },
  { alsoOn: HOSTS },
);

describe('fanout run --endpoint --workers', () => {
  it('runs that many isolated worker instances at once: each has its own --concurrency', async () => {
    const { moto, target, work } = fixture;
    const urls = Array.from({ length: 30 }, (_, i) => target.url(`/hold?i=${i}`, HOSTS[i % HOSTS.length]));
    const input = join(work, 'urls.txt');
    writeFileSync(input, `${urls.join('\n')}\n`);
    const out = join(work, 'out');
    const run = await runCli(
      [
        ...['run', input, '--endpoint', moto.endpoint, '--out', out, '--job-id', 'workers', '-q'],
        ...['--workers', String(WORKERS), '-c', '1', '--per-host', '1', '--chunk-size', '2'],
        ...['--allow', '127.0.0.0/8', '--retries', '0', '--robots', 'ignore'],
      ],
      { timeoutMs: 180_000 },
    );
    expect(run.stderr).toBe('');
    const job = readJob(out, 'workers');
    expect(run.code).toBe(EXIT.OK);
    // Results come in input order within each host group: `line` gives the list's order.
    const inListOrder = [...job.results].sort((a, b) => a.line - b.line);
    expect(inListOrder.map((r) => [r.url, r.status])).toEqual(urls.map((url) => [url, 200]));
    // -c 1 in each instance: at most one request in flight per worker, and all of them at once.
    expect(target.maxInFlight).toBe(WORKERS);
  }, 240_000);

  it.each([
    { args: ['--workers', '2'], error: '--workers: needs --endpoint' },
    {
      args: ['--endpoint', 'http://127.0.0.1:9', '--workers', '0'],
      error: '--workers: must be an integer from 1 to 64, got 0',
    },
    {
      args: ['--endpoint', 'http://127.0.0.1:9', '--workers', '65'],
      error: '--workers: must be an integer from 1 to 64, got 65',
    },
    {
      args: ['--endpoint', 'http://127.0.0.1:9', '--workers', 'many'],
      error: '--workers: expected a whole number, got "many"',
    },
  ])('$args: a usage error naming --workers, nothing written', async ({ args, error }) => {
    const { target, work } = fixture;
    const input = join(work, 'one.txt');
    writeFileSync(input, `${target.url('/hold')}\n`);
    const out = join(work, 'refused');
    const run = await runCli(['run', input, '--out', out, ...args]);
    expect(run.code).toBe(EXIT.USAGE);
    // One line on stderr, naming the flag and what was wrong.
    expect(run.stderr).toMatch(/^fanout: --workers: [^\n]+\n$/);
    expect(run.stderr).toContain(error);
    expect(existsSync(out)).toBe(false);
  });
});
