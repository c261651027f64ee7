import { randomUUID } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** How an instance of a function is made: the bundled file and export Lambda would load. */
export interface FunctionCode {
  /** The function's name, as context.functionName shows it. */
  name: string;
  codeFile: string;
  exportName: string;
  /** process.env inside the instance: the function's environment and its credentials. */
  env: Record<string, string>;
  timeoutSeconds: number;
  memoryMiB: number;
}

/** How one invocation ended. */
export type InvokeOutcome =
  | { ok: true; result: unknown }
  | { ok: false; errorType: string; errorMessage: string; timedOut: boolean };

/** A line the instance wrote to stdout or stderr (Lambda sends them to CloudWatch Logs). */
export type LogLine = (functionName: string, line: string) => void;

/**
 * What runs in the instance's thread: it imports the bundled file once (its init, as a cold
 * start), then runs one invocation at a time with a Lambda-like context.
 */
const RUNTIME = `
const { parentPort, workerData } = require('node:worker_threads');
const { pathToFileURL } = require('node:url');
const loaded = import(pathToFileURL(workerData.codeFile).href).then((module) => {
  const handler = module[workerData.exportName];
  if (typeof handler !== 'function')
    throw new Error(workerData.codeFile + ' does not export a function named ' + workerData.exportName);
  return handler;
});
loaded.catch(() => {});
parentPort.on('message', async ({ id, event, deadline }) => {
  try {
    const handler = await loaded;
    const context = {
      functionName: workerData.name,
      functionVersion: '$LATEST',
      memoryLimitInMB: String(workerData.memoryMiB),
      awsRequestId: id,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      callbackWaitsForEmptyEventLoop: true,
    };
    const result = await handler(event, context);
    parentPort.postMessage({ id, result });
  } catch (err) {
    parentPort.postMessage({
      id,
      error: { errorType: (err && err.name) || 'Error', errorMessage: String((err && err.message) || err) },
    });
  }
});
`;

/**
 * One Lambda instance of a function: a worker thread with its own module state (the bundle's
 * SDK clients, engines, caches), its own process.env, and a heap capped at the function's
 * memory. It runs one invocation at a time. An invocation that outlives the function's timeout
 * ends the instance, as Lambda ends it; the next invocation starts a fresh one (a cold start).
 */
export class FunctionInstance {
  private worker: Worker | undefined;
  private readonly pending = new Map<string, { worker: Worker; settle: (outcome: InvokeOutcome) => void }>();
  /** Invocations so far, and cold starts (threads started). */
  invocations = 0;
  coldStarts = 0;

  constructor(
    private readonly code: FunctionCode,
    private readonly log: LogLine,
  ) {}

  private start(): Worker {
    this.coldStarts += 1;
    const worker = new Worker(RUNTIME, {
      eval: true,
      env: this.code.env,
      workerData: {
        name: this.code.name,
        codeFile: this.code.codeFile,
        exportName: this.code.exportName,
        memoryMiB: this.code.memoryMiB,
      },
      resourceLimits: { maxOldGenerationSizeMb: this.code.memoryMiB },
      stdout: true,
      stderr: true,
    });
    const forward = (stream: NodeJS.ReadableStream) => {
      let buffered = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffered += chunk;
        let newline = buffered.indexOf('\n');
        while (newline >= 0) {
          this.log(this.code.name, buffered.slice(0, newline));
          buffered = buffered.slice(newline + 1);
          newline = buffered.indexOf('\n');
        }
      });
    };
    forward(worker.stdout);
    forward(worker.stderr);
    worker.on('message', ({ id, result, error }) => {
      const entry = this.pending.get(id);
      this.pending.delete(id);
      entry?.settle(error ? { ok: false, ...error, timedOut: false } : { ok: true, result });
    });
    const fail = (errorType: string, errorMessage: string) => {
      if (this.worker === worker) this.worker = undefined;
      for (const [id, entry] of this.pending) {
        if (entry.worker !== worker) continue;
        this.pending.delete(id);
        entry.settle({ ok: false, errorType, errorMessage, timedOut: false });
      }
    };
    worker.on('error', (err) => fail(err.name || 'Runtime.ExitError', err.message));
    worker.on('exit', (code) => fail('Runtime.ExitError', `the instance exited (${code})`));
    return worker;
  }

  /** Runs one invocation; the instance is started (or restarted) first when it is not running. */
  invoke(event: unknown): Promise<InvokeOutcome> {
    this.invocations += 1;
    this.worker ??= this.start();
    const worker = this.worker;
    const id = randomUUID();
    const timeoutMs = this.code.timeoutSeconds * 1000;
    return new Promise<InvokeOutcome>((settle) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        if (this.worker === worker) this.worker = undefined;
        void worker.terminate();
        settle({
          ok: false,
          errorType: 'Sandbox.Timedout',
          errorMessage: `Task timed out after ${this.code.timeoutSeconds} seconds`,
          timedOut: true,
        });
      }, timeoutMs);
      this.pending.set(id, {
        worker,
        settle: (outcome) => {
          clearTimeout(timer);
          settle(outcome);
        },
      });
      worker.postMessage({ id, event, deadline: Date.now() + timeoutMs });
    });
  }

  /** Ends the instance (its thread and whatever it holds open). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }
}

/**
 * The instances of one function that Lambda scales: an invocation takes an idle instance or
 * starts one, up to the function's reserved concurrency when it has one; beyond it, invocations
 * wait (an asynchronous invocation Lambda throttles is retried, so it waits too).
 */
export class FunctionPool {
  private readonly idle: FunctionInstance[] = [];
  private readonly all: FunctionInstance[] = [];
  private readonly waiting: Array<(instance: FunctionInstance) => void> = [];

  constructor(
    readonly code: FunctionCode,
    private readonly log: LogLine,
    private readonly maxInstances = Number.POSITIVE_INFINITY,
  ) {}

  /** Instances started so far. */
  get size(): number {
    return this.all.length;
  }

  /** Invocations so far, on every instance. */
  get invocations(): number {
    return this.all.reduce((sum, instance) => sum + instance.invocations, 0);
  }

  /** A new instance outside the pool's idle list, for a poller that keeps its own (an event source slot). */
  dedicated(): FunctionInstance {
    const instance = new FunctionInstance(this.code, this.log);
    this.all.push(instance);
    return instance;
  }

  private async acquire(): Promise<FunctionInstance> {
    const instance = this.idle.pop();
    if (instance) return instance;
    if (this.all.length < this.maxInstances) return this.dedicated();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(instance: FunctionInstance): void {
    const next = this.waiting.shift();
    if (next) next(instance);
    else this.idle.push(instance);
  }

  /** One invocation on an idle or new instance. */
  async invoke(event: unknown): Promise<InvokeOutcome> {
    const instance = await this.acquire();
    try {
      return await instance.invoke(event);
    } finally {
      this.release(instance);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((instance) => instance.close()));
  }
}
