import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type FunctionCode,
  FunctionInstance,
  FunctionPool,
} from '../../../lambda/local/emulator/function-instance.js';

const dir = mkdtempSync(join(tmpdir(), 'fanout-instance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A bundle whose module state counts invocations, and which can sleep past its timeout. */
const file = join(dir, 'index.mjs');
writeFileSync(
  file,
  `let invocations = 0;
   export const handler = async (event, context) => {
     invocations += 1;
     if (event.sleepMs) await new Promise((r) => setTimeout(r, event.sleepMs));
     if (event.fail) throw new TypeError('asked to fail');
     console.log(JSON.stringify({ level: 'INFO', invocations }));
     return { invocations, who: process.env.WHO, left: context.getRemainingTimeInMillis() };
   };`,
);

const code = (extra: Partial<FunctionCode> = {}): FunctionCode => ({
  name: 'fn',
  codeFile: file,
  exportName: 'handler',
  env: { WHO: 'first' },
  timeoutSeconds: 5,
  memoryMiB: 128,
  ...extra,
});

describe('FunctionInstance', () => {
  it('keeps module state per instance, with its own environment', async () => {
    const lines: string[] = [];
    const a = new FunctionInstance(code(), (_, line) => lines.push(line));
    const b = new FunctionInstance(code({ env: { WHO: 'second' } }), () => {});
    try {
      expect(await a.invoke({})).toMatchObject({ ok: true, result: { invocations: 1, who: 'first' } });
      expect(await a.invoke({})).toMatchObject({ ok: true, result: { invocations: 2 } });
      expect(await b.invoke({})).toMatchObject({ ok: true, result: { invocations: 1, who: 'second' } });
      expect(process.env.WHO).toBeUndefined();
      await new Promise((r) => setTimeout(r, 50));
      expect(lines).toContain('{"level":"INFO","invocations":1}');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("reports the handler's error, and ends an invocation that outlives the timeout with a fresh instance next", async () => {
    const instance = new FunctionInstance(code({ timeoutSeconds: 1 }), () => {});
    try {
      expect(await instance.invoke({ fail: true })).toEqual({
        ok: false,
        errorType: 'TypeError',
        errorMessage: 'asked to fail',
        timedOut: false,
      });
      expect(await instance.invoke({ sleepMs: 3000 })).toMatchObject({
        ok: false,
        errorType: 'Sandbox.Timedout',
        timedOut: true,
      });
      // A cold start: the module state began again.
      expect(await instance.invoke({})).toMatchObject({ ok: true, result: { invocations: 1 } });
      expect(instance.coldStarts).toBe(2);
    } finally {
      await instance.close();
    }
  });

  it('names a missing export', async () => {
    const instance = new FunctionInstance(code({ exportName: 'main' }), () => {});
    try {
      expect(await instance.invoke({})).toMatchObject({
        ok: false,
        errorMessage: `${file} does not export a function named main`,
      });
    } finally {
      await instance.close();
    }
  });
});

describe('FunctionPool', () => {
  it('reuses idle instances and keeps to the reserved concurrency', async () => {
    const pool = new FunctionPool(code(), () => {}, 2);
    try {
      const results = await Promise.all(Array.from({ length: 6 }, () => pool.invoke({ sleepMs: 50 })));
      expect(results.every((r) => r.ok)).toBe(true);
      expect(pool.size).toBe(2);
    } finally {
      await pool.close();
    }
  });
});
