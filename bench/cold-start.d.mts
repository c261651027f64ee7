// Types for cold-start.mjs, for its tests (test/bench/cold-start.test.ts).

/** One function's figures on one side, as the bench reports them. */
export interface ColdStartRow {
  function: string;
  bytes: number;
  gzipBytes: number;
  sdkClients: string[];
  importMs: number;
  firstCallMs: number;
  firstCallError?: string;
  wallMs: number;
  runs: number;
}

export function parseOptions(argv: string[]): { runs: number; base?: string; cdkOut?: string; json?: string };
export function coldStartTable(after: ColdStartRow[], before?: ColdStartRow[]): string;
