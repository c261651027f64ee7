import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type MotoServer, startMoto } from '../support/moto-server.js';
import { ensureCliBuilt } from './cli-harness.js';
import {
  type Route,
  startTargetServer,
  type TargetServer,
  type TargetServerOptions,
} from './target-server.js';

/** What a file of `fanout run --endpoint` tests runs against. */
export interface EndpointFixture {
  moto: MotoServer;
  target: TargetServer;
  /** A scratch folder for lists and --out, removed after the file's tests. */
  work: string;
}

/**
 * Sets up, before a test file's tests, the built CLI, a serialized moto server (several
 * workers write the same items at once), a target server with `routes` and a scratch folder;
 * tears them down after. The fields are filled in once the file's tests run.
 */
export function endpointFixture(
  routes: Record<string, Route>,
  options: TargetServerOptions = {},
): EndpointFixture {
  const fixture = {} as EndpointFixture;
  beforeAll(async () => {
    ensureCliBuilt();
    fixture.moto = await startMoto({ serialized: true });
    fixture.target = await startTargetServer(routes, options);
    fixture.work = mkdtempSync(join(tmpdir(), 'fanout-endpoint-'));
  }, 120_000);
  afterAll(async () => {
    await fixture.target?.close();
    await fixture.moto?.stop();
    if (fixture.work) rmSync(fixture.work, { recursive: true, force: true });
  });
  return fixture;
}
