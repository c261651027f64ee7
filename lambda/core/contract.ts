/**
 * The deployment contract: what the stack (infra/) and the code it deploys (lambda/handlers,
 * lambda/local, the CLI's remote commands) must agree on, defined once. Pure: no AWS SDK, no CDK.
 * Durations are plain numbers here; infra wraps them in `Duration`.
 */

/** The environment variables the stack sets on the handlers, by what each one holds. */
export const HANDLER_ENV = {
  /** The job bucket (inputs/ and jobs/). */
  bucket: 'FANOUT_BUCKET',
  /** The DynamoDB job table. */
  table: 'FANOUT_TABLE',
  /** The chunk queue's URL. */
  queueUrl: 'FANOUT_QUEUE_URL',
  /** The dispatcher function the API starts, and the worker for a fan-in (the dispatcher itself uses its own name). */
  dispatcherFunction: 'FANOUT_DISPATCHER_FUNCTION',
  /** Time a worker keeps before its deadline to save a checkpoint (ms). */
  deadlineMarginMs: 'FANOUT_DEADLINE_MARGIN_MS',
  /** Time a dispatcher keeps before its deadline to hand over to another invocation (ms). */
  dispatchMarginMs: 'FANOUT_DISPATCH_MARGIN_MS',
  /** How often a worker looks for a cancel request while fetching (ms). */
  cancelPollMs: 'FANOUT_CANCEL_POLL_MS',
  /** Lifetime of the presigned result URLs the API hands out (s). */
  resultUrlSeconds: 'FANOUT_RESULT_URL_SECONDS',
  /** Host groups a new job's URLs are split into (one worker at a time per group). */
  hostGroups: 'FANOUT_HOST_GROUPS',
  /** Options of jobs that name none (JSON object). */
  jobDefaults: 'FANOUT_JOB_DEFAULTS',
  /** Upper bounds on API callers' options (JSON object). */
  jobMaxima: 'FANOUT_JOB_MAXIMA',
  /** EventBridge bus of the completion event; none when empty. */
  eventBus: 'FANOUT_EVENT_BUS',
  /** CloudWatch namespace of the handlers' metrics. */
  metricsNamespace: 'FANOUT_METRICS_NAMESPACE',
  /** The least log level written (info, warn, error), or off. */
  logLevel: 'FANOUT_LOG_LEVEL',
  /** The names of the Secrets Manager secrets request headers may read (`secret:NAME`) start with this. */
  headerSecretsPrefix: 'FANOUT_HEADER_SECRETS_PREFIX',
} as const;

/** What a handler environment variable holds (a key of {@link HANDLER_ENV}). */
export type HandlerSetting = keyof typeof HANDLER_ENV;
/** A handler environment variable's name. */
export type HandlerVariable = (typeof HANDLER_ENV)[HandlerSetting];

/** The environment variables of the CLI's remote commands (submit, status, results, cancel). */
export const CLI_ENV = {
  /** The deployed stack whose outputs name the resources. */
  stack: 'FANOUT_STACK',
  bucket: HANDLER_ENV.bucket,
  table: HANDLER_ENV.table,
  /** The jobs API's URL. */
  apiUrl: 'FANOUT_API_URL',
} as const;

/** The stack `cdk deploy` creates (infra/app.ts), which the CLI looks up by default. */
export const DEFAULT_STACK_NAME = 'Fanout';

/** The stack's outputs the CLI reads (infra/fanout-stack.ts writes them). */
export const STACK_OUTPUTS = {
  bucket: 'BucketName',
  api: 'ApiUrl',
  table: 'TableName',
  chunkQueue: 'ChunkQueueUrl',
  deadLetterQueue: 'DeadLetterQueueUrl',
} as const;

/** The Lambda functions of a deployment; each is `lambda/handlers/<name>.ts`. */
export type HandlerName = 'dispatcher' | 'worker' | 'dead-letters' | 'api';

/**
 * Which variables each function gets: `set` are the ones the stack gives it (the handler fails
 * at start naming any of `required` that is missing); the others it reads, when present, over
 * the runtime defaults (FANOUT_DISPATCH_MARGIN_MS, FANOUT_CANCEL_POLL_MS, FANOUT_LOG_LEVEL…).
 */
export const HANDLER_ENVIRONMENTS = {
  dispatcher: {
    required: ['bucket', 'table', 'queueUrl'],
    set: ['bucket', 'table', 'metricsNamespace', 'queueUrl', 'hostGroups', 'jobDefaults', 'eventBus'],
  },
  worker: {
    // The worker that counts a job's last chunk starts the fan-in in the dispatcher function.
    required: ['bucket', 'table', 'queueUrl', 'dispatcherFunction'],
    set: [
      'bucket',
      'table',
      'metricsNamespace',
      'queueUrl',
      'deadlineMarginMs',
      'dispatcherFunction',
      'headerSecretsPrefix',
    ],
  },
  'dead-letters': {
    required: ['bucket', 'table'],
    set: ['bucket', 'table', 'metricsNamespace'],
  },
  api: {
    required: ['bucket', 'table', 'dispatcherFunction'],
    set: [
      'bucket',
      'table',
      'metricsNamespace',
      'dispatcherFunction',
      'jobDefaults',
      'jobMaxima',
      'resultUrlSeconds',
      'headerSecretsPrefix',
    ],
  },
} as const satisfies Record<
  HandlerName,
  { required: readonly HandlerSetting[]; set: readonly HandlerSetting[] }
>;

/** The values the stack gives one function, by setting: exactly the function's `set` list. */
export type HandlerEnvironment<H extends HandlerName> = {
  readonly [S in (typeof HANDLER_ENVIRONMENTS)[H]['set'][number]]: string | number;
};

/** The variables a function cannot start without. */
export function requiredVariables(handler: HandlerName): HandlerVariable[] {
  return HANDLER_ENVIRONMENTS[handler].required.map((setting) => HANDLER_ENV[setting]);
}

/**
 * A function's environment (variable name → value) from the values of its settings; throws on a
 * setting the function does not get, so a stack cannot hand out a variable no handler reads.
 */
export function handlerEnvironment<H extends HandlerName>(
  handler: H,
  values: HandlerEnvironment<H>,
): Record<string, string> {
  const allowed: readonly string[] = HANDLER_ENVIRONMENTS[handler].set;
  const env: Record<string, string> = {};
  for (const [setting, value] of Object.entries(values) as Array<[HandlerSetting, string | number]>) {
    if (!allowed.includes(setting)) throw new Error(`the ${handler} function does not read ${setting}`);
    env[HANDLER_ENV[setting]] = String(value);
  }
  return env;
}

/** The completion event of every finished job on EventBridge: the handlers send it, rules match it. */
export const JOB_FINISHED_EVENT = { source: 'fanout', detailType: 'Fanout Job Finished' } as const;

/** A key attribute of the job table (S: string, N: number, B: binary). */
export interface TableKey {
  readonly name: string;
  readonly type: 'S' | 'N' | 'B';
}

/** A global secondary index of the job table, projecting every attribute. */
export interface TableIndex {
  readonly indexName: string;
  readonly partitionKey: TableKey;
  readonly sortKey?: TableKey;
}

/**
 * The index `fanout jobs` queries: every job item, newest first. Only job items carry its
 * partition key (`kind` = `job`), so chunk markers and counter shards stay out of it.
 */
export const JOBS_BY_CREATED_INDEX = {
  indexName: 'jobs-by-created',
  partitionKey: { name: 'kind', type: 'S' } as TableKey,
  sortKey: { name: 'createdAt', type: 'S' } as TableKey,
  /** The value of `kind` on every job item. */
  jobKind: 'job',
} as const;

/**
 * The job table: an item per job (`job#<id>`), its chunk counters spread over `counterShards`
 * shard items (`job#<id>#shard#<n>`) and a marker per counted chunk, under one string
 * partition key; on-demand billing; DynamoDB's TTL removes items after `expiresAt` (epoch s).
 * The stack's Table and the local deployment's CreateTable both derive from it.
 */
export const JOB_TABLE = {
  partitionKey: { name: 'pk', type: 'S' } as TableKey,
  sortKey: undefined as TableKey | undefined,
  indexes: [JOBS_BY_CREATED_INDEX] as readonly TableIndex[],
  ttlAttribute: 'expiresAt',
  /**
   * Counter shards per job: chunk `i` is counted on shard `i mod counterShards`. 32 keeps a
   * shard item at 1,000 workers finishing a chunk a second each (the fastest chunks) at 31
   * transactions and 62.5 WCU a second, 1/16 of DynamoDB's 1,000 WCU/s per item; a job's
   * counters still fit one BatchGetItem (100 keys) with the job item.
   */
  counterShards: 32,
} as const;

/**
 * The object tag the bucket's lifecycle rules expire by (a prefix cannot: the job id sits in the
 * middle of the key); the handlers put it on what expires early. scratch: parts, checkpoints and
 * dispatch state; body: stored bodies.
 */
export const RETENTION_TAG = { key: 'fanout-retention', scratch: 'scratch', body: 'body' } as const;

/** What the handlers assume when the stack sets no variable for it. */
export const RUNTIME_DEFAULTS = {
  /** A worker stops fetching this long before its Lambda deadline, to save a checkpoint (ms). */
  deadlineMarginMs: 15_000,
  /** A dispatcher hands over to a new invocation this long before its deadline (ms). */
  dispatchMarginMs: 60_000,
  /** A worker looks for a cancel request this often while fetching (ms). */
  cancelPollMs: 5_000,
  /** Lifetime of the presigned result URLs the API returns (s). */
  resultUrlSeconds: 3_600,
  /** CloudWatch namespace of the handlers' metrics. */
  metricsNamespace: 'Fanout',
  /** The least log level written. */
  logLevel: 'info',
  /**
   * A chunk whose AWS calls still fail after the SDK's retries (throttling, 5xx) comes back
   * after this long, doubled per receive (s): a backoff, not at once, so an outage does not
   * spend the chunk's maxReceiveCount deliveries in seconds, nor the visibility timeout.
   */
  awsFailureBackoffSeconds: 30,
  /** The longest such backoff (s). */
  awsFailureBackoffMaxSeconds: 480,
  /**
   * The longest Crawl-delay of a robots.txt that fanout honours (s): a longer one is cut to
   * this, so one host's robots.txt cannot hold a chunk past its worker's time.
   */
  maxCrawlDelaySeconds: 30,
} as const;

const DAY_SECONDS = 86_400;

/**
 * How the functions and queues of a deployment are set up when the construct's props say
 * nothing; the stack and the local deployment (`fanout run --endpoint`, tests) both use them.
 */
export const DEPLOYMENT_DEFAULTS = {
  /** Worker function timeout (s): time for one chunk. */
  workerTimeoutSeconds: 300,
  /** Worker memory (MiB); CPU grows with it. */
  workerMemoryMiB: 512,
  /** Chunk messages per worker invocation. */
  workerBatchSize: 1,
  /** Most worker invocations at once (the SQS event source's maximum concurrency). */
  maxWorkerConcurrency: 50,
  /** Deliveries of a chunk message before it moves to the dead-letter queue. */
  maxReceiveCount: 5,
  /** AWS's advice for an SQS event source: a visibility timeout six times the function timeout. */
  visibilityPerTimeout: 6,
  /** The chunk queue keeps a message this long (s). */
  queueRetentionSeconds: 4 * DAY_SECONDS,
  /** The dead-letter queues keep a message as long as SQS allows (s): longer than the chunk it holds. */
  deadLetterRetentionSeconds: 14 * DAY_SECONDS,
  /** Runs of an asynchronous dispatcher invocation: the first and Lambda's two retries. */
  asyncInvokeAttempts: 3,
  /** An asynchronous invocation not run within this long is dropped to the failure queue (s). */
  asyncEventMaxAgeSeconds: 6 * 3600,
  /** The dispatcher: Lambda's longest timeout (s), so a list goes far before it hands over. */
  dispatcherTimeoutSeconds: 900,
  dispatcherMemoryMiB: 1024,
  /** The dead-letter handler only fails a job per message. */
  deadLetterTimeoutSeconds: 60,
  deadLetterMemoryMiB: 256,
  deadLetterBatchSize: 10,
  deadLetterConcurrency: 2,
  /** The API: API Gateway's integration timeout is 29 s. */
  apiTimeoutSeconds: 29,
  apiMemoryMiB: 512,
  /** The secrets request headers may read (`secret:NAME`) are named with this prefix. */
  headerSecretsPrefix: 'fanout/',
} as const;

/** The chunk queue's visibility timeout (s) for a worker timeout (s): six times as long. */
export function visibilityTimeoutSeconds(workerTimeoutSeconds: number): number {
  return Math.ceil(workerTimeoutSeconds * DEPLOYMENT_DEFAULTS.visibilityPerTimeout);
}
