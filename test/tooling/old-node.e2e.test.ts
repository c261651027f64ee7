/**
 * The built CLI on a Node older than it needs (package.json's engines), run directly as
 * `node dist/cli.js`: one line naming the version needed and how to run it, exit code 5,
 * nothing done. It uses an older Node found on PATH outside node_modules (this machine and
 * CI have one at the system path); without one it fails, never skips.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../lambda/cli/exit-codes.js';
import { CLI_PATH, ensureCliBuilt, ROOT, runCli } from '../helpers/cli-harness.js';

const ENGINES = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }
).engines.node;
const REQUIRED = Number(/^>=\s*(\d+)$/.exec(ENGINES)?.[1]);

/** The first `node` on PATH, outside node_modules, whose major version is below the required one. */
function findOlderNode(): { path: string; version: string } | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '' || dir.split(sep).includes('node_modules')) continue;
    const path = join(dir, 'node');
    try {
      accessSync(path, constants.X_OK);
    } catch {
      continue;
    }
    const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim().replace(/^v/, '');
    if (Number(version.split('.')[0]) < REQUIRED) return { path, version };
  }
  return null;
}

let tmp: string;
let oldNode: { path: string; version: string };

beforeAll(() => {
  expect(REQUIRED, `package.json engines.node (${ENGINES}) must read ">=N"`).toBeGreaterThan(0);
  const found = findOlderNode();
  if (!found) {
    throw new Error(
      `no node older than ${REQUIRED} on PATH outside node_modules (PATH=${process.env.PATH}): ` +
        'this test needs one, e.g. the system /usr/bin/node',
    );
  }
  oldNode = found;
  ensureCliBuilt();
  tmp = mkdtempSync(join(tmpdir(), 'fanout-old-node-'));
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Runs `<older node> dist/cli.js ...args`. */
function runOnOldNode(args: string[]): { code: number | null; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(oldNode.path, [CLI_PATH, ...args], { encoding: 'utf8', stdio: 'pipe' });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status: number | null; stdout: string; stderr: string };
    return { code: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

describe(`the CLI on a Node older than ${REQUIRED}`, () => {
  it('prints one line naming the Node it needs and how to run it, and exits with its own code', () => {
    const input = join(tmp, 'urls.txt');
    writeFileSync(input, 'http://127.0.0.1:9/\n');
    const out = join(tmp, 'out');
    const run = runOnOldNode(['run', input, '--out', out]);
    expect(run.code).toBe(EXIT.NODE_TOO_OLD);
    expect(run.stdout).toBe('');
    const lines = run.stderr.split('\n').filter((line) => line !== '');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`needs Node.js ${REQUIRED} or newer`);
    expect(lines[0]).toContain(`this is Node.js ${oldNode.version}`);
    expect(lines[0]).toContain('npx fanout');
    expect(lines[0]).not.toContain('SyntaxError');
    expect(existsSync(out)).toBe(false);
  });

  it('answers --version and --help the same way: nothing of the CLI loads', () => {
    for (const args of [['--version'], ['--help'], []]) {
      const run = runOnOldNode(args);
      expect(run.code, args.join(' ')).toBe(EXIT.NODE_TOO_OLD);
      expect(run.stderr).toContain(`needs Node.js ${REQUIRED} or newer`);
    }
  });

  it(`runs as usual on the project's Node ${process.versions.node}`, async () => {
    const run = await runCli(['--version']);
    expect(run.code).toBe(EXIT.OK);
    expect(run.stderr).toBe('');
  });
});
