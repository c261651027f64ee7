import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { requireIntegrationProject } from './test-project.js';

/** moto's S3/SQS/DynamoDB server, installed into .venv by the integration tests' set-up (scripts/setup-python.sh). */
export const MOTO_SERVER = resolve('.venv/bin/moto_server');

/** A free TCP port on 127.0.0.1 (the OS picks it; it is free again once probed). */
export async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? done(address.port) : fail(new Error('no port')),
      );
    });
  });
}

/**
 * moto_server handles requests on threads with no locking, so its conditional writes are
 * check-then-act: concurrent If-None-Match puts can both win, concurrent ADDs lose
 * increments, concurrent transactions crash with "dictionary changed size during
 * iteration" (500). This shim runs the same server with one lock around each S3 and
 * DynamoDB request, which models what they guarantee per item: each request applies
 * atomically. SQS requests stay outside the lock: a long poll would otherwise hold it for
 * its whole wait, and SQS promises only at-least-once delivery anyway.
 */
const SERIALIZED_MOTO = `
import sys, threading
from moto.moto_server import werkzeug_app
lock = threading.Lock()
dispatch = werkzeug_app.DomainDispatcherApplication.__call__
def serialized(self, environ, start_response):
    if environ.get('HTTP_X_AMZ_TARGET', '').startswith('AmazonSQS'):
        return dispatch(self, environ, start_response)
    with lock:
        return dispatch(self, environ, start_response)
werkzeug_app.DomainDispatcherApplication.__call__ = serialized
from moto.server import main
main(sys.argv[1:])
`;

/** A running moto server on 127.0.0.1. */
export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts moto_server on a free loopback port and waits until it answers (bounded).
 * `serialized` applies one request at a time (see SERIALIZED_MOTO): use it wherever
 * several workers write to the same items at once.
 */
export async function startMoto(options: { serialized?: boolean } = {}): Promise<MotoServer> {
  requireIntegrationProject('moto');
  const python = join(dirname(MOTO_SERVER), 'python');
  if (!existsSync(MOTO_SERVER) || !existsSync(python)) {
    throw new Error(
      `${MOTO_SERVER} is missing: run \`npm test\` or \`npx vitest run --project integration\` (their set-up installs moto[server] into .venv)`,
    );
  }
  const port = await freePort();
  const address = ['-H', '127.0.0.1', '-p', String(port)];
  const [command, args] = options.serialized
    ? [python, ['-c', SERIALIZED_MOTO, ...address]]
    : [MOTO_SERVER, address];
  const child: ChildProcess = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr = (stderr + d).slice(-4000);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 150; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`moto_server exited (${child.exitCode}): ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/`);
      if (res.ok || res.status < 500) break;
    } catch {
      // not up yet
    }
    if (attempt === 149) throw new Error(`moto_server did not answer on ${endpoint}: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Environment for SDK clients pointed at moto: fake credentials, a region, no real AWS. */
export function motoEnv(endpoint: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: 'us-east-1',
  };
}
