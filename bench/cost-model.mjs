// What a million URLs cost on AWS: fanout (dispatcher → SQS → worker Lambdas → S3,
// DynamoDB) next to Step Functions Distributed Map doing the same, from the CPU time per
// URL that the benchmark measures.
//
//   node bench/cost-model.mjs [--cpu-us 70] [--latency-ms 200] [--chunk-size N]
//                             [--concurrency N] [--memory MB]   (defaults: the product's)
//
// Prices: US East (N. Virginia), on-demand, free tiers left out, as published on the
// AWS pricing pages below, checked 2026-11-25:
//   Lambda        https://aws.amazon.com/lambda/pricing/          (Arm: first 7.5 billion GB-s/month)
//   SQS           https://aws.amazon.com/sqs/pricing/             (FIFO queue, as the stack's: $0.50 per
//                                                                  million requests; every 64 KiB of a
//                                                                  request's payload is billed as one request)
//   S3            https://aws.amazon.com/s3/pricing/              (S3 Standard requests)
//   DynamoDB      https://aws.amazon.com/dynamodb/pricing/on-demand/ (after the November 2024 cut; a
//                                                                  transactional write costs 2 WRU per KB)
//   Step Functions https://aws.amazon.com/step-functions/pricing/ (Standard transitions; Express
//                                                                  requests and duration, billed in 64 MB
//                                                                  and 100 ms steps) and
//                 https://docs.aws.amazon.com/step-functions/latest/dg/concepts-transitions.html
//                 (a Distributed Map is charged one state transition per child workflow it starts)
import { parseArgs } from 'node:util';
import { seededRandom } from './lib/seeded-random.mjs';

const ROOT = new URL('..', import.meta.url);
const { DEPLOYMENT_DEFAULTS, RUNTIME_DEFAULTS } = await import(new URL('lambda/core/contract.ts', ROOT).href);

export const PRICES = {
  lambdaArmGbSecond: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  /** FIFO: the chunk queue's message groups are the jobs' host groups (docs/architecture.md). */
  sqsRequest: 0.5 / 1e6,
  s3Put: 0.005 / 1000,
  s3Get: 0.0004 / 1000,
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  sfnStateTransition: 0.025 / 1000,
  sfnExpressRequest: 1.0 / 1e6,
  /** First 1,000 GB-hours a month ($0.06 per GB-hour). */
  sfnExpressGbSecond: 0.00001667,
};

/** Lambda gives a function one full vCPU at 1,769 MB, and CPU in proportion to memory. */
const MB_PER_VCPU = 1769;

/**
 * What the model assumes beyond the prices. Every value is a plain guess written down,
 * so it can be argued with; the command line overrides the main ones.
 */
export const ASSUMPTIONS = {
  /** Per-URL latency: lognormal with this median and σ (σ 0.5: p90 ≈ 1.9×, p99 ≈ 3.2× the median). */
  latencySigma: 0.5,
  /** A chunk message's bytes per URL (the item's JSON: line and a ~60-character URL). */
  itemBytes: 80,
  /** Per chunk outside the fetches: part check and put on S3, job read and chunk count on DynamoDB. */
  chunkOverheadMs: 60,
  /** A running chunk polls the job item for cancellation this often (the handlers' default). */
  cancelPollMs: RUNTIME_DEFAULTS.cancelPollMs,
  /**
   * Finalize: copy every part into results.jsonl.gz and merge the parts' digests (CPU per
   * URL, one vCPU). Measured about 0.3 µs locally (100,000 URLs, 100 parts); 0.5 allows for
   * the S3 streams.
   */
  finalizeCpuUs: 0.5,
  /**
   * URLs per origin in the list: each origin costs its robots.txt verdict's S3 PUT and GET
   * (robots obeyed, the default). A guess: a link check has many per origin, a dataset
   * download over the whole web few.
   */
  urlsPerOrigin: 100,
  /** Dispatcher and finalizer Lambda memory (MB), as the stack deploys them. */
  dispatcherMemoryMb: DEPLOYMENT_DEFAULTS.dispatcherMemoryMiB,
  /** Step Functions child Lambda (one per URL): the smallest memory size. */
  perItemLambdaMemoryMb: 128,
  /** Invoking a Lambda from an Express child workflow adds this much to its duration. */
  sfnInvokeOverheadMs: 30,
};

function lognormal(random, median, sigma) {
  // Box-Muller.
  const u = Math.max(random(), 1e-12);
  const v = random();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return median * Math.exp(sigma * z);
}

/**
 * Mean wall time (s) to fetch `items` URLs with `concurrency` in flight: the makespan of
 * a FIFO queue over that many slots, averaged over simulated chunks; never less than the
 * CPU time the URLs need on the memory's share of a vCPU.
 */
export function chunkSeconds({ items, concurrency, latencyMs, sigma, cpuUs, memoryMb, samples = 200 }) {
  const random = seededRandom(42);
  let total = 0;
  for (let s = 0; s < samples; s += 1) {
    const slots = new Array(Math.min(concurrency, items)).fill(0);
    for (let i = 0; i < items; i += 1) {
      // The slot that frees first takes the next URL.
      let at = 0;
      for (let k = 1; k < slots.length; k += 1) if (slots[k] < slots[at]) at = k;
      slots[at] += lognormal(random, latencyMs, sigma);
    }
    total += Math.max(...slots);
  }
  const latencyBound = total / samples / 1000;
  const cpuBound = (items * cpuUs) / 1e6 / Math.min(1, memoryMb / MB_PER_VCPU);
  return Math.max(latencyBound, cpuBound);
}

/** fanout's cost per million URLs, by service. */
export function fanoutCost({
  cpuUs,
  dispatchCpuUs,
  latencyMs,
  chunkSize,
  concurrency,
  memoryMb,
  robots = true,
}) {
  const a = ASSUMPTIONS;
  const p = PRICES;
  const chunks = 1e6 / chunkSize;
  const fetchSeconds = chunkSeconds({
    items: chunkSize,
    concurrency,
    latencyMs,
    sigma: a.latencySigma,
    cpuUs,
    memoryMb,
  });
  const chunkSecondsTotal = fetchSeconds + a.chunkOverheadMs / 1000;
  const workerGbSeconds = chunks * chunkSecondsTotal * (memoryMb / 1024);
  // Dispatcher and finalize run once per job; their time grows with the URLs.
  const oneJobVcpu = a.dispatcherMemoryMb / MB_PER_VCPU;
  const sideSeconds = (1e6 * (dispatchCpuUs + a.finalizeCpuUs)) / 1e6 / oneJobVcpu;
  const sideGbSeconds = sideSeconds * (a.dispatcherMemoryMb / 1024);

  const messageBytes = chunkSize * a.itemBytes + 1024;
  const unitsPerMessage = Math.ceil(messageBytes / 65536);
  const sendUnitsPerChunk = Math.ceil((10 * messageBytes) / 65536) / 10;
  // The event source's receive and delete, one request each per message at worst.
  const sqsUnits = chunks * (sendUnitsPerChunk + unitsPerMessage + 1);
  const polls = Math.floor((chunkSecondsTotal * 1000) / a.cancelPollMs);
  const lines = {
    'Lambda requests': (chunks + 2) * p.lambdaRequest,
    'Lambda GB-seconds': (workerGbSeconds + sideGbSeconds) * p.lambdaArmGbSecond,
    'SQS requests': sqsUnits * p.sqsRequest,
    // Per chunk: the part put; the part check (HEAD), finalize's read (GET) and the host
    // group's pace read (GET; its put only after a 429/503, left out).
    'S3 requests': chunks * (p.s3Put + 3 * p.s3Get),
    // Per origin: its robots.txt verdict, put once and read once.
    'S3 requests, robots.txt': robots ? (1e6 / a.urlsPerOrigin) * (p.s3Put + p.s3Get) : 0,
    // Per chunk: the job read (and cancel polls) and the chunk count, a 2-item transaction.
    'DynamoDB requests': chunks * ((1 + polls) * p.dynamoReadUnit + 4 * p.dynamoWriteUnit),
  };
  return { lines, total: sum(lines), chunkSeconds: chunkSecondsTotal };
}

/**
 * Step Functions Distributed Map over the same list: each item (or batch of items) is a
 * child Express workflow that invokes a Lambda function.
 */
export function distributedMapCost({ cpuUs, latencyMs, batch, concurrency, memoryMb }) {
  const a = ASSUMPTIONS;
  const p = PRICES;
  const children = 1e6 / batch;
  const lambdaMemory = batch === 1 ? a.perItemLambdaMemoryMb : memoryMb;
  const lambdaSeconds =
    chunkSeconds({
      items: batch,
      concurrency: batch === 1 ? 1 : concurrency,
      latencyMs,
      sigma: a.latencySigma,
      cpuUs,
      memoryMb: lambdaMemory,
    }) + (batch === 1 ? 0 : a.chunkOverheadMs / 1000);
  const childSeconds = Math.ceil(((lambdaSeconds * 1000 + a.sfnInvokeOverheadMs) / 100) * 0.999) / 10;
  const lines = {
    'Step Functions transitions': children * p.sfnStateTransition,
    'Express requests': children * p.sfnExpressRequest,
    'Express GB-seconds': children * childSeconds * (64 / 1024) * p.sfnExpressGbSecond,
    'Lambda requests': children * p.lambdaRequest,
    'Lambda GB-seconds': children * lambdaSeconds * (lambdaMemory / 1024) * p.lambdaArmGbSecond,
    // A batch's records outgrow an execution's 256 KiB output: its Lambda puts them on S3.
    'S3 requests': batch === 1 ? 0 : children * p.s3Put,
  };
  return { lines, total: sum(lines) };
}

function sum(lines) {
  return Object.values(lines).reduce((a, b) => a + b, 0);
}

/** The comparison as rows: [what, $ per million URLs, note]. */
export function costTable({ cpuUs, dispatchCpuUs, latencyMs, chunkSize, concurrency, memoryMb }) {
  const settings = { cpuUs, dispatchCpuUs, latencyMs, chunkSize, concurrency, memoryMb };
  const fanout = fanoutCost(settings);
  const ignoring = fanoutCost({ ...settings, robots: false });
  const perItem = distributedMapCost({ cpuUs, latencyMs, batch: 1, concurrency, memoryMb });
  const batched = distributedMapCost({ cpuUs, latencyMs, batch: chunkSize, concurrency, memoryMb });
  return {
    fanout,
    rows: [
      [
        `fanout (chunks of ${chunkSize}, -c ${concurrency}, ${memoryMb} MB arm64, robots.txt obeyed, ${ASSUMPTIONS.urlsPerOrigin} URLs per origin)`,
        fanout.total,
        breakdown(fanout.lines),
      ],
      ['the same, robots.txt ignored', ignoring.total, breakdown(ignoring.lines)],
      ['Distributed Map, one URL per child (128 MB Lambda)', perItem.total, breakdown(perItem.lines)],
      [
        `Distributed Map, ${chunkSize} URLs per child (a fanout-like Lambda)`,
        batched.total,
        breakdown(batched.lines),
      ],
    ],
  };
}

function breakdown(lines) {
  return Object.entries(lines)
    .filter(([, v]) => v >= 0.00005)
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join(', ');
}

/**
 * The settings a deployment runs with unless told otherwise: chunk size and concurrency
 * from the option table (lambda/core/job-options.ts), worker memory as the stack
 * deploys it (the deployment contract, lambda/core/contract.ts).
 */
export async function productDefaults() {
  // The table's modules import each other by .js names: the same hook as the CDK app maps them.
  await import(new URL('infra/resolve-ts.ts', ROOT).href);
  const { DEFAULT_OPTIONS } = await import(new URL('lambda/core/options.ts', ROOT).href);
  return {
    chunkSize: DEFAULT_OPTIONS.chunkSize,
    concurrency: DEFAULT_OPTIONS.concurrency,
    memoryMb: DEPLOYMENT_DEFAULTS.workerMemoryMiB,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const defaults = await productDefaults();
  const { values } = parseArgs({
    options: {
      'cpu-us': { type: 'string', default: '70' },
      'dispatch-cpu-us': { type: 'string', default: '1' },
      'latency-ms': { type: 'string', default: '200' },
      'chunk-size': { type: 'string', default: String(defaults.chunkSize) },
      concurrency: { type: 'string', default: String(defaults.concurrency) },
      memory: { type: 'string', default: String(defaults.memoryMb) },
    },
  });
  const { rows, fanout } = costTable({
    cpuUs: Number(values['cpu-us']),
    dispatchCpuUs: Number(values['dispatch-cpu-us']),
    latencyMs: Number(values['latency-ms']),
    chunkSize: Number(values['chunk-size']),
    concurrency: Number(values.concurrency),
    memoryMb: Number(values.memory),
  });
  console.log(`a chunk takes ${(fanout.chunkSeconds * 1000).toFixed(0)} ms`);
  for (const [what, dollars, note] of rows) console.log(`$${dollars.toFixed(4)}  ${what}\n          ${note}`);
}
