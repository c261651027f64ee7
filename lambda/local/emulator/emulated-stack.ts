import type { CreateTableCommandInput, Projection } from '@aws-sdk/client-dynamodb';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { type AwsClients, createAwsClients } from '../../adapters/aws/clients.js';
import { ensureBucket, ensureQueue, ensureTable } from '../../adapters/aws/provision.js';
import { SqsEventSource } from '../sqs-event-source.js';
import type {
  DeploymentDescription,
  EventSourceSpec,
  FunctionSpec,
  QueueSpec,
  TableSpec,
} from './deployment-description.js';
import { FrontDoor, type Principal } from './front-door.js';
import { FunctionPool, type InvokeOutcome, type LogLine } from './function-instance.js';
import { evaluatePolicies, type PolicyDocument } from './iam-policy.js';
import { type ResolveContext, type ResourceValues, resolveValue, TemplateError } from './stack-template.js';

/**
 * The S3, SQS and DynamoDB endpoints the emulated resources live on (moto, LocalStack), and the
 * Secrets Manager one request headers' `secret:` values are read from, when there is one.
 */
export type Backends = Record<'s3' | 'sqs' | 'dynamodb', string> & { secretsmanager?: string };

export interface EmulatedStackOptions {
  description: DeploymentDescription;
  backends: Backends;
  /** @default 'us-east-1' */
  region?: string;
  /** Prefix of every resource name. @default the stack's name, lower-cased */
  namePrefix?: string;
  /** Most instances each event source runs at once, below its MaximumConcurrency (`--workers`). */
  maxPollers?: number;
  /** Where the functions' log lines go (Lambda sends them to CloudWatch Logs). @default nowhere */
  log?: LogLine;
  /** Long-poll wait of each event source receive (s). @default 1 */
  waitTimeSeconds?: number;
  /** Wait before each retry of an asynchronous invocation (Lambda waits 1 min, then 2). @default 1000 ms */
  asyncRetryDelayMs?: number;
}

/** An asynchronous invocation that failed every attempt. */
export interface AsyncFailure {
  /** The function's logical id in the template. */
  function: string;
  /** Its emulated name. */
  functionName: string;
  payload: unknown;
  errorType: string;
  errorMessage: string;
}

/** An event source poll that failed (e.g. its role may not receive from the queue). */
export interface EventSourceError {
  eventSource: string;
  error: string;
}

/** One function as emulated: its spec, name, ARN, role and instances. */
interface EmulatedFunction {
  spec: FunctionSpec;
  name: string;
  arn: string;
  accessKeyId: string;
  principal: Principal;
  pool: FunctionPool;
}

/** What fanout's stack lives on in the emulation: a value per resource name. */
const SECRET = 'fanout-emulation';
/** The account of the emulated Lambda, IAM and EventBridge. */
const EMULATED_ACCOUNT = '123456789012';

/** A resource name from the prefix and the resource's base name, within the service's length and alphabet. */
function resourceName(prefix: string, baseName: string, max: number, lower = false): string {
  const name = `${prefix}-${baseName}`.replace(/[^A-Za-z0-9-]/g, '-');
  return (lower ? name.toLowerCase() : name).slice(0, max);
}

/**
 * A synthesized stack run on this machine: its bucket, queues and table made on the backends as
 * declared; each function's bundle run in instances of its own (FunctionPool), with its
 * environment resolved to the emulated resources; its SQS event sources polled as Lambda polls
 * them, its asynchronous invocations retried and sent to their failure destination, its S3
 * notifications delivered. Every AWS call a function makes goes through the FrontDoor, which
 * checks it against the function's role.
 */
export class EmulatedStack {
  readonly asyncFailures: AsyncFailure[] = [];
  readonly eventSourceErrors: EventSourceError[] = [];
  /** Events the functions put on EventBridge. */
  readonly events: unknown[] = [];
  private readonly functions = new Map<string, EmulatedFunction>();
  private readonly running = new Set<Promise<void>>();
  private readonly pollers: Promise<void>[] = [];
  private readonly eventSources: SqsEventSource[] = [];
  private closed = false;

  private constructor(
    readonly description: DeploymentDescription,
    readonly frontDoor: FrontDoor,
    private readonly context: ResolveContext,
    private readonly options: EmulatedStackOptions,
  ) {}

  /** Makes the resources, starts the front door and the event sources. */
  static async start(options: EmulatedStackOptions): Promise<EmulatedStack> {
    const { description, backends } = options;
    const region = options.region ?? 'us-east-1';
    const prefix = options.namePrefix ?? description.stackName.toLowerCase();
    const direct = createAwsClients({ endpoints: backends, region, credentials: operatorCredentials() });
    const resources = new Map<string, ResourceValues>();
    const context: ResolveContext = {
      region,
      accountId: EMULATED_ACCOUNT,
      stackName: description.stackName,
      resources,
    };
    const accounts: Record<string, string> = {};
    const nameOf = (id: string, max: number, lower = false) =>
      resourceName(prefix, description.baseNames.get(id) ?? id, max, lower);

    for (const bucket of description.buckets) {
      const name = nameOf(bucket.logicalId, 63, true);
      await ensureBucket(direct.s3, name);
      resources.set(bucket.logicalId, {
        ref: name,
        attributes: { Arn: `arn:aws:s3:::${name}`, BucketName: name },
      });
    }
    for (const queue of orderedByRedrive(description.queues)) {
      const name = nameOf(queue.logicalId, queue.fifo ? 75 : 80) + (queue.fifo ? '.fifo' : '');
      const redrive = queue.redrive && {
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: resolveValue(
            queue.redrive.deadLetterTargetArn,
            context,
            `${queue.logicalId}.RedrivePolicy`,
          ),
          maxReceiveCount: queue.redrive.maxReceiveCount,
        }),
      };
      const url = await ensureQueue(direct.sqs, name, { ...queue.attributes, ...redrive });
      const { Attributes } = await direct.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
      );
      const arn = Attributes?.QueueArn;
      if (!arn) throw new Error(`queue ${name} has no QueueArn`);
      accounts.sqs ??= arn.split(':')[4] ?? EMULATED_ACCOUNT;
      resources.set(queue.logicalId, { ref: url, attributes: { Arn: arn, QueueName: name, QueueUrl: url } });
    }
    for (const table of description.tables) {
      const name = nameOf(table.logicalId, 255);
      const arn = await ensureTable(direct.dynamodb, createTableInput(name, table), table.ttlAttribute);
      accounts.dynamodb ??= arn.split(':')[4] ?? EMULATED_ACCOUNT;
      resources.set(table.logicalId, { ref: name, attributes: { Arn: arn } });
    }
    const functionNames = new Map<string, string>();
    for (const fn of description.functions) {
      const name = nameOf(fn.logicalId, 64);
      functionNames.set(fn.logicalId, name);
      resources.set(fn.logicalId, {
        ref: name,
        attributes: { Arn: `arn:aws:lambda:${region}:${EMULATED_ACCOUNT}:function:${name}` },
      });
      const role = nameOf(fn.roleId, 64);
      resources.set(fn.roleId, {
        ref: role,
        attributes: {
          Arn: `arn:aws:iam::${EMULATED_ACCOUNT}:role/${role}`,
          RoleId: `AROA${fn.roleId.toUpperCase()}`,
        },
      });
    }
    // What the policies name but the emulation does not make (log groups, …): names that match nothing else.
    for (const id of notEmulatedIds(description)) {
      if (resources.has(id)) continue;
      const name = nameOf(id, 255);
      resources.set(id, { ref: name, attributes: placeholderAttributes(name) });
    }

    let stack: EmulatedStack | undefined;
    const principals = new Map<string, Principal>();
    const frontDoor = await FrontDoor.start({
      backends,
      region,
      account: (service) => accounts[service] ?? EMULATED_ACCOUNT,
      principals,
      invoke: (call) => (stack as EmulatedStack).invokeFromCall(call),
      putEvents: (entries) => {
        stack?.events.push(...entries);
      },
      onObjectCreated: (event) => stack?.notify(event.bucket, event.key, event.size, event.eTag),
    });
    stack = new EmulatedStack(description, frontDoor, context, options);
    for (const spec of description.functions) {
      const fn = stack.emulate(spec, functionNames.get(spec.logicalId) as string);
      principals.set(fn.accessKeyId, fn.principal);
    }
    stack.startEventSources();
    return stack;
  }

  private emulate(spec: FunctionSpec, name: string): EmulatedFunction {
    const { region } = this.context;
    const resolved = resolveValue(spec.environment, this.context, `${spec.logicalId}.Environment`) as Record<
      string,
      unknown
    >;
    const roleName = this.context.resources.get(spec.roleId)?.ref as string;
    const policies = spec.policies.map(
      (policy, i) =>
        resolveValue(policy, this.context, `${spec.logicalId} role policy ${i}`) as PolicyDocument,
    );
    const accessKeyId = `EMU${spec.logicalId.toUpperCase()}`.slice(0, 128);
    const env: Record<string, string> = {
      ...Object.fromEntries(Object.entries(resolved).map(([k, v]) => [k, String(v)])),
      // What Lambda's runtime sets, and the endpoint and credentials of this function's role.
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_LAMBDA_FUNCTION_NAME: name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(spec.memoryMiB),
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
      AWS_ENDPOINT_URL: this.frontDoor.endpoint,
      AWS_ACCESS_KEY_ID: accessKeyId,
      AWS_SECRET_ACCESS_KEY: SECRET,
      AWS_SESSION_TOKEN: `${name}-session`,
      TZ: ':UTC',
    };
    const pool = new FunctionPool(
      {
        name,
        codeFile: spec.codeFile,
        exportName: spec.exportName,
        env,
        timeoutSeconds: spec.timeoutSeconds,
        memoryMiB: spec.memoryMiB,
      },
      this.options.log ?? (() => {}),
      spec.reservedConcurrency ?? Number.POSITIVE_INFINITY,
    );
    const fn: EmulatedFunction = {
      spec,
      name,
      arn: this.context.resources.get(spec.logicalId)?.attributes?.Arn as string,
      accessKeyId,
      principal: {
        name,
        arn: `arn:aws:sts::${EMULATED_ACCOUNT}:assumed-role/${roleName}/${name}`,
        policies,
      },
      pool,
    };
    this.functions.set(spec.logicalId, fn);
    return fn;
  }

  /** The emulated name of a resource of the template. */
  nameOf(logicalId: string): string {
    const ref = this.context.resources.get(logicalId)?.ref;
    if (ref === undefined) throw new TemplateError(`the stack has no resource ${logicalId}`);
    return ref;
  }

  /** A function's environment as its instances see it. */
  environmentOf(logicalId: string): Record<string, string> {
    const fn = this.functions.get(logicalId);
    if (!fn) throw new TemplateError(`the stack has no function ${logicalId}`);
    return fn.pool.code.env;
  }

  /** The function with this name or ARN. */
  functionNamed(nameOrArn: string): string | undefined {
    for (const [id, fn] of this.functions) if (fn.name === nameOrArn || fn.arn === nameOrArn) return id;
    return undefined;
  }

  /** SDK clients for the operator (whoever runs the emulation): through the front door, unrestricted. */
  operatorClients(): AwsClients {
    return createAwsClients({
      endpoint: this.frontDoor.endpoint,
      region: this.context.region,
      credentials: operatorCredentials(),
    });
  }

  /** A client set with a function's credentials (its role), through the front door. */
  private clientsOf(fn: EmulatedFunction): AwsClients {
    return createAwsClients({
      endpoint: this.frontDoor.endpoint,
      region: this.context.region,
      credentials: { accessKeyId: fn.accessKeyId, secretAccessKey: SECRET },
    });
  }

  private functionOf(logicalId: string): EmulatedFunction {
    const fn = this.functions.get(logicalId);
    if (!fn) throw new TemplateError(`the stack has no function ${logicalId}`);
    return fn;
  }

  /** A function's invocations so far (every kind, every instance). */
  invocationsOf(logicalId: string): number {
    return this.functionOf(logicalId).pool.invocations;
  }

  /** A synchronous invocation (RequestResponse). */
  invoke(logicalId: string, event: unknown): Promise<InvokeOutcome> {
    return this.functionOf(logicalId).pool.invoke(event);
  }

  /**
   * An asynchronous invocation (Event), run in the background as Lambda runs it: retried
   * MaximumRetryAttempts times, then sent to the on-failure destination (with the function's
   * role) and recorded in `asyncFailures`.
   */
  invokeAsync(logicalId: string, payload: unknown): void {
    const fn = this.functionOf(logicalId);
    const { maximumRetryAttempts, onFailure } = fn.spec.asyncInvoke;
    const run = (async () => {
      let last: InvokeOutcome | undefined;
      for (let attempt = 0; attempt <= maximumRetryAttempts; attempt += 1) {
        if (this.closed) return;
        if (attempt > 0)
          await new Promise((r) => setTimeout(r, (this.options.asyncRetryDelayMs ?? 1000) * attempt));
        last = await fn.pool.invoke(payload);
        if (last.ok) return;
      }
      if (!last || last.ok) return;
      this.asyncFailures.push({
        function: logicalId,
        functionName: fn.name,
        payload,
        errorType: last.errorType,
        errorMessage: last.errorMessage,
      });
      if (onFailure === undefined) return;
      const destination = String(resolveValue(onFailure, this.context, `${logicalId} OnFailure`));
      const queueUrl = [...this.context.resources.values()].find(
        (r) => r.attributes?.Arn === destination,
      )?.ref;
      if (!queueUrl) return;
      await this.clientsOf(fn)
        .sqs.send(
          new SendMessageCommand({
            QueueUrl: queueUrl,
            MessageBody: JSON.stringify({
              version: '1.0',
              timestamp: new Date().toISOString(),
              requestContext: {
                functionArn: `${fn.arn}:$LATEST`,
                condition: 'RetriesExhausted',
                approximateInvokeCount: maximumRetryAttempts + 1,
              },
              requestPayload: payload,
              responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
              responsePayload: { errorType: last.errorType, errorMessage: last.errorMessage },
            }),
          }),
        )
        .catch((err) =>
          this.eventSourceErrors.push({ eventSource: `${logicalId} OnFailure`, error: String(err) }),
        );
    })();
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  /** lambda:Invoke reaching the front door (once allowed). */
  private async invokeFromCall(call: {
    functionName: string;
    invocationType: string;
    payload: Buffer;
  }): Promise<{ statusCode: number; payload?: Buffer; functionError?: string }> {
    const name = call.functionName.replace(/:(\$LATEST|\d+)$/, '');
    const id = this.functionNamed(name);
    if (!id) return { statusCode: 404 };
    const payload = call.payload.length > 0 ? JSON.parse(call.payload.toString('utf8')) : {};
    if (call.invocationType === 'DryRun') return { statusCode: 204 };
    if (call.invocationType === 'Event') {
      this.invokeAsync(id, payload);
      return { statusCode: 202 };
    }
    const outcome = await this.invoke(id, payload);
    return outcome.ok
      ? { statusCode: 200, payload: Buffer.from(JSON.stringify(outcome.result ?? null)) }
      : {
          statusCode: 200,
          functionError: 'Unhandled',
          payload: Buffer.from(
            JSON.stringify({ errorType: outcome.errorType, errorMessage: outcome.errorMessage }),
          ),
        };
  }

  /** An object created in an emulated bucket: the bucket's notifications whose filter matches. */
  private notify(bucketName: string, key: string, size?: number, eTag?: string): void {
    for (const bucket of this.description.buckets) {
      if (this.nameOf(bucket.logicalId) !== bucketName) continue;
      for (const n of bucket.notifications) {
        if (!n.events.some((e) => e === 's3:ObjectCreated:*' || e.startsWith('s3:ObjectCreated:'))) continue;
        if (n.prefix !== undefined && !key.startsWith(n.prefix)) continue;
        if (n.suffix !== undefined && !key.endsWith(n.suffix)) continue;
        const target = this.functionNamed(
          String(resolveValue(n.functionId, this.context, `${bucket.logicalId} notification`)),
        );
        if (!target) continue;
        this.invokeAsync(target, {
          Records: [
            {
              eventVersion: '2.1',
              eventSource: 'aws:s3',
              awsRegion: this.context.region,
              eventTime: new Date().toISOString(),
              eventName: 'ObjectCreated:Put',
              s3: {
                s3SchemaVersion: '1.0',
                bucket: { name: bucketName, arn: `arn:aws:s3:::${bucketName}` },
                // S3 writes the key form-encoded in its events.
                object: {
                  key: encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/'),
                  size: size ?? 0,
                  eTag: (eTag ?? '').replace(/"/g, ''),
                },
              },
            },
          ],
        });
      }
    }
  }

  /**
   * Each event source mapping polls its queue with the function's role, as Lambda does, with at
   * most MaximumConcurrency (and `maxPollers`, and the reserved concurrency) instances at once.
   * Creating a mapping whose role may not receive from the queue fails, as it does on AWS.
   */
  private startEventSources(): void {
    for (const source of this.description.eventSources) {
      const fn = this.functionOf(source.functionId);
      const queueArn = String(
        resolveValue(source.queueArn, this.context, `${source.logicalId}.EventSourceArn`),
      );
      const queueUrl = [...this.context.resources.values()].find((r) => r.attributes?.Arn === queueArn)?.ref;
      if (!queueUrl)
        throw new TemplateError(`${source.logicalId}: no emulated queue has the ARN ${queueArn}`);
      this.checkPollingRights(source, fn, queueArn);
      const concurrency = Math.max(
        1,
        Math.min(
          source.maximumConcurrency ?? Number.POSITIVE_INFINITY,
          fn.spec.reservedConcurrency ?? Number.POSITIVE_INFINITY,
          this.options.maxPollers ?? Number.POSITIVE_INFINITY,
          // Lambda starts with five pollers on a queue: a bound where nothing else sets one.
          source.maximumConcurrency === undefined && this.options.maxPollers === undefined
            ? 5
            : Number.POSITIVE_INFINITY,
        ),
      );
      const eventSource = new SqsEventSource({
        sqs: this.clientsOf(fn).sqs,
        queueUrl,
        region: this.context.region,
        batchSize: source.batchSize,
        concurrency,
        functionTimeoutMs: fn.spec.timeoutSeconds * 1000,
        waitTimeSeconds: this.options.waitTimeSeconds ?? 1,
        handler: async () => {
          throw new Error('every poller has an instance of its own');
        },
        newInstance: () => {
          const instance = fn.pool.dedicated();
          return async (event) => {
            const outcome = await instance.invoke(event);
            if (!outcome.ok) throw new Error(`${outcome.errorType}: ${outcome.errorMessage}`);
            // Without ReportBatchItemFailures, Lambda ignores what the function returns.
            if (!source.reportBatchItemFailures) return { batchItemFailures: [] };
            return outcome.result as { batchItemFailures: Array<{ itemIdentifier: string }> };
          };
        },
      });
      this.eventSources.push(eventSource);
      this.pollers.push(
        eventSource
          .runUntil(
            async () => this.closed,
            Number.MAX_SAFE_INTEGER,
            (err) => {
              this.eventSourceErrors.push({ eventSource: source.logicalId, error: String(err) });
              return new Promise((r) => setTimeout(r, 1000));
            },
          )
          .then(() => {}),
      );
    }
  }

  /** Lambda refuses a mapping whose role cannot poll the queue (ReceiveMessage, DeleteMessage, GetQueueAttributes). */
  private checkPollingRights(source: EventSourceSpec, fn: EmulatedFunction, queueArn: string): void {
    for (const action of ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes']) {
      const decision = evaluatePolicies(fn.principal.policies, { action, resource: queueArn });
      if (decision.effect !== 'Allow')
        throw new TemplateError(
          `${source.logicalId}: the execution role of ${fn.spec.logicalId} does not allow ${action} on ${queueArn}; Lambda refuses to create the event source mapping`,
        );
    }
  }

  /** Each event source mapping as run: its batch size and pollers, the invocations and messages so far. */
  eventSourceStats(): Array<{
    logicalId: string;
    batchSize: number;
    invocations: number;
    delivered: number;
  }> {
    return this.description.eventSources.map((source, i) => ({
      logicalId: source.logicalId,
      batchSize: this.eventSources[i]?.batchSize ?? source.batchSize,
      invocations: this.eventSources[i]?.invocations ?? 0,
      delivered: this.eventSources[i]?.delivered ?? 0,
    }));
  }

  /** Waits for every asynchronous invocation started so far (and those they start). */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running]);
  }

  /** Stops the event sources and every instance. */
  async close(): Promise<void> {
    this.closed = true;
    for (const source of this.eventSources) source.stop();
    await Promise.all(this.pollers);
    await Promise.race([this.settled(), new Promise((r) => setTimeout(r, 100))]);
    await Promise.all([...this.functions.values()].map((fn) => fn.pool.close()));
    await this.frontDoor.close();
  }
}

/** The operator's credentials: an access key no function has, so the front door lets it do anything. */
function operatorCredentials() {
  return { accessKeyId: 'OPERATOR', secretAccessKey: SECRET };
}

/** Queues in an order that makes each redrive target before the queues that redrive to it. */
function orderedByRedrive(queues: readonly QueueSpec[]): QueueSpec[] {
  return [...queues].sort((a, b) => Number(a.redrive !== undefined) - Number(b.redrive !== undefined));
}

function notEmulatedIds(description: DeploymentDescription): string[] {
  return description.notEmulated.map((entry) => entry.split(' ')[0] as string);
}

/** GetAtt values for a resource the emulation does not make: any attribute, a name no real resource has. */
function placeholderAttributes(name: string): Record<string, string> {
  return new Proxy({} as Record<string, string>, {
    get: (_, attribute) => `arn:aws:not-emulated:::${name}/${String(attribute)}`,
  });
}

/** CreateTable's input for a table as the template declares it. */
function createTableInput(name: string, table: TableSpec): CreateTableCommandInput & { TableName: string } {
  return {
    TableName: name,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: table.keySchema,
    AttributeDefinitions: table.attributeDefinitions,
    ...(table.globalSecondaryIndexes.length > 0 && {
      GlobalSecondaryIndexes: table.globalSecondaryIndexes.map((index) => ({
        IndexName: index.IndexName,
        KeySchema: index.KeySchema,
        Projection: index.Projection as Projection,
      })),
    }),
  };
}
