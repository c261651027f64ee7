import { describe, expect, it } from 'vitest';
import { type ColdStartRow, coldStartTable, parseOptions } from '../../bench/cold-start.mjs';

const row = (over: Partial<ColdStartRow>): ColdStartRow => ({
  function: 'DeadLetters',
  bytes: 372_452,
  gzipBytes: 117_121,
  sdkClients: ['dynamodb'],
  importMs: 104.7,
  firstCallMs: 5.7,
  wallMs: 149,
  runs: 5,
  ...over,
});

describe('parseOptions', () => {
  it('takes the runs, a base revision and a report file', () => {
    expect(parseOptions(['--runs', '7', '--base', '0528f3e', '--json', 'out.json'])).toEqual({
      runs: 7,
      base: '0528f3e',
      cdkOut: undefined,
      json: 'out.json',
    });
  });

  it.each([['3'], ['seven'], ['5.5']])('refuses --runs %s, naming the least allowed', (runs) => {
    expect(() => parseOptions(['--runs', runs])).toThrow(`must be a whole number ≥ 5, not "${runs}"`);
  });

  it('refuses a --cdk-out that is not a cloud assembly', () => {
    expect(() => parseOptions(['--cdk-out', '/nonexistent'])).toThrow(
      'is not a cloud assembly (no manifest.json)',
    );
  });
});

describe('coldStartTable', () => {
  it('shows before → after where the figures differ, and a failed first call by its error', () => {
    const before = row({
      bytes: 654_116,
      sdkClients: ['dynamodb', 'eventbridge', 'lambda', 's3', 'sqs'],
      firstCallError: 'FANOUT_X is not set',
    });
    const text = coldStartTable([row({})], [before]);
    const [header, , line, failure] = text.split('\n');
    expect(header).toMatch(/function .* index\.mjs KiB .* import ms .* first call ms .* SDK clients/);
    expect(line).toContain('638.8 → 363.7');
    expect(line).toContain('fails → 5.7');
    expect(line).toContain('dynamodb eventbridge lambda s3 sqs → dynamodb');
    expect(line).toMatch(/\| +114\.4 \|/);
    expect(failure).toBe('DeadLetters (before): the first call failed: FANOUT_X is not set');
  });
});
