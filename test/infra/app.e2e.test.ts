import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synth as synthStack } from '../../bench/lib/assets.mjs';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CFN_LINT = join(ROOT, '.venv', 'bin', 'cfn-lint');
/** CDK adds DependsOn on a Lambda's role next to the GetAtt that already implies it; harmless, and not ours to change. */
const CFN_LINT_IGNORED = ['W3005'];

// `cdk synth` exactly as a user runs it (cdk.json's app, cdk-nag included), with no AWS
// credentials or config within reach, into a directory of its own.
let out: string;
let synth: { stdout: string; stderr: string };

beforeAll(() => {
  out = mkdtempSync(join(tmpdir(), 'fanout-cdk-'));
  synth = synthStack(out);
}, 180_000);

afterAll(() => {
  if (out) rmSync(out, { recursive: true, force: true });
});

describe('infra/app.ts through the cdk CLI', () => {
  it('synthesizes the Fanout stack offline, without credentials', () => {
    const template = JSON.parse(readFileSync(join(out, 'Fanout.template.json'), 'utf8'));
    expect(Object.keys(template.Resources).length).toBeGreaterThan(40);
    expect(template.Outputs).toHaveProperty('ApiUrl');
  });

  it('bundles every handler into an ES module that loads on Node 24 and exports handler', async () => {
    const template = JSON.parse(readFileSync(join(out, 'Fanout.template.json'), 'utf8'));
    const bundles = Object.entries(
      template.Resources as Record<string, { Type: string; Metadata?: Record<string, string> }>,
    )
      .filter(
        ([, r]) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.['aws:asset:path']?.startsWith('asset.'),
      )
      .map(([id, r]) => ({ id, file: join(out, r.Metadata?.['aws:asset:path'] as string, 'index.mjs') }));
    expect(bundles).toHaveLength(4);
    // Each in a process of its own, with placeholder configuration: loading must not need AWS.
    const env = {
      ...process.env,
      FANOUT_BUCKET: 'b',
      FANOUT_TABLE: 't',
      FANOUT_QUEUE_URL: 'q',
      FANOUT_DISPATCHER_FUNCTION: 'd',
    };
    const probe =
      "const m = await import(process.argv[1]); if (typeof m.handler !== 'function') throw new Error('no handler');";
    for (const { id, file } of bundles) {
      await expect(
        run(process.execPath, ['--input-type=module', '-e', probe, file], { env }).then(() => id),
      ).resolves.toBe(id);
    }
  }, 60_000);

  it('leaves no cdk-nag finding in the validation report', () => {
    const report = JSON.parse(readFileSync(join(out, 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; conclusion: string; violations?: unknown[] }>;
    };
    for (const plugin of report.pluginReports) {
      expect(plugin.violations ?? [], plugin.pluginName).toEqual([]);
      expect(plugin.conclusion).toBe('success');
    }
    expect(synth.stderr).not.toMatch(/AwsSolutions-/);
  });

  it('passes cfn-lint', async () => {
    // Never a silent skip: the integration project's set-up installs cfn-lint into .venv.
    if (!existsSync(CFN_LINT))
      throw new Error(`cfn-lint is missing at ${CFN_LINT}: run npm test (its set-up installs it)`);
    const templates = readdirSync(out)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => join(out, f));
    expect(templates).not.toHaveLength(0);
    const lint = await run(CFN_LINT, ['--ignore-checks', ...CFN_LINT_IGNORED, '--', ...templates]).catch(
      (err: { stdout?: string; stderr?: string; message: string }) => {
        throw new Error(`cfn-lint found problems:\n${err.stdout ?? ''}${err.stderr ?? err.message}`);
      },
    );
    expect(lint.stdout).toBe('');
  }, 120_000);
});
