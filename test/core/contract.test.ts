import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CLI_ENV,
  HANDLER_ENV,
  HANDLER_ENVIRONMENTS,
  handlerEnvironment,
  requiredVariables,
} from '../../lambda/core/contract.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CONTRACT = 'lambda/core/contract.ts';

/** Every source file under the folders the stack, the handlers, the CLI and the tools live in. */
function sources(): string[] {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) walk(path);
      } else if (/\.(ts|mts|js|mjs|cjs)$/.test(entry.name)) files.push(relative(ROOT, path));
    }
  };
  for (const dir of ['lambda', 'infra', 'bench', 'scripts', 'examples']) walk(join(ROOT, dir));
  return files;
}

/** A file's code without its comments (block comments, and line comments that start a line). */
const codeOf = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');

describe('the deployment contract', () => {
  it('is the only place a FANOUT_ variable is named in code', () => {
    const files = sources();
    expect(files).toContain(CONTRACT);
    const offenders = files
      .filter((file) => file !== CONTRACT)
      .flatMap((file) =>
        codeOf(readFileSync(join(ROOT, file), 'utf8'))
          .split('\n')
          .filter((line) => line.includes('FANOUT_'))
          .map((line) => `${file}: ${line.trim()}`),
      );
    expect(offenders).toEqual([]);
  });

  it('imports nothing: no AWS SDK, no CDK, no other module', () => {
    const text = readFileSync(join(ROOT, CONTRACT), 'utf8');
    expect(text).not.toMatch(/^\s*import\s/m);
    expect(text).not.toMatch(/\bimport\(|\brequire\(/);
  });

  it('names every variable once, each FANOUT_', () => {
    const names = [...Object.values(HANDLER_ENV), ...Object.values(CLI_ENV)];
    for (const name of names) expect(name).toMatch(/^FANOUT_[A-Z_]+$/);
    expect(new Set(Object.values(HANDLER_ENV)).size).toBe(Object.keys(HANDLER_ENV).length);
  });

  it('builds a function environment by variable name, numbers as strings', () => {
    expect(
      handlerEnvironment('worker', {
        bucket: 'b',
        table: 't',
        metricsNamespace: 'Fanout',
        queueUrl: 'q',
        deadlineMarginMs: 15_000,
        dispatcherFunction: 'fanout-dispatcher',
        headerSecretsPrefix: 'fanout/',
      }),
    ).toEqual({
      FANOUT_BUCKET: 'b',
      FANOUT_TABLE: 't',
      FANOUT_METRICS_NAMESPACE: 'Fanout',
      FANOUT_QUEUE_URL: 'q',
      FANOUT_DEADLINE_MARGIN_MS: '15000',
      FANOUT_DISPATCHER_FUNCTION: 'fanout-dispatcher',
      FANOUT_HEADER_SECRETS_PREFIX: 'fanout/',
    });
  });

  it('refuses a variable the function does not read', () => {
    const values = { bucket: 'b', table: 't', metricsNamespace: 'N', jobMaxima: '{}' };
    expect(() =>
      handlerEnvironment('dead-letters', values as Parameters<typeof handlerEnvironment<'dead-letters'>>[1]),
    ).toThrow('the dead-letters function does not read jobMaxima');
  });

  it.each(Object.keys(HANDLER_ENVIRONMENTS) as Array<keyof typeof HANDLER_ENVIRONMENTS>)(
    '%s: the stack sets every variable the function cannot start without',
    (name) => {
      const { required, set } = HANDLER_ENVIRONMENTS[name];
      for (const setting of required) expect(set).toContain(setting);
      expect(requiredVariables(name)).toEqual(required.map((s) => HANDLER_ENV[s]));
    },
  );
});
