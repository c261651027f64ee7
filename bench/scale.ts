// The scale bench: fanout's real dispatch, chunk, finalize and job-state code against modelled
// AWS adapters (bench/scale/): S3, SQS and DynamoDB in memory with typical latencies and AWS's
// limits enforced, on a simulated clock, so 10^5 parts and 10^7 lines run in seconds. Every
// figure that comes from the model is labelled "modelled"; CPU times are measured.
//
//   node bench/scale.mjs [--tiny] [--shards N] [--cpu-us 61] [--json FILE]
//   npm run bench -- --only scale
//
// bench/scale.mjs bundles this file and calls runScaleBench with the cost model
// (bench/cost-model.mjs), which reads the product's defaults at run time, and the Markdown
// printer of the other benches (bench/lib/print.mjs).
import { writeFile } from 'node:fs/promises';
import { DEPLOYMENT_DEFAULTS, RUNTIME_DEFAULTS } from '../lambda/core/contract.js';
import { AWS_LATENCY_MS, AWS_LIMITS, vcpuShare as vcpu } from './scale/aws-figures.js';
import { type ContentionRun, contentionStage, dispatchStage, finalizeStage } from './scale/stages.js';
import { printJobAndTargets } from './scale/targets.js';

/** What bench/cost-model.mjs exports that the bench uses. */
export interface CostModel {
  costTable(input: {
    cpuUs: number;
    dispatchCpuUs: number;
    latencyMs: number;
    chunkSize: number;
    concurrency: number;
    memoryMb: number;
  }): { fanout: { total: number; lines: Record<string, number>; chunkSeconds: number } };
  chunkSeconds(input: {
    items: number;
    concurrency: number;
    latencyMs: number;
    sigma: number;
    cpuUs: number;
    memoryMb: number;
  }): number;
  productDefaults(): Promise<{ chunkSize: number; concurrency: number; memoryMb: number }>;
  PRICES: { lambdaArmGbSecond: number; dynamoWriteUnit: number };
  ASSUMPTIONS: { latencySigma: number; chunkOverheadMs: number };
}

/** What bench/lib/print.mjs exports that the bench uses: the same Markdown as the other benches. */
export interface Printer {
  fmt(value: number, digits?: number): string;
  table(headers: string[], rows: Array<Array<string | number>>): string;
}

export interface ScaleOptions {
  tiny: boolean;
  shards: number;
  cpuUs: number;
  json?: string;
}

const log = (text: string) => process.stderr.write(`${text}\n`);

/** Runs every stage, prints Markdown on stdout, and returns the figures. */
export async function runScaleBench(options: ScaleOptions, cost: CostModel, print: Printer) {
  const { fmt, table } = print;
  const defaults = await cost.productDefaults();
  const workerMb = DEPLOYMENT_DEFAULTS.workerMemoryMiB;
  const dispatcherMb = DEPLOYMENT_DEFAULTS.dispatcherMemoryMiB;
  const sizes = options.tiny
    ? { parts: [100, 1_000], lines: [1_000, 10_000], workers: [10, 100], seconds: 10 }
    : {
        parts: [1_000, 10_000, 100_000],
        lines: [100_000, 1_000_000, 10_000_000],
        workers: [10, 100, 1_000],
        seconds: 30,
      };

  console.log('# fanout at scale: the real code against a model of AWS\n');
  console.log(
    `Node ${process.version}. Simulated time is the model's (labelled modelled); CPU is fanout's own code on this machine (measured). Latencies (ms, modelled medians): S3 GET ${AWS_LATENCY_MS.s3Get}, HEAD ${AWS_LATENCY_MS.s3Head}, PUT ${AWS_LATENCY_MS.s3Put}; DynamoDB read ${AWS_LATENCY_MS.dynamoRead}, write ${AWS_LATENCY_MS.dynamoWrite}, transaction ${AWS_LATENCY_MS.dynamoTransaction}; SQS send ${AWS_LATENCY_MS.sqsSend}, receive ${AWS_LATENCY_MS.sqsReceive}, delete ${AWS_LATENCY_MS.sqsDelete}. Sources in bench/scale/aws-figures.ts.${options.tiny ? ' (--tiny: small sizes, a smoke run)' : ''}`,
  );

  // Finalize against parts.
  const finalize = [];
  for (const parts of sizes.parts) {
    log(`finalize: ${parts} parts`);
    finalize.push(await finalizeStage(parts));
  }
  const [fa, fb] = finalize.slice(-2) as [(typeof finalize)[number], (typeof finalize)[number]];
  // The fan-in runs in dispatcher invocations of its own (1,024 MB), each handing over before its deadline.
  const fanInMb = DEPLOYMENT_DEFAULTS.dispatcherMemoryMiB;
  const onLambda = (r: { simulatedSeconds: number; cpuSeconds: number }, mb: number) =>
    r.simulatedSeconds + r.cpuSeconds / vcpu(mb);
  const perPart = (onLambda(fb, fanInMb) - onLambda(fa, fanInMb)) / (fb.parts - fa.parts);
  const finalizeAt = (parts: number) => onLambda(fb, fanInMb) + perPart * (parts - fb.parts);
  console.log('\n## Finalize against parts\n');
  console.log(
    `finalizeJob over tiny parts (one record each: its cost is per part): the fan-in step, in ${fanInMb} MB dispatcher invocations (${fmt(vcpu(fanInMb), 2)} vCPU) that hand over before their deadline; S3 ${fmt(AWS_LIMITS.s3GetPerPrefixPerSecond)} GET/s per prefix enforced.\n`,
  );
  // One fan-in invocation's budget: the dispatcher's timeout less its hand-over margin.
  const runBudget = DEPLOYMENT_DEFAULTS.dispatcherTimeoutSeconds - RUNTIME_DEFAULTS.dispatchMarginMs / 1000;
  const fits = (seconds: number) => fmt(Math.max(1, Math.ceil(seconds / runBudget)));
  const finalizeRows: Array<Array<string | number>> = finalize.map((r) => [
    fmt(r.parts),
    `${fmt(r.simulatedSeconds, 1)} s`,
    `${fmt(r.cpuSeconds, 2)} s`,
    `${fmt(onLambda(r, fanInMb), 1)} s`,
    fmt(r.s3Gets),
    fmt(r.slowDowns),
    fits(onLambda(r, fanInMb)),
  ]);
  const millionParts = finalizeAt(1_000_000);
  finalizeRows.push([
    '1,000,000 (extrapolated)',
    '–',
    '–',
    `${fmt(millionParts, 0)} s`,
    '–',
    '–',
    fits(millionParts),
  ]);
  console.log(
    table(
      [
        'parts',
        'S3 time (modelled)',
        'CPU (measured)',
        'on Lambda (modelled)',
        'S3 GETs',
        '503 SlowDown',
        `fan-in invocations (${runBudget} s each)`,
      ],
      finalizeRows,
    ),
  );

  // Dispatch against lines.
  const dispatch = [];
  for (const lines of sizes.lines) {
    log(`dispatch: ${lines} lines`);
    dispatch.push(await dispatchStage(lines));
  }
  console.log('\n## Dispatch against lines\n');
  console.log(
    `dispatchJob (parse, check, chunk, send in batches of ${AWS_LIMITS.sqsBatchMessages}) to a modelled SQS, on a ${dispatcherMb} MB dispatcher (${fmt(vcpu(dispatcherMb), 2)} vCPU). The list is generated as it is read (its CPU is counted).\n`,
  );
  console.log(
    table(
      [
        'lines',
        'chunks',
        'SQS time (modelled)',
        'CPU (measured)',
        'on Lambda (modelled)',
        'lines/s (modelled)',
      ],
      dispatch.map((r) => [
        fmt(r.lines),
        fmt(r.chunks),
        `${fmt(r.simulatedSeconds, 1)} s`,
        `${fmt(r.cpuSeconds, 2)} s`,
        `${fmt(onLambda(r, dispatcherMb), 1)} s`,
        fmt(r.lines / onLambda(r, dispatcherMb)),
      ]),
    ),
  );
  const lastDispatch = dispatch[dispatch.length - 1] as (typeof dispatch)[number];

  // Chunk completions and conflicts.
  const fetchSeconds = cost.chunkSeconds({
    items: defaults.chunkSize,
    concurrency: defaults.concurrency,
    latencyMs: 200,
    sigma: cost.ASSUMPTIONS.latencySigma,
    cpuUs: options.cpuUs,
    memoryMb: workerMb,
  });
  const contention: ContentionRun[] = [];
  for (const shards of [1, options.shards]) {
    for (const workers of sizes.workers) {
      log(`chunks: ${workers} workers, ${shards} counter item(s)`);
      contention.push(
        await contentionStage({
          workers,
          shards,
          seconds: sizes.seconds,
          fetchMs: fetchSeconds * 1000,
          itemsPerChunk: 10,
        }),
      );
    }
  }
  console.log('\n## Chunk completions on the job item\n');
  console.log(
    `Workers run processChunk (a stub engine: each chunk's fetch takes ${fmt(fetchSeconds, 2)} s of simulated time ±20%, a ${defaults.chunkSize}-URL chunk at 200 ms median and -c ${defaults.concurrency} in bench/cost-model.mjs; the chunk carries 10 URLs so its records cost little), for ${sizes.seconds} s of simulated time after a fifth of it as warm-up. The one-item variant counts every chunk with a transaction on the job item (fanout before issue 23); the sharded variant counts on ${options.shards} counter items (the deployed table's JOB_TABLE.counterShards by default). Limits enforced: ${fmt(AWS_LIMITS.dynamoWcuPerPartitionPerSecond)} WCU/s and ${fmt(AWS_LIMITS.dynamoRcuPerPartitionPerSecond)} RCU/s per item, 2 WCU per item of a transaction, conflicts while a transaction holds an item (retried as the adapter does). All figures modelled.\n`,
  );
  console.log(
    table(
      [
        'workers',
        'counter items',
        'chunks/s',
        'conflicts per chunk',
        'throttled per chunk',
        'gave up',
        'peak WCU/s on one item',
        's per chunk',
      ],
      contention.map((r) => [
        fmt(r.workers),
        r.shards === 1 ? '1 (before)' : fmt(r.shards),
        fmt(r.completionsPerSecond, 1),
        fmt(r.conflicts / Math.max(1, r.chunks), 2),
        fmt(r.throttles / Math.max(1, r.chunks), 2),
        fmt(r.failures),
        fmt(r.peakItemWriteUnits),
        fmt(r.chunkSeconds, 2),
      ]),
    ),
  );

  const { scenarios, costs, finalizeSeconds } = printJobAndTargets({
    options,
    cost,
    print,
    defaults,
    fetchSeconds,
    finalize,
    finalizeAt,
    onLambda,
    lastDispatch,
    contention,
  });
  const report = { finalize, dispatch, contention, scenarios, fetchSeconds, costs, finalizeSeconds };
  if (options.json) await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
