import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bundledSdkClients,
  coldStart,
  type FunctionAsset,
  functionAssets,
  NO_OP_EVENTS,
  synth,
} from '../../bench/lib/assets.mjs';

// The bundles `cdk synth` writes, as deployed: each function's holds only the SDK clients it calls.
let out: string;
let functions: FunctionAsset[];

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'fanout-bundles-'));
  synth(out);
  functions = functionAssets(out);
}, 180_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

describe("each function's bundle", () => {
  it.each([
    ['DeadLetters', ['dynamodb']],
    ['Api', ['dynamodb', 'lambda', 's3']],
    ['Worker', ['dynamodb', 'lambda', 's3', 'secrets-manager', 'sqs']],
    ['Dispatcher', ['dynamodb', 'eventbridge', 'lambda', 's3', 'sqs']],
  ])('%s holds the SDK clients of the services it calls, and no other', (name, clients) => {
    const fn = functions.find((f) => f.name === name);
    expect(fn, `no function ${name} in ${functions.map((f) => f.name).join(', ')}`).toBeDefined();
    expect(bundledSdkClients(fn?.file as string)).toEqual(clients);
  });

  it('covers every function of the stack', () => {
    expect(functions.map((f) => f.name).sort()).toEqual(['Api', 'DeadLetters', 'Dispatcher', 'Worker']);
    expect(Object.keys(NO_OP_EVENTS).sort()).toEqual(['Api', 'DeadLetters', 'Dispatcher', 'Worker']);
  });

  // Each in a fresh process with the environment the template gives the function, as Lambda
  // starts it: a variable its handler requires and the stack does not set fails here, not on AWS.
  it.each(['DeadLetters', 'Api', 'Worker', 'Dispatcher'])(
    '%s loads and serves its first event with the environment of its template',
    async (name) => {
      const fn = functions.find((f) => f.name === name) as FunctionAsset;
      const { firstCallError, firstCallMs } = await coldStart(fn);
      expect(firstCallError).toBeUndefined();
      expect(firstCallMs).toBeGreaterThan(0);
    },
  );
});
