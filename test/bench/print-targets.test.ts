import { afterEach, describe, expect, it, vi } from 'vitest';
import { printTargets, type TargetsReport } from '../../bench/lib/print.mjs';

const cell = { latency: 0, concurrency: 100, urls: 20_000 };

function report(clients: { name: string; rps: number; cpuUs: number }[]): TargetsReport {
  return {
    aiohttp: {
      debian: { aiohttp: '3.8.4', python: '3.11.2' },
      pypi: { aiohttp: '3.14.5', python: '3.11.7' },
    },
    matrix: [{ cell, clients }],
    long: { cell: { urls: 100_000 }, clients: [{ name: 'fanout run', rps: 9_100 }], wrk: { rps: 10_000 } },
    dispatcher: { lines: 1_000_000, urlsPerSecond: 1_200_000, rssMb: 140 },
    cost: { rows: [['fanout', 0.0209, '']] },
  };
}

/** The targets table's rows, as [target, measured, verdict]. */
function targetRows(r: TargetsReport): string[][] {
  const log = vi.spyOn(console, 'log').mockImplementation(() => {});
  printTargets(r);
  const text = log.mock.calls.map((c) => String(c[0])).join('\n');
  return text
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| target') && !line.startsWith('| :'))
    .map((line) =>
      line
        .slice(2, -2)
        .split(' | ')
        .map((c) => c.trim()),
    );
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('printTargets', () => {
  const fanout = { name: 'fanout run', rps: 19_000, cpuUs: 65 };
  const debian = { name: 'aiohttp (Debian), shared session', rps: 6_100, cpuUs: 165 };
  const pypi = { name: 'aiohttp (PyPI), shared session', rps: 10_000, cpuUs: 100 };

  it('checks the 0 ms targets against both aiohttp builds, each on its own figures', () => {
    const rows = targetRows(report([fanout, pypi, debian]));
    const zeroMs = rows.filter(([target]) => target?.startsWith('0 ms, c=100, 20,000 URLs'));
    expect(zeroMs).toEqual([
      [expect.stringContaining("aiohttp 3.8.4 (Debian's: the issue's reference)"), '3.11×', 'met'],
      [expect.stringContaining('½ the CPU per request of aiohttp 3.8.4'), '0.39×', 'met'],
      [expect.stringContaining('aiohttp 3.14.5 (PyPI: stricter)'), '1.90×', 'MISSED'],
      [expect.stringContaining('½ the CPU per request of aiohttp 3.14.5'), '0.65×', 'MISSED'],
    ]);
  });

  it('leaves out the rows of a build that did not run, and keeps the others', () => {
    const rows = targetRows(report([fanout, pypi]));
    expect(rows.filter(([t]) => t?.includes('Debian'))).toEqual([]);
    expect(rows.filter(([t]) => t?.includes('PyPI'))).toHaveLength(2);
    expect(rows.map(([t]) => t)).toContain('dispatcher ≥ 500,000 URLs/s');
  });

  it('marks the line itself as met: ≤ ½ and ≥ 2× are inclusive', () => {
    const rows = targetRows(report([{ name: 'fanout run', rps: 12_200, cpuUs: 82.5 }, debian]));
    expect(rows.slice(0, 2).map((r) => r[2])).toEqual(['met', 'met']);
  });

  it('reports the other targets from their own figures', () => {
    const rows = targetRows(report([fanout, debian]));
    expect(rows.find(([t]) => t?.startsWith('50 ms'))?.slice(1)).toEqual(['91%', 'met']);
    expect(rows.find(([t]) => t?.startsWith('dispatcher peak RSS'))?.slice(1)).toEqual(['140 MB', 'met']);
    expect(rows.find(([t]) => t?.startsWith('cost'))?.slice(1)).toEqual(['$0.0209', 'met']);
  });
});
