// Bundles the CLI into dist/cli.js, executable; dependencies stay in node_modules. What is
// loaded with import() (the CLI itself once the Node version is checked, the AWS SDK behind
// --endpoint and the remote commands) goes into dist/chunks/ and loads only when needed.
//
//   node scripts/build.mjs [--outdir DIR]   (default: dist; keep DIR inside the repository,
//                                            so the bundle finds node_modules)
import { chmod, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..');
const { values } = parseArgs({ options: { outdir: { type: 'string', default: join(ROOT, 'dist') } } });
const outdir = resolve(values.outdir);

// The Node the CLI needs is package.json's engines.node: the bundle is built for it, and the
// entry (lambda/cli.ts) tells an older Node so, in one line, instead of failing to parse.
const { engines } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8'));
const nodeMajor = /^>=\s*(\d+)$/.exec(engines?.node ?? '')?.[1];
if (!nodeMajor)
  throw new Error(`package.json engines.node must read ">=N", not ${JSON.stringify(engines?.node)}`);

await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: ROOT,
  entryPoints: { cli: 'lambda/cli.ts' },
  outdir,
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: `node${nodeMajor}`,
  define: { REQUIRED_NODE_MAJOR: nodeMajor },
  packages: 'external',
  sourcemap: true,
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
// `npx fanout` and ./dist/cli.js execute the file itself: a rebuild must leave it executable.
await chmod(join(outdir, 'cli.js'), 0o755);
