/**
 * End-to-end: the built `fanout run` with --header, --sensitive-header and JSONL `headers`
 * against a real server on 127.0.0.1 (and 127.0.0.2, another origin on the same port).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCliBuilt, readJob, runCli } from '../helpers/cli-harness.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';

const TOKEN = 'Bearer tok-9f3a7c-never-at-rest';
const API_KEY = 'key-51d2e8-never-at-rest';

/** Every file under `dir`, gunzipped when it is gzip, as text. */
function everyFile(dir: string): Array<{ path: string; text: string }> {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile())
    .map((path) => {
      const bytes = readFileSync(path);
      const text = bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes;
      return { path, text: text.toString('latin1') };
    });
}

describe('fanout run --header', () => {
  let server: TargetServer;
  let dir: string;

  beforeAll(async () => {
    ensureCliBuilt();
    server = await startTargetServer(
      {
        '/ok': (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n'),
        '/same': (_req, res, s) => res.writeHead(302, { location: `${s.url('/hop')}` }).end(),
        '/hop': (_req, res, s) => res.writeHead(302, { location: s.url('/away', '127.0.0.2') }).end(),
        '/away': (_req, res) => res.writeHead(200).end('away\n'),
      },
      { alsoOn: ['127.0.0.2'] },
    );
    dir = mkdtempSync(join(tmpdir(), 'fanout-headers-'));
  });

  afterAll(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const seen = (path: string) => server.requests.filter((r) => r.path === path).map((r) => r.headers);

  it('sends headers as given, keeps sensitive ones to the origin, and writes no secret', async () => {
    const input = join(dir, 'list.jsonl');
    writeFileSync(
      input,
      [
        JSON.stringify({ url: server.url('/ok'), id: 'plain' }),
        JSON.stringify({ url: server.url('/same'), id: 'moves', headers: { 'X-Line': 'line-2' } }),
        JSON.stringify({ url: server.url('/ok'), headers: { 'Bad Name': 'x' } }),
        JSON.stringify({ url: 'not a url', headers: { Cookie: `c=${API_KEY}` } }),
        '',
      ].join('\n'),
    );
    const out = join(dir, 'out');
    const run = await runCli(
      [
        'run',
        input,
        '--allow',
        '127.0.0.0/8',
        '--robots',
        'ignore',
        '--out',
        out,
        '--job-id',
        'h',
        '-q',
        '--header',
        'Accept: application/json',
        '--header',
        'Authorization: env:FANOUT_TEST_TOKEN',
        '--header',
        'X-Api-Key: env:FANOUT_TEST_KEY',
        '--sensitive-header',
        'x-api-key',
      ],
      { env: { FANOUT_TEST_TOKEN: TOKEN, FANOUT_TEST_KEY: API_KEY } },
    );
    expect(run.stderr).not.toContain(TOKEN);
    expect(run.code).toBe(1); // two invalid lines
    const [ok] = seen('/ok');
    expect(ok).toMatchObject({ accept: 'application/json', authorization: TOKEN, 'x-api-key': API_KEY });
    expect(ok?.['x-line']).toBeUndefined();
    expect(seen('/hop')[0]).toMatchObject({ authorization: TOKEN, 'x-api-key': API_KEY, 'x-line': 'line-2' });
    const [away] = seen('/away');
    expect(away).toMatchObject({ accept: 'application/json', 'x-line': 'line-2' });
    expect(away?.authorization).toBeUndefined();
    expect(away?.['x-api-key']).toBeUndefined();

    const job = readJob(out, 'h');
    expect(job.results.map((r) => [r.id, r.status, r.finalUrl])).toEqual([
      ['plain', 200, server.url('/ok')],
      ['moves', 200, server.url('/away', '127.0.0.2')],
    ]);
    expect(job.request.options.headers).toEqual({
      Accept: 'application/json',
      Authorization: 'env:FANOUT_TEST_TOKEN',
      'X-Api-Key': 'env:FANOUT_TEST_KEY',
    });
    expect(job.invalid.map((l) => [l.line, l.code])).toEqual([
      [3, 'INVALID_FIELD'],
      [4, 'INVALID_FIELD'],
    ]);
    expect(job.invalid[0]?.message).toContain('"Bad Name"');
    expect(job.invalid[1]?.message).toContain('Cookie');
    const files = everyFile(out);
    expect(files.length).toBeGreaterThan(4);
    for (const { path, text } of files) {
      expect(text, path).not.toContain(TOKEN);
      expect(text, path).not.toContain(API_KEY);
    }
  });

  it.each([
    [['--header', 'Host: example.com'], 'Host'],
    [['--header', 'Connection: close'], 'Connection'],
    [['--header', 'Transfer-Encoding: chunked'], 'Transfer-Encoding'],
    [['--header', 'User-Agent: other'], 'User-Agent'],
    [['--header', 'Bad Name: x'], 'Bad Name'],
    [['--header', 'X-Evil: a\rb'], 'X-Evil'],
    [['--header', 'no colon here'], 'Name: value'],
    [['--header', `Authorization: ${TOKEN}`], 'Authorization'],
    [['--header', 'X-Key: hidden', '--sensitive-header', 'X-Key'], 'X-Key'],
    [['--header', 'Authorization: env:FANOUT_TEST_UNSET_VARIABLE'], 'FANOUT_TEST_UNSET_VARIABLE'],
    [['--header', 'Authorization: secret:fanout/token'], 'env:NAME'],
  ])('refuses %j with exit 2 naming %s', async (flags, named) => {
    const run = await runCli(['run', '-', '--out', join(dir, 'refused'), ...flags], {
      stdin: `${server.url('/ok')}\n`,
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--header');
    expect(run.stderr).toContain(named);
    expect(run.stderr).not.toContain(TOKEN);
    expect(run.stderr).not.toContain('hidden');
  });

  it.each(['bot\u0001', 'bot\u007f', 'bot \u2603'])(
    'refuses --user-agent %j as a bad option, before any URL (issue 27, item 3)',
    async (ua) => {
      const run = await runCli(['run', '-', '--out', join(dir, 'refused-ua'), '--user-agent', ua], {
        stdin: `${server.url('/ok')}\n`,
      });
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/--user-agent.*must be a valid User-Agent value/);
    },
  );

  it.each([[['run', '-', '--endpoint', 'http://127.0.0.1:9', '--out', 'unused']], [['submit', '-']]])(
    'refuses env: for a deployed job (%j): its workers read secret: instead',
    async (args) => {
      const run = await runCli([...args, '--header', 'Authorization: env:FANOUT_TEST_TOKEN'], {
        stdin: `${server.url('/ok')}\n`,
        env: { FANOUT_TEST_TOKEN: TOKEN, FANOUT_API_URL: 'http://127.0.0.1:9', FANOUT_BUCKET: 'b' },
      });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--header: header Authorization: env:FANOUT_TEST_TOKEN');
      expect(run.stderr).toContain('use secret:NAME');
      expect(run.stderr).not.toContain(TOKEN);
    },
  );
});
