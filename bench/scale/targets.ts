// The scale bench's modelled 10^8-URL job, its cost, and the targets of issue 23, from what
// the stages measured (bench/scale.ts runs them and calls this).
import { DEPLOYMENT_DEFAULTS, RUNTIME_DEFAULTS } from '../../lambda/core/contract.js';
import type { CostModel, Printer, ScaleOptions } from '../scale.js';
import { AWS_LIMITS } from './aws-figures.js';
import { interpolateChunkSeconds, type JobModelResult, modelJob } from './job-model.js';
import type { ContentionRun, DispatchRun, FinalizeRun } from './stages.js';

type Timed = { simulatedSeconds: number; cpuSeconds: number };

/** Prints the modelled 10^8-URL job, its cost and the targets table; returns their figures. */
export function printJobAndTargets(ctx: {
  options: ScaleOptions;
  cost: CostModel;
  print: Printer;
  defaults: { chunkSize: number; concurrency: number; memoryMb: number };
  fetchSeconds: number;
  finalize: FinalizeRun[];
  finalizeAt: (parts: number) => number;
  onLambda: (run: Timed, memoryMb: number) => number;
  lastDispatch: DispatchRun;
  contention: ContentionRun[];
}) {
  const { options, cost, defaults, fetchSeconds, finalize, finalizeAt, onLambda, lastDispatch, contention } =
    ctx;
  const { fmt, table } = ctx.print;
  const workerMb = DEPLOYMENT_DEFAULTS.workerMemoryMiB;
  const dispatcherMb = DEPLOYMENT_DEFAULTS.dispatcherMemoryMiB;
  const workerBudget = DEPLOYMENT_DEFAULTS.workerTimeoutSeconds - RUNTIME_DEFAULTS.deadlineMarginMs / 1000;
  // The 10^8-URL job.
  const urls = 1e8;
  const chunksOf = Math.ceil(urls / defaults.chunkSize);
  const dispatchPerLine = onLambda(lastDispatch, dispatcherMb) / lastDispatch.lines;
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
        // A plain-text list resumes from its byte offset (a ranged GET): nothing is re-read.
        rereadSecondsPerLine: 0,
        dispatchRunSeconds: runSeconds,
        finalizeSeconds,
      });
      scenarios.push({
        label: `${maxConcurrency === DEPLOYMENT_DEFAULTS.maxWorkerConcurrency ? 'stack default' : 'account default'} ${maxConcurrency} workers, ${shards === 1 ? 'one job item (before)' : `${shards} counter items`}`,
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
    `${fmt(chunksOf)} chunks of ${defaults.chunkSize}, -c ${defaults.concurrency}, ${workerMb} MB arm64 workers. Dispatch at ${fmt(1 / dispatchPerLine)} lines/s (the 10^7-line run), handing over every ${runSeconds} s and resuming a plain-text list from its byte offset (a gzip list would re-read from the start); the event source ramps from ${AWS_LIMITS.sqsEventSourceInitial} by ${AWS_LIMITS.sqsEventSourceRampPerMinute} a minute; seconds per chunk at each concurrency from the contention runs above; finalize of ${fmt(chunksOf)} parts extrapolated from the finalize runs (${fmt(finalizeSeconds)} s).\n`,
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
  console.log(
    `\nFinalize of ${fmt(chunksOf)} parts takes ${fmt(finalizeSeconds)} s (modelled) in the fan-in step: dispatcher invocations of their own, never a worker (whose ${workerBudget} s it would ${finalizeSeconds > workerBudget ? '' : 'not '}outlast).`,
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
          ? `one job item (before), ${fmt(c.run.workers)} workers`
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
  const finalize100k = target100k
    ? onLambda(target100k, DEPLOYMENT_DEFAULTS.dispatcherMemoryMiB)
    : finalizeAt(100_000);
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
        ['10^8 URLs at 1,000 workers, 200 ms: ≤ 1 h wall (one job item, before)', ...at1000(1)],
        [
          `10^8 URLs at 1,000 workers, 200 ms: ≤ 1 h wall (${options.shards} counter items)`,
          ...at1000(options.shards),
        ],
        ...costs.map((c) => [
          `≤ $0.03 per million URLs (${c.run.shards === 1 ? 'one job item, before' : `${c.run.shards} counter items`})`,
          `$${c.perMillion.toFixed(4)}`,
          verdict(c.perMillion <= 0.03),
        ]),
        [
          `per-item write rate < ${fmt(AWS_LIMITS.dynamoWcuPerPartitionPerSecond)} WCU/s at ${fmt(itemRate.workers)} workers (one job item, before)`,
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
  return { scenarios, costs, finalizeSeconds };
}
