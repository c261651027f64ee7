// Bundles the CLI into dist/cli.js; dependencies stay in node_modules. What is loaded
// with import() (the AWS SDK behind --endpoint and the remote commands) goes into
// dist/chunks/ and loads only when a command needs it.
import { rm } from 'node:fs/promises';
import { build } from 'esbuild';

await rm('dist', { recursive: true, force: true });
await build({
  entryPoints: { cli: 'lambda/cli.ts' },
  outdir: 'dist',
  chunkNames: 'chunks/[name]-[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  packages: 'external',
  sourcemap: true,
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
