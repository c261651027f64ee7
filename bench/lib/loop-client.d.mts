// Types for loop-client.mjs, for the reference clients written in TypeScript (bench/engine.ts).

export function loopArgs(): { urls: string[]; concurrency: number };

export function readUrlList(file: string): string[];

export function loopClock(): {
  report(counts: { requests: number; ok: number; errors: number }): void;
};
