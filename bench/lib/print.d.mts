// Types for print.mjs, for the tests of the targets check (test/bench/print-targets.test.ts).

/** A run's report as bench/run.mjs builds it; only what printTargets reads. */
export interface TargetsReport {
  aiohttp?: Record<string, { aiohttp: string; python: string } | null>;
  matrix?: {
    cell: { latency: number; concurrency: number; urls: number };
    clients: { name: string; rps: number; cpuUs: number }[];
  }[];
  long?: { cell: { urls: number }; clients: { name: string; rps: number }[]; wrk: { rps: number } };
  dispatcher?: { lines: number; urlsPerSecond: number; rssMb: number };
  cost: { rows: [string, number, string][] };
}

export function printTargets(report: TargetsReport): void;
