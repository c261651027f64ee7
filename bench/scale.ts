// The scale bench: fanout's real dispatch, chunk, finalize and job-state code against modelled
// AWS adapters (bench/scale/): S3, SQS and DynamoDB in memory with typical latencies and AWS's
// limits enforced, on a simulated clock, so 10^5 parts and 10^7 lines run in seconds. Every
// figure that comes from the model is labelled "modelled"; CPU times are measured.
//
//   node bench/scale.mjs [--tiny] [--shards 16] [--cpu-us 61] [--json FILE]
//   npm run bench -- --only scale
//
// bench/scale.mjs bundles this file and calls runScaleBench with the cost model
// (bench/cost-model.mjs), which reads the product's defaults at run time.
import { writeFile } from 'node:fs/promises';
import { DEPLOYMENT_DEFAULTS, RUNTIME_DEFAULTS } from '../lambda/core/contract.js';
import { AWS_LATENCY_MS, AWS_LIMITS } from './scale/aws-figures.js';
import { interpolateChunkSeconds, type JobModelResult, modelJob } from './scale/job-model.js';
import { type ContentionRun, contentionStage, dispatchStage, finalizeStage } from './scale/stages.js';

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

export interface ScaleOptions {
  tiny: boolean;
  shards: number;
  cpuUs: number;
  json?: string;
}

const fmt = (v: number, digits = 0) =>
  Number.isFinite(v)
    ? v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';

function table(headers: string[], rows: Array<Array<string | number>>): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: Array<string | number>) =>
    `| ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i] ?? 0) : String(c).padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w - 1)}` : `${'-'.repeat(w - 1)}:`));
  return [line(headers), `| ${rule.join(' | ')} |`, ...rows.map(line)].join('\n');
}

const vcpu = (memoryMb: number) => Math.min(1, memoryMb / AWS_LIMITS.lambdaMbPerVcpu);
const log = (text: string) => process.stderr.write(`${text}\n`);

/** Runs every stage, prints Markdown on stdout, and returns the figures. */
export async function runScaleBench(options: ScaleOptions, cost: CostModel) {
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
  const onLambda = (r: { simulatedSeconds: number; cpuSeconds: number }, mb: number) =>
    r.simulatedSeconds + r.cpuSeconds / vcpu(mb);
  const perPart = (onLambda(fb, workerMb) - onLambda(fa, workerMb)) / (fb.parts - fa.parts);
  const finalizeAt = (parts: number) => onLambda(fb, workerMb) + perPart * (parts - fb.parts);
  console.log('\n## Finalize against parts\n');
  console.log(
    `finalizeJob over tiny parts (one record each: its cost is per part), on a ${workerMb} MB worker's vCPU share (${fmt(vcpu(workerMb), 2)}), as it runs today; S3 ${fmt(AWS_LIMITS.s3GetPerPrefixPerSecond)} GET/s per prefix enforced.\n`,
  );
  // Lambda's limits on one run: a worker's timeout less its deadline margin, and the 15-minute maximum.
  const workerBudget = DEPLOYMENT_DEFAULTS.workerTimeoutSeconds - RUNTIME_DEFAULTS.deadlineMarginMs / 1000;
  const fits = (seconds: number) =>
    seconds <= workerBudget
      ? 'yes'
      : seconds <= AWS_LIMITS.lambdaTimeoutSeconds
        ? 'no (fits 900 s)'
        : 'no (over 900 s)';
  const finalizeRows: Array<Array<string | number>> = finalize.map((r) => [
    fmt(r.parts),
    `${fmt(r.simulatedSeconds, 1)} s`,
    `${fmt(r.cpuSeconds, 2)} s`,
    `${fmt(onLambda(r, workerMb), 1)} s`,
    fmt(r.s3Gets),
    fmt(r.slowDowns),
    fits(onLambda(r, workerMb)),
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
        `in a worker's ${workerBudget} s`,
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
    `Workers run processChunk (a stub engine: each chunk's fetch takes ${fmt(fetchSeconds, 2)} s of simulated time ±20%, a ${defaults.chunkSize}-URL chunk at 200 ms median and -c ${defaults.concurrency} in bench/cost-model.mjs; the chunk carries 10 URLs so its records cost little), for ${sizes.seconds} s of simulated time after a fifth of it as warm-up. Today's table counts every chunk with a transaction on the job item; the sharded variant counts on ${options.shards} counter items. Limits enforced: ${fmt(AWS_LIMITS.dynamoWcuPerPartitionPerSecond)} WCU/s and ${fmt(AWS_LIMITS.dynamoRcuPerPartitionPerSecond)} RCU/s per item, 2 WCU per item of a transaction, conflicts while a transaction holds an item (retried as the adapter does). All figures modelled.\n`,
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
        r.shards === 1 ? '1 (today)' : fmt(r.shards),
        fmt(r.completionsPerSecond, 1),
        fmt(r.conflicts / Math.max(1, r.chunks), 2),
        fmt(r.throttles / Math.max(1, r.chunks), 2),
        fmt(r.failures),
        fmt(r.peakItemWriteUnits),
        fmt(r.chunkSeconds, 2),
      ]),
    ),
  );

  // The 10^8-URL job.
  const urls = 1e8;
  const chunksOf = Math.ceil(urls / defaults.chunkSize);
  const dispatchPerLine = onLambda(lastDispatch, dispatcherMb) / lastDispatch.lines;
  const rereadPerLine = lastDispatch.cpuSeconds / vcpu(dispatcherMb) / lastDispatch.lines;
  const runSeconds = DEPLOYMENT_DEFAULTS.dispatcherTimeoutSeconds - RUNTIME_DEFAULTS.dispatchMarginMs / 1000;
  const finalizeSeconds = finalizeAt(chunksOf);
  const scenarios: Array<{ label: string; shards: number; maxConcurrency: number; result: JobModelResult }> =
    [];
  for (const shards of [1, options.shards]) {
    const points = contention
      .filter((r) => r.shards === shards)
      .map((r) => ({ workers: r.workers, chunkSeconds: r.workers / r.completionsPerSecond }));
    const chunkSecondsAt = interpolateChunkSeconds(points);
    for (const maxConcurrency of [
      DEPLOYMENT_DEFAULTS.maxWorkerConcurrency,
      AWS_LIMITS.lambdaAccountConcurrency,
    ]) {
      const result = modelJob({
        urls,
        chunkSize: defaults.chunkSize,
        maxConcurrency,
        chunkSecondsAt,
        dispatchSecondsPerLine: dispatchPerLine,
        rereadSecondsPerLine: rereadPerLine,
        dispatchRunSeconds: runSeconds,
        finalizeSeconds,
      });
      scenarios.push({
        label: `${maxConcurrency === DEPLOYMENT_DEFAULTS.maxWorkerConcurrency ? 'stack default' : 'account default'} ${maxConcurrency} workers, ${shards === 1 ? 'one job item (today)' : `${shards} counter items`}`,
        shards,
        maxConcurrency,
        result,
      });
    }
  }
  const costRow = cost.costTable({
    cpuUs: options.cpuUs,
    dispatchCpuUs: (lastDispatch.cpuSeconds / lastDispatch.lines) * 1e6,
    latencyMs: 200,
    ...defaults,
  }).fanout;
  // What the cost model leaves out and the contention stage measured at the most workers: retried
  // transactions (each conflict or throttle a refused 2-item transaction, charged as one) and
  // the worker time spent waiting on them, beyond the model's chunk overhead.
  const chunksPerMillion = 1e6 / defaults.chunkSize;
  const costOf = (run: ContentionRun) => {
    const retriesPerChunk = (run.conflicts + run.throttles) / Math.max(1, run.chunks);
    const extraSeconds = Math.max(
      0,
      run.chunkSeconds - fetchSeconds - cost.ASSUMPTIONS.chunkOverheadMs / 1000,
    );
    const extra =
      chunksPerMillion * retriesPerChunk * 4 * cost.PRICES.dynamoWriteUnit +
      chunksPerMillion * extraSeconds * (workerMb / 1024) * cost.PRICES.lambdaArmGbSecond;
    return { run, retriesPerChunk, extraSeconds, perMillion: costRow.total + extra };
  };
  const costs = [1, options.shards].map((shards) =>
    costOf(contention.filter((r) => r.shards === shards).at(-1) as ContentionRun),
  );
  console.log(`\n## A 10^8-URL job at 200 ms median latency (modelled)\n`);
  console.log(
    `${fmt(chunksOf)} chunks of ${defaults.chunkSize}, -c ${defaults.concurrency}, ${workerMb} MB arm64 workers. Dispatch at ${fmt(1 / dispatchPerLine)} lines/s (the 10^7-line run), handing over every ${runSeconds} s and re-reading the list from the start on each resume (today's code: ${fmt(1 / rereadPerLine)} lines/s skipped); the event source ramps from ${AWS_LIMITS.sqsEventSourceInitial} by ${AWS_LIMITS.sqsEventSourceRampPerMinute} a minute; seconds per chunk at each concurrency from the contention runs above; finalize of ${fmt(chunksOf)} parts extrapolated from the finalize runs (${fmt(finalizeSeconds)} s).\n`,
  );
  console.log(
    table(
      ['setup', 'wall (modelled)', 'dispatch', 'dispatch runs', 'full concurrency at', 'peak chunks/s'],
      scenarios.map(({ label, result }) => [
        label,
        `${fmt(result.wallSeconds / 60, 1)} min`,
        `${fmt(result.dispatchSeconds / 60, 1)} min`,
        fmt(result.dispatchRuns),
        result.fullConcurrencyAt === null ? 'never' : `${fmt(result.fullConcurrencyAt / 60, 1)} min`,
        fmt(result.peakCompletionsPerSecond, 0),
      ]),
    ),
  );
  if (finalizeSeconds > workerBudget)
    console.log(
      `\nFinalize of ${fmt(chunksOf)} parts takes ${fmt(finalizeSeconds)} s (modelled), over a worker's ${workerBudget} s: where it runs in the tail of the worker that counted the last chunk, the job does not finish (each delivery starts over until the chunk is dead-lettered); the wall times assume it runs where it has time.`,
    );
  console.log(
    `\nCost (modelled): bench/cost-model.mjs at ${fmt(options.cpuUs)} µs of CPU per URL ($${costRow.total.toFixed(4)} per million URLs), plus the refused transactions and the waiting per chunk measured at the most workers:\n`,
  );
  console.log(
    table(
      [
        'job state',
        'refused transactions per chunk',
        'waiting per chunk',
        '$ per 1M URLs',
        '$ for 10^8 URLs',
      ],
      costs.map((c) => [
        c.run.shards === 1
          ? `one job item (today), ${fmt(c.run.workers)} workers`
          : `${c.run.shards} counter items, ${fmt(c.run.workers)} workers`,
        fmt(c.retriesPerChunk, 2),
        `${fmt(c.extraSeconds * 1000)} ms`,
        `$${c.perMillion.toFixed(4)}`,
        `$${fmt(c.perMillion * 100, 2)}`,
      ]),
    ),
  );
  const chunksGaveUp = contention.filter((r) => r.failures > 0);
  if (chunksGaveUp.length > 0)
    console.log(
      `\nGave up: a count that fails all ${10} attempts is a failed chunk; the model puts it back at once, but on AWS it waits out the visibility timeout (${fmt((DEPLOYMENT_DEFAULTS.workerTimeoutSeconds * DEPLOYMENT_DEFAULTS.visibilityPerTimeout) / 60)} min) and counts towards maxReceiveCount ${DEPLOYMENT_DEFAULTS.maxReceiveCount}: the wall times above are then optimistic.`,
    );

  // Targets.
  const target100k = finalize.find((r) => r.parts === 100_000);
  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const finalize100k = target100k ? onLambda(target100k, workerMb) : finalizeAt(100_000);
  const at1000 = (shards: number) => {
    const scenario = scenarios.find(
      (s) => s.maxConcurrency === AWS_LIMITS.lambdaAccountConcurrency && s.shards === shards,
    );
    const gaveUp = (contention.filter((r) => r.shards === shards).at(-1) as ContentionRun).failures;
    const wall = scenario?.result.wallSeconds ?? Number.POSITIVE_INFINITY;
    return [
      `${fmt(wall / 60, 0)} min${gaveUp > 0 ? `, ${fmt(gaveUp)} counts gave up` : ''}`,
      verdict(wall <= 3600 && gaveUp === 0),
    ];
  };
  const itemRate = contention.filter((r) => r.shards === 1).at(-1) as ContentionRun;
  const shardRate = contention.filter((r) => r.shards !== 1).at(-1) as ContentionRun;
  console.log('\n## Against the targets of issue 23 (modelled)\n');
  console.log(
    table(
      ['target', 'modelled', ''],
      [
        [
          `finalize of 100,000 parts ≤ 5 min${target100k ? '' : ' (extrapolated)'}`,
          `${fmt(finalize100k / 60, 1)} min`,
          verdict(finalize100k <= 300),
        ],
        ['10^8 URLs at 1,000 workers, 200 ms: ≤ 1 h wall (one job item, today)', ...at1000(1)],
        [
          `10^8 URLs at 1,000 workers, 200 ms: ≤ 1 h wall (${options.shards} counter items)`,
          ...at1000(options.shards),
        ],
        ...costs.map((c) => [
          `≤ $0.03 per million URLs (${c.run.shards === 1 ? 'one job item, today' : `${c.run.shards} counter items`})`,
          `$${c.perMillion.toFixed(4)}`,
          verdict(c.perMillion <= 0.03),
        ]),
        [
          `per-item write rate < ${fmt(AWS_LIMITS.dynamoWcuPerPartitionPerSecond)} WCU/s at ${fmt(itemRate.workers)} workers (one job item, today)`,
          `${fmt(itemRate.peakItemWriteUnits)} WCU/s, ${fmt(itemRate.conflicts / Math.max(1, itemRate.chunks), 2)} conflicts per chunk`,
          verdict(itemRate.peakItemWriteUnits < AWS_LIMITS.dynamoWcuPerPartitionPerSecond),
        ],
        [
          `per-item write rate < ${fmt(AWS_LIMITS.dynamoWcuPerPartitionPerSecond)} WCU/s at ${fmt(shardRate.workers)} workers (${options.shards} counter items)`,
          `${fmt(shardRate.peakItemWriteUnits)} WCU/s, ${fmt(shardRate.conflicts / Math.max(1, shardRate.chunks), 2)} conflicts per chunk`,
          verdict(shardRate.peakItemWriteUnits < AWS_LIMITS.dynamoWcuPerPartitionPerSecond),
        ],
      ],
    ),
  );
  const report = { finalize, dispatch, contention, scenarios, fetchSeconds, costs, finalizeSeconds };
  if (options.json) await writeFile(options.json, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
