import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LOCALSTACK_PYTHON, startLocalStack } from '../support/localstack-server.js';

// LocalStack, the second S3/SQS emulator: the project's own install puts it in
// .venv-localstack (the integration set-up has run it), and the tests start it without Docker
// on 127.0.0.1, keep nothing and leave no process behind.

const setup = (...args: string[]) =>
  spawnSync('bash', ['scripts/setup-python.sh', ...args], { encoding: 'utf8' });

/** Whether any process of the group is still there (signal 0 only checks). */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('the LocalStack install', () => {
  it('is in .venv-localstack, and setting it up again does nothing, quietly', () => {
    expect(existsSync(LOCALSTACK_PYTHON)).toBe(true);
    const again = setup('localstack');
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
  });

  it('an unknown tool set is refused, naming the ones there are', () => {
    const result = setup('localstak');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/unknown tool set 'localstak' \(allowed: dev, localstack\)/);
  });
});

describe('startLocalStack', () => {
  it('serves S3 and SQS on 127.0.0.1; stop ends its whole process group and removes its files', async () => {
    const server = await startLocalStack();
    try {
      expect(server.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${server.endpoint}/_localstack/health`);
      const health = (await res.json()) as { services: Record<string, string> };
      expect(health).toMatchObject({ version: '4.13.0', services: { s3: 'available', sqs: 'available' } });
      expect(health.services.dynamodb).toBe('disabled');
      expect(existsSync(server.filesystemRoot)).toBe(true);
    } finally {
      await server.stop();
    }
    expect(groupAlive(server.pid)).toBe(false);
    expect(existsSync(server.filesystemRoot)).toBe(false);
  }, 90_000);

  it('a missing install fails at once, naming the set-up that installs it', async () => {
    await expect(startLocalStack({ python: '/nonexistent/.venv-localstack/bin/python' })).rejects.toThrow(
      /\/nonexistent\/\.venv-localstack\/bin\/python is missing: .*scripts\/setup-python\.sh localstack/,
    );
  });

  it('a LocalStack that exits before it is ready fails with the end of its output', async () => {
    // Node is no Python: it refuses `-m localstack.runtime.main` and exits at once.
    await expect(startLocalStack({ python: process.execPath })).rejects.toThrow(
      /LocalStack exited \(\d+\) before it was ready:\n.*bad option: -m/s,
    );
  });
});
