import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

/** moto's S3/SQS/DynamoDB server, installed into .venv by `npm ci` (scripts/setup-python.sh). */
export const MOTO_SERVER = resolve('.venv/bin/moto_server');

async function freePort(): Promise<number> {
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

/** A running moto server on 127.0.0.1. */
export interface MotoServer {
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts moto_server on a free loopback port and waits until it answers (bounded). */
export async function startMoto(): Promise<MotoServer> {
  if (!existsSync(MOTO_SERVER)) {
    throw new Error(`${MOTO_SERVER} is missing: run \`npm ci\` (it installs moto[server] into .venv)`);
  }
  const port = await freePort();
  const child: ChildProcess = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
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
