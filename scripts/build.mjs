// Bundles the CLI into dist/cli.js; dependencies stay in node_modules.
import { build } from 'esbuild';

await build({
  entryPoints: ['lambda/cli.ts'],
  outfile: 'dist/cli.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  packages: 'external',
  sourcemap: true,
  banner: { js: '#!/usr/bin/env node' },
  logLevel: 'warning',
});
