// Types for assets.mjs, for the test of the deployed bundles (test/infra/handler-bundles.test.ts).

/** A Node.js function of a synthesized stack whose code is a bundled asset. */
export interface FunctionAsset {
  /** The function construct's id: Dispatcher, Worker, DeadLetters, Api. */
  name: string;
  /** The bundled module the function's handler names (index.mjs). */
  file: string;
  /** The function's environment; values that are not plain strings become placeholders. */
  environment: Record<string, string>;
}

export function synth(out: string, dir?: string): { stdout: string; stderr: string };
export function functionAssets(out: string): FunctionAsset[];
export function bundleSize(file: string): { bytes: number; gzipBytes: number };
export function bundledPackages(file: string): Set<string>;
export function bundledSdkClients(file: string): string[];

/** For each function, an event its handler takes without calling AWS. */
export const NO_OP_EVENTS: Record<string, unknown>;

/** One cold start of a function in a fresh process: ms of the import, of the first call (or its error), and of the process. */
export function coldStart(fn: FunctionAsset): Promise<{
  importMs: number;
  firstCallMs: number | null;
  firstCallError?: string;
  wallMs: number;
}>;
