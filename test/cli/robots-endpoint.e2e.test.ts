/**
 * Issue 24, item 3, through the AWS pipeline: `fanout run --endpoint --workers 4` asks each
 * origin's robots.txt once for the whole job, however many isolated worker instances fetch
 * its URLs (the verdict is kept in the job's bucket), and ends with the same records as a
 * local `fanout run`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readJob, runCli } from '../helpers/cli-harness.js';
import { endpointFixture } from '../helpers/endpoint-fixture.js';

const HOSTS = Array.from({ length: 6 }, (_, i) => `127.0.0.${i + 2}`);

const fixture = endpointFixture(
  { '/robots.txt': (_req, res) => res.end('User-agent: fanout\nDisallow: /private/\n') },
  { alsoOn: HOSTS, fallback: (_req, res) => res.end('page') },
);

describe('robots.txt across isolated workers', () => {
  it('is asked once per origin for the job; disallowed URLs are recorded, not fetched', async () => {
    const { moto, target, work } = fixture;
    const urls = HOSTS.flatMap((host) =>
      Array.from({ length: 6 }, (_, i) => target.url(i % 3 === 0 ? `/private/${i}` : `/page/${i}`, host)),
    );
    const input = join(work, 'urls.txt');
    writeFileSync(input, `${urls.join('\n')}\n`);
    const common = ['--allow', '127.0.0.0/8', '--retries', '0', '-q'];
    const remote = await runCli(
      [
        ...['run', input, '--endpoint', moto.endpoint, '--out', join(work, 'remote'), '--job-id', 'robots'],
        ...['--workers', '4', '--chunk-size', '2', ...common],
      ],
      { timeoutMs: 180_000 },
    );
    expect(remote.stderr).toBe('');
    expect(remote.code).toBe(1);
    const outcome = (dir: string) =>
      readJob(join(work, dir), 'robots').results.map((r) => [r.url, r.status, r.error?.code ?? null]);
    const expected = urls.map((url) =>
      url.includes('/private/') ? [url, null, 'ROBOTS_DISALLOWED'] : [url, 200, null],
    );
    expect(outcome('remote')).toEqual(expect.arrayContaining(expected));
    expect(outcome('remote')).toHaveLength(expected.length);
    const perHost = (list: { host: string }[]) => HOSTS.map((h) => list.filter((r) => r.host === h).length);
    expect(perHost(target.robotsRequests)).toEqual(HOSTS.map(() => 1));
    expect(target.requests.some((r) => r.path.startsWith('/private/'))).toBe(false);

    const local = await runCli(['run', input, '--out', join(work, 'local'), '--job-id', 'robots', ...common]);
    expect(local.code).toBe(1);
    expect(outcome('local')).toEqual(expect.arrayContaining(outcome('remote')));
    expect(perHost(target.robotsRequests)).toEqual(HOSTS.map(() => 2));
  }, 240_000);
});
