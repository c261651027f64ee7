import type { Context } from 'aws-lambda';
import type { AwsClients } from '../adapters/aws/clients.js';
import { ensureResources, type ResourceNames } from '../adapters/aws/provision.js';
import {
  DEPLOYMENT_DEFAULTS as DEPLOYMENT,
  HANDLER_ENV as ENV,
  visibilityTimeoutSeconds,
} from '../core/contract.js';
import { hostGroupsFor } from '../core/host-group.js';
import { FINAL_STATUSES, type JobState } from '../core/ports.js';
import { makeApiHandler } from '../handlers/api.js';
import { awsServices } from '../handlers/aws-services.js';
import { readConfig } from '../handlers/config.js';
import { makeDeadLetterHandler } from '../handlers/dead-letters.js';
import { makeDispatcherHandler } from '../handlers/dispatcher.js';
import {
  type DispatchInvocation,
  type FinalizeInvocation,
  once,
  type Services,
} from '../handlers/services.js';
import { makeWorkerHandler } from '../handlers/worker.js';
import { SqsEventSource } from './sqs-event-source.js';

/**
 * The resource names `fanout run --endpoint` uses when none are given. The queues' redrive and
 * visibility settings are the stack's (the contract's DEPLOYMENT_DEFAULTS) unless given.
 */
export const LOCAL_RESOURCE_NAMES: ResourceNames = {
  bucket: 'fanout-local',
  queueName: 'fanout-chunks.fifo',
  dlqName: 'fanout-chunks-dlq.fifo',
  tableName: 'fanout-jobs',
};

export interface LocalDeploymentOptions {
  clients: AwsClients;
  /**
   * Clients for each worker instance. Deployed, each concurrent worker runs in a Lambda
   * instance of its own, with its own SDK clients and so its own retry quota; in one process,
   * workers sharing `clients` share one quota, and a burst of 5xx from the endpoint drains it.
   * @default the workers share `clients`
   */
  workerClients?: () => AwsClients;
  names?: Partial<ResourceNames>;
  /** Handler environment on top of the resource variables (HANDLER_ENV's jobDefaults, jobMaxima, …). */
  env?: NodeJS.ProcessEnv;
  /**
   * Worker instances polling at once (the function's reserved concurrency); each handles one
   * invocation at a time with a handler, engines and (given `workerClients`) clients of its own.
   * @default 4
   */
  workers?: number;
  /** Messages per worker invocation (the event source's BatchSize). @default 1, as the stack */
  batchSize?: number;
  /**
   * The worker's function timeout, as getRemainingTimeInMillis counts it (ms); the chunk queue's
   * visibility timeout is six times as long unless `names` gives one, as in the stack.
   * @default 300000, as the stack
   */
  workerTimeoutMs?: number;
  /** The dispatcher's function timeout (ms). @default 900000, as the stack */
  dispatcherTimeoutMs?: number;
  /** Long-poll wait of each receive (s). @default 1 */
  waitTimeSeconds?: number;
}

/** Worker instances at once when none are asked for. */
const DEFAULT_WORKERS = 4;

/** How long one read of the job item answers whether the job has ended (ms). */
const JOB_STATE_READ_MS = 200;

const workerTimeoutMs = (options: LocalDeploymentOptions) =>
  options.workerTimeoutMs ?? DEPLOYMENT.workerTimeoutSeconds * 1000;

const remaining = (timeoutMs: number): Pick<Context, 'getRemainingTimeInMillis'> => {
  const deadline = Date.now() + timeoutMs;
  return { getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) };
};

/**
 * The deployed stack, run in this process against any S3/SQS/DynamoDB endpoint: the real
 * API, dispatcher, worker and dead-letter handlers, with the queues, bucket and table created
 * when missing. Asynchronous dispatcher invocations run in the background (retried as Lambda
 * retries them); the worker and the DLQ consumer are driven by SqsEventSource.
 */
export class LocalDeployment {
  readonly services: Services;
  readonly api: ReturnType<typeof makeApiHandler>;
  readonly dispatcher: ReturnType<typeof makeDispatcherHandler>;
  /** A worker instance for a direct `chunks.pollOnce()`; runUntilFinished's pollers make their own. */
  readonly worker: ReturnType<typeof makeWorkerHandler>;
  readonly chunks: SqsEventSource;
  readonly deadLetters: SqsEventSource;
  /** Dispatcher invocations started so far (dispatches and fan-ins). */
  readonly dispatches: Array<DispatchInvocation | FinalizeInvocation> = [];
  private readonly running = new Set<Promise<void>>();
  private readonly dispatchErrors: Error[] = [];

  private constructor(
    private readonly options: LocalDeploymentOptions,
    names: ResourceNames,
    queues: { queueUrl: string; dlqUrl: string },
  ) {
    const config = readConfig(
      {
        [ENV.bucket]: names.bucket,
        [ENV.table]: names.tableName,
        [ENV.queueUrl]: queues.queueUrl,
        [ENV.dispatcherFunction]: 'fanout-dispatcher',
        // As the stack: twice as many host groups as workers at once.
        [ENV.hostGroups]: String(hostGroupsFor(options.workers ?? DEFAULT_WORKERS)),
        ...options.env,
      },
      // One configuration serves all four handlers.
      [ENV.bucket, ENV.table, ENV.queueUrl, ENV.dispatcherFunction],
    );
    const servicesOn = (clients: AwsClients): Services => ({
      ...awsServices(config, clients),
      startDispatch: async (invocation) => this.startDispatch(invocation),
      startFinalize: async (jobId) => this.startDispatch({ jobId, finalize: true }),
    });
    const services = servicesOn(options.clients);
    this.services = services;
    const { workerClients } = options;
    this.api = makeApiHandler(() => services);
    this.dispatcher = makeDispatcherHandler(() => services);
    this.worker = makeWorkerHandler(() => services);
    const deadLetterHandler = makeDeadLetterHandler(() => services);
    const common = { sqs: options.clients.sqs, waitTimeSeconds: options.waitTimeSeconds ?? 1 };
    this.chunks = new SqsEventSource({
      ...common,
      queueUrl: queues.queueUrl,
      handler: this.worker,
      // Each poller is one worker instance, as Lambda runs each concurrent invocation in an
      // instance of its own: its own handler and engines (and, given workerClients, clients).
      newInstance: () =>
        makeWorkerHandler(workerClients ? once(() => servicesOn(workerClients())) : () => services),
      batchSize: options.batchSize ?? DEPLOYMENT.workerBatchSize,
      concurrency: options.workers ?? DEFAULT_WORKERS,
      functionTimeoutMs: workerTimeoutMs(options),
    });
    this.deadLetters = new SqsEventSource({
      ...common,
      queueUrl: queues.dlqUrl,
      handler: async (event) => {
        await deadLetterHandler(event);
        return { batchItemFailures: [] };
      },
      batchSize: DEPLOYMENT.deadLetterBatchSize,
      concurrency: 1,
    });
  }

  /** Creates (or finds) the resources and wires the handlers to them. */
  static async start(options: LocalDeploymentOptions): Promise<LocalDeployment> {
    const names = {
      ...LOCAL_RESOURCE_NAMES,
      visibilityTimeoutSeconds: visibilityTimeoutSeconds(workerTimeoutMs(options) / 1000),
      ...options.names,
    };
    const queues = await ensureResources(options.clients, names);
    return new LocalDeployment(options, names, queues);
  }

  /** An asynchronous dispatcher invocation (a dispatch or a fan-in): runs in the background, retried as Lambda would. */
  startDispatch(invocation: DispatchInvocation | FinalizeInvocation): void {
    this.dispatches.push(invocation);
    const run = (async () => {
      for (let attempt = 1; ; attempt += 1) {
        try {
          const timeoutMs = this.options.dispatcherTimeoutMs ?? DEPLOYMENT.dispatcherTimeoutSeconds * 1000;
          await this.dispatcher(invocation, remaining(timeoutMs));
          return;
        } catch (err) {
          if (attempt >= DEPLOYMENT.asyncInvokeAttempts) {
            this.dispatchErrors.push(err instanceof Error ? err : new Error(String(err)));
            return;
          }
        }
      }
    })();
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  /** Waits for every dispatcher invocation started so far (and those they start). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /**
   * Runs the workers and the DLQ consumer until the job reaches a final status or `maxPolls`
   * receives were made (a bound for tests); returns the job as it then stands.
   */
  async runUntilFinished(
    jobId: string,
    options: { maxPolls?: number; onState?: (state: JobState) => void } = {},
  ): Promise<JobState | null> {
    let state: JobState | null = null;
    let stop = false;
    const readState = async () => {
      if (this.dispatchErrors.length > 0) throw this.dispatchErrors[0];
      if (stop) return true;
      state = await this.services.jobs.get(jobId);
      if (state) options.onState?.(state);
      stop ||= state !== null && FINAL_STATUSES.includes(state.status);
      return stop;
    };
    // Every poller asks after every receive: one read of the job item serves them all for a
    // while, rather than one GetItem per chunk and poller.
    let lastRead: { at: number; done: Promise<boolean> } | undefined;
    const isDone = () => {
      if (!lastRead || stop || Date.now() - lastRead.at >= JOB_STATE_READ_MS)
        lastRead = { at: Date.now(), done: readState() };
      return lastRead.done;
    };
    const deadLetterLoop = (async () => {
      while (!(await isDone())) await this.deadLetters.pollOnce();
    })();
    try {
      await this.chunks.runUntil(isDone, options.maxPolls ?? 100_000);
    } finally {
      stop = true;
      await deadLetterLoop.catch(() => {});
    }
    await this.settled();
    return state;
  }
}
