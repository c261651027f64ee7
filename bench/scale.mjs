// `node bench/scale.mjs [--tiny] [--shards N] [--cpu-us N] [--json FILE]`: the scale bench
// (bench/scale.ts) with a model of AWS. It bundles bench/scale.ts with esbuild into
// bench/.build/scale.mjs (inside the repository, so its imports find node_modules) and runs it
// with the cost model of bench/cost-model.mjs and bench/lib/print.mjs's tables. See docs/scale.md.
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as cost from './cost-model.mjs';
import { bundleBench } from './lib/bundle.mjs';
import { fmt, table } from './lib/print.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// The sharded variant defaults to the deployed table's counter items (the deployment contract).
const { JOB_TABLE } = await import(new URL('lambda/core/contract.ts', pathToFileURL(ROOT)).href);
const { values } = parseArgs({
  options: {
    tiny: { type: 'boolean', default: false },
    shards: { type: 'string', default: String(JOB_TABLE.counterShards) },
    'cpu-us': { type: 'string', default: '61' },
    json: { type: 'string' },
  },
});
const positive = (name, text) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`--${name} must be a whole number ≥ 1, not ${JSON.stringify(text)}`);
  return n;
};
const options = {
  tiny: values.tiny,
  shards: positive('shards', values.shards),
  cpuUs: positive('cpu-us', values['cpu-us']),
  json: values.json,
};
const outfile = await bundleBench('scale');
const { runScaleBench } = await import(pathToFileURL(outfile).href);
await runScaleBench(options, cost, { fmt, table });
