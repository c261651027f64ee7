import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './moto-server.js';
import { requireIntegrationProject } from './test-project.js';

/**
 * LocalStack's Python, installed into .venv-localstack by the integration tests' set-up
 * (scripts/setup-python.sh localstack); moto stays in .venv.
 */
export const LOCALSTACK_PYTHON = resolve('.venv-localstack/bin/python');

/** The services LocalStack runs here: its DynamoDB needs a Java download, so DynamoDB stays on moto. */
export const LOCALSTACK_SERVICES = ['s3', 'sqs'] as const;

/** How long LocalStack may take to report its services available (about 2 s when idle). */
const READY_WITHIN_MS = 60_000;

/**
 * The environment that runs LocalStack without Docker, on 127.0.0.1 only, offline, keeping
 * nothing. Besides the documented set (hypercorn so that it binds GATEWAY_LISTEN alone, no
 * Docker, path-style SQS queue URLs on LOCALSTACK_HOST, no persistence, a throwaway
 * FILESYSTEM_ROOT): DNS_ADDRESS=0 stops its DNS server (by default on 0.0.0.0:53),
 * SKIP_SSL_CERT_DOWNLOAD and DISABLE_EVENTS stop its calls home.
 */
export function localStackEnv(port: number, filesystemRoot: string): Record<string, string> {
  return {
    GATEWAY_SERVER: 'hypercorn',
    GATEWAY_LISTEN: `127.0.0.1:${port}`,
    LOCALSTACK_HOST: `127.0.0.1:${port}`,
    OVERRIDE_IN_DOCKER: '0',
    SQS_ENDPOINT_STRATEGY: 'off',
    SERVICES: LOCALSTACK_SERVICES.join(','),
    PERSISTENCE: '0',
    FILESYSTEM_ROOT: filesystemRoot,
    DNS_ADDRESS: '0',
    SKIP_SSL_CERT_DOWNLOAD: '1',
    DISABLE_EVENTS: '1',
  };
}

/** A running LocalStack on 127.0.0.1 (S3 and SQS). */
export interface LocalStackServer {
  endpoint: string;
  /** Its process, the leader of its own process group. */
  pid: number;
  /** Where it keeps its state while it runs. */
  filesystemRoot: string;
  /** Stops the whole process group and removes its FILESYSTEM_ROOT. */
  stop(): Promise<void>;
}

/**
 * Starts LocalStack (`python -m localstack.runtime.main`) on a free loopback port, in a
 * process group of its own, and waits (bounded) until /_localstack/health reports S3 and SQS
 * available. A missing install fails, naming the set-up that makes it; it never skips.
 * `python`: another interpreter than .venv-localstack's (tests of the failures).
 */
export async function startLocalStack(options: { python?: string } = {}): Promise<LocalStackServer> {
  requireIntegrationProject('LocalStack');
  const { python = LOCALSTACK_PYTHON } = options;
  if (!existsSync(python)) {
    throw new Error(
      `${python} is missing: run \`npm test\` or \`npx vitest run --project integration\` ` +
        '(their set-up installs LocalStack into .venv-localstack: scripts/setup-python.sh localstack)',
    );
  }
  const port = await freePort();
  const root = await mkdtemp(join(tmpdir(), 'fanout-localstack-'));
  // Its own settings only: an AWS_* endpoint or profile of the test process must not reach it.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')),
  );
  const child: ChildProcess = spawn(python, ['-m', 'localstack.runtime.main'], {
    cwd: root,
    env: { ...inherited, ...localStackEnv(port, root) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const keep = (data: Buffer) => {
    output = (output + data).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let failed: Error | undefined;
  const exited = new Promise<void>((done) => {
    child.once('exit', () => done());
    child.once('error', (error) => {
      failed = error;
      done();
    });
  });
  // Should the test process end without stop() (a failed hook, a crash), the group ends with it.
  const endGroup = () => signalGroup(child, 'SIGKILL');
  process.once('exit', endGroup);
  const server: LocalStackServer = {
    endpoint: `http://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    filesystemRoot: root,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        signalGroup(child, 'SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      }
      // Its workers share the group: end any left, even when the leader already exited.
      endGroup();
      process.off('exit', endGroup);
      await rm(root, { recursive: true, force: true });
    },
  };
  const deadline = Date.now() + READY_WITHIN_MS;
  let last = 'no answer';
  for (;;) {
    if (failed || child.exitCode !== null || child.signalCode !== null) {
      await server.stop();
      const why = failed?.message ?? child.exitCode ?? child.signalCode;
      throw new Error(`LocalStack exited (${why}) before it was ready:\n${output}`);
    }
    try {
      const res = await fetch(`${server.endpoint}/_localstack/health`);
      const health = (await res.json()) as { services?: Record<string, string> };
      const states = LOCALSTACK_SERVICES.map((name) => health.services?.[name]);
      if (states.every((state) => state === 'available' || state === 'running')) return server;
      last = `services ${JSON.stringify(health.services)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(
        `LocalStack on ${server.endpoint} was not ready within ${READY_WITHIN_MS} ms (${last}):\n${output}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}
