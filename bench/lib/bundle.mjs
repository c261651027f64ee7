// Bundles a TypeScript bench (bench/NAME.ts) with esbuild into bench/.build/NAME.mjs, inside the
// repository so the bundle's imports find node_modules.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Where bench/NAME.ts is bundled to. */
export const bundlePath = (name) => join(ROOT, 'bench/.build', `${name}.mjs`);

/** Bundles bench/NAME.ts into bench/.build/NAME.mjs and returns its path. */
export async function bundleBench(name) {
  const outfile = bundlePath(name);
  const { build } = await import('esbuild');
  await build({
    entryPoints: [join(ROOT, `bench/${name}.ts`)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    packages: 'external',
    logLevel: 'warning',
  });
  return outfile;
}
