import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RETENTION_TAG } from '../lambda/core/job/keys.js';
import type { JobOptions, PropOption, TunableJobOptions } from '../lambda/core/job-options.js';
import type { JobMaxima } from '../lambda/core/options.js';
import { acknowledgeAcceptedFindings } from './accepted-findings.js';
import { FanoutDashboard } from './fanout-dashboard.js';
import { FETCHER_LIMITS, type FetcherSettings, resolveFetcherSettings } from './fetcher-settings.js';

/**
 * The job options that have a prop of their own: the rows of `lambda/core/job-options.ts`
 * whose `deployed` is 'prop'. Each one's meaning, range and default is its row there.
 */
export type JobOptionProps = Readonly<Partial<Pick<JobOptions, PropOption>>>;

/** Properties of {@link FanoutFetcher}. Every job option's default and range is its row in `lambda/core/job-options.ts`. */
export interface FanoutFetcherProps extends JobOptionProps {
  /**
   * Any other job option for jobs that name none (timeouts, retries, method, dedupe…), named as in
   * `lambda/core/job-options.ts`. Options with a prop of their own are set with that prop.
   * @default the table's defaults
   */
  readonly jobDefaults?: Partial<Omit<TunableJobOptions, PropOption>>;
  /**
   * Upper bounds on the numeric options an API caller may ask for, each at least the deployment's
   * default. @default the option's `deploymentMax` in `lambda/core/job-options.ts` where it has
   * one (raised to the deployment's default when that is larger); for `timeoutMs`, workerTimeout
   * minus workerDeadlineMargin; otherwise fanout's own range
   */
  readonly jobMaxima?: Omit<JobMaxima, 'allowPrivate'>;

  /** Memory of a worker Lambda (MiB); CPU grows with it. @default 512 */
  readonly workerMemorySize?: number;
  /**
   * Timeout of a worker invocation (30 s to 15 min). The chunk queue's visibility timeout is
   * derived from it: six times as long, as AWS advises for SQS event sources.
   * @default Duration.minutes(5)
   */
  readonly workerTimeout?: Duration;
  /** Time a worker keeps before its deadline to save a checkpoint of the chunk. @default Duration.seconds(15) */
  readonly workerDeadlineMargin?: Duration;
  /** Chunk messages per worker invocation (1–10), processed one after another. @default 1 */
  readonly workerBatchSize?: number;
  /** Most worker Lambdas running at once: the SQS event source's maximum concurrency (2–1000). @default 50 */
  readonly maxWorkerConcurrency?: number;
  /** Deliveries of a chunk message before it moves to the dead-letter queue and fails its job. @default 5 */
  readonly maxReceiveCount?: number;

  /** How long parts, checkpoints and dispatch state (objects tagged `fanout-retention=scratch`) are kept. @default Duration.days(7) */
  readonly partsRetention?: Duration;
  /** How long stored bodies (`bodies/`, tagged `fanout-retention=body`) are kept. @default Duration.days(30) */
  readonly bodiesRetention?: Duration;
  /** How long uploaded lists under `inputs/` are kept. @default Duration.days(30) */
  readonly inputsRetention?: Duration;
  /** How long everything under `jobs/` (results and summaries included) is kept. @default kept until deleted */
  readonly jobsRetention?: Duration;
  /**
   * What happens to the bucket, the job table and the log groups when the stack is deleted.
   * `DESTROY` also empties the buckets first.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /** Bucket that receives the job bucket's S3 server access logs. @default a bucket created here, logs kept 90 days */
  readonly serverAccessLogsBucket?: s3.IBucket;
  /** Other buckets a job's `source: "s3://…"` may name; the dispatcher may read their objects. @default none */
  readonly sourceBuckets?: s3.IBucket[];

  /** Who may call the jobs API: 'iam' (SigV4-signed requests, see grantApiInvoke) or 'disabled' (no API). @default 'iam' */
  readonly apiAccess?: 'iam' | 'disabled';
  /** An authorizer to use instead of IAM, e.g. a Cognito user pool authorizer. @default IAM authorization */
  readonly apiAuthorizer?: apigateway.IAuthorizer;
  /** The API stage's request rate limits. @default { rateLimit: 25, burstLimit: 50 } */
  readonly apiThrottle?: { readonly rateLimit?: number; readonly burstLimit?: number };
  /**
   * Whether to set the account's API Gateway CloudWatch Logs role, which stage logging needs. It
   * is one setting per account and region: turn this off when the account already has one.
   * @default true
   */
  readonly apiCloudWatchRole?: boolean;
  /** Lifetime of the presigned result URLs the API returns (1 min to 12 h). @default Duration.hours(1) */
  readonly resultUrlTtl?: Duration;

  /** Retention of every log group. @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** CloudWatch namespace of the handlers' metrics. @default 'Fanout' */
  readonly metricsNamespace?: string;
  /** Bus that receives the completion event ('Fanout Job Finished') of every job. @default the account's default bus */
  readonly eventBus?: events.IEventBus;
  /** Actions of every alarm (e.g. an SNS topic action). @default none: the alarms show in the console only */
  readonly alarmActions?: cloudwatch.IAlarmAction[];
  /** Whether to create the CloudWatch dashboard. @default true */
  readonly dashboard?: boolean;
}

/** The tag the handlers put on objects that expire early; the bucket's lifecycle rules match on it. */
export { RETENTION_TAG };

/** The completion event of every finished job, as the handlers send it. */
export const JOB_FINISHED_EVENT = { source: 'fanout', detailType: 'Fanout Job Finished' } as const;

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const handlerEntry = (name: string) =>
  fileURLToPath(new URL(`../lambda/handlers/${name}.ts`, import.meta.url));

/** ESM bundles still hold CommonJS dependencies (undici) that call require() for Node built-ins. */
const REQUIRE_SHIM =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

interface HandlerSpec {
  description: string;
  memorySize: number;
  timeout: Duration;
  environment: Record<string, string>;
}

/**
 * fanout on AWS: a job bucket, a dispatcher that chunks each list onto an SQS queue, workers that
 * fetch the chunks, a DynamoDB job table, an IAM-authorized jobs API, a completion event per job,
 * alarms and a dashboard. Every grant is scoped to the prefixes and actions its handler uses.
 */
export class FanoutFetcher extends Construct {
  /** The job bucket: `inputs/` (an upload starts a job) and `jobs/<jobId>/` (everything a job leaves). */
  readonly bucket: s3.Bucket;
  /** The queue of chunk messages the workers consume. */
  readonly chunkQueue: sqs.Queue;
  /** Chunk messages that failed every delivery; the dead-letter handler fails their jobs. */
  readonly deadLetterQueue: sqs.Queue;
  /** Dispatcher invocations that failed every retry (uploads and API starts). */
  readonly dispatchFailureQueue: sqs.Queue;
  /** The job table: one item per job, one marker per counted chunk, TTL on `expiresAt`. */
  readonly table: dynamodb.Table;
  /** Reads a job's list, writes invalid lines and chunk messages; S3 uploads and the API start it. */
  readonly dispatcher: NodejsFunction;
  /** Fetches the URLs of chunk messages and writes one part per chunk. */
  readonly worker: NodejsFunction;
  /** Fails the job of each chunk message in the dead-letter queue. */
  readonly deadLetterHandler: NodejsFunction;
  /** The API handler; undefined when apiAccess is 'disabled'. */
  readonly apiHandler?: NodejsFunction;
  /** POST /jobs, GET /jobs/{id}, DELETE /jobs/{id}; undefined when apiAccess is 'disabled'. */
  readonly api?: apigateway.RestApi;
  /** The bus that receives the completion events. */
  readonly eventBus: events.IEventBus;
  /** Dead chunks, dead-letter backlog, failed dispatches, worker and dispatcher errors. */
  readonly alarms: cloudwatch.Alarm[] = [];
  /** The CloudWatch dashboard; undefined when the dashboard prop is false. */
  readonly dashboard?: FanoutDashboard;
  /** The props with their defaults applied. */
  readonly settings: FetcherSettings;

  constructor(scope: Construct, id: string, props: FanoutFetcherProps = {}) {
    super(scope, id);
    const settings = resolveFetcherSettings(props);
    this.settings = settings;

    this.bucket = this.createBucket(settings, props.serverAccessLogsBucket);
    this.table = new dynamodb.Table(this, 'Jobs', {
      // Matches createJobTableInput in lambda/adapters/aws/dynamo-job-store.ts.
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: settings.removalPolicy === RemovalPolicy.RETAIN,
      removalPolicy: settings.removalPolicy,
    });

    const queue = (name: string, options: sqs.QueueProps) =>
      new sqs.Queue(this, name, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        ...options,
      });
    const deadLetterTimeout = Duration.minutes(1);
    this.deadLetterQueue = queue('ChunkDeadLetters', {
      retentionPeriod: FETCHER_LIMITS.deadLetterRetention,
      visibilityTimeout: Duration.seconds(
        deadLetterTimeout.toSeconds() * FETCHER_LIMITS.visibilityPerTimeout,
      ),
    });
    this.chunkQueue = queue('Chunks', {
      visibilityTimeout: settings.visibilityTimeout,
      retentionPeriod: FETCHER_LIMITS.queueRetention,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
    });
    this.dispatchFailureQueue = queue('DispatchFailures', {
      retentionPeriod: FETCHER_LIMITS.deadLetterRetention,
    });
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');

    const common = {
      FANOUT_BUCKET: this.bucket.bucketName,
      FANOUT_TABLE: this.table.tableName,
      FANOUT_METRICS_NAMESPACE: settings.metricsNamespace,
    };
    const jobDefaults = JSON.stringify(settings.jobDefaults);
    this.dispatcher = this.handler('dispatcher', {
      description: 'fanout dispatcher: reads a job list, writes chunks to the queue',
      memorySize: 1024,
      timeout: Duration.minutes(15),
      environment: {
        ...common,
        FANOUT_QUEUE_URL: this.chunkQueue.queueUrl,
        FANOUT_JOB_DEFAULTS: jobDefaults,
        FANOUT_EVENT_BUS: this.eventBus.eventBusName,
      },
    });
    this.worker = this.handler('worker', {
      description: 'fanout worker: fetches the URLs of one chunk, writes its part',
      memorySize: settings.workerMemorySize,
      timeout: settings.workerTimeout,
      environment: {
        ...common,
        FANOUT_QUEUE_URL: this.chunkQueue.queueUrl,
        FANOUT_DEADLINE_MARGIN_MS: String(settings.workerDeadlineMargin.toMilliseconds()),
        FANOUT_EVENT_BUS: this.eventBus.eventBusName,
      },
    });
    this.deadLetterHandler = this.handler('dead-letters', {
      description: 'fanout dead letters: fails the job of a chunk that failed every delivery',
      memorySize: 256,
      timeout: deadLetterTimeout,
      environment: common,
    });
    this.grantAccess(props.sourceBuckets ?? []);
    this.connect(settings);
    if (settings.apiAccess === 'iam') {
      this.apiHandler = this.handler('api', {
        description: 'fanout API: starts, reads and cancels jobs',
        memorySize: 512,
        timeout: Duration.seconds(29),
        environment: {
          ...common,
          FANOUT_DISPATCHER_FUNCTION: this.dispatcher.functionName,
          FANOUT_JOB_DEFAULTS: jobDefaults,
          FANOUT_JOB_MAXIMA: JSON.stringify(settings.jobMaxima),
          FANOUT_RESULT_URL_SECONDS: String(settings.resultUrlTtl.toSeconds()),
        },
      });
      this.grantApi(this.apiHandler);
      this.api = this.createApi(settings, this.apiHandler, props.apiAuthorizer);
    }
    this.createAlarms(props.alarmActions ?? []);
    if (settings.dashboard) this.dashboard = new FanoutDashboard(this, 'Dashboard', { fetcher: this });
    acknowledgeAcceptedFindings(this, {
      authorizer: props.apiAuthorizer,
      sourceBuckets: props.sourceBuckets ?? [],
    });
  }

  /** Lets a principal call the jobs API with SigV4-signed requests (execute-api:Invoke on its three methods). */
  grantApiInvoke(grantee: iam.IGrantable): iam.Grant {
    if (!this.api) throw new Error('FanoutFetcher: the API is disabled (apiAccess: disabled)');
    const api = this.api;
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [
        api.arnForExecuteApi('POST', '/jobs', api.deploymentStage.stageName),
        api.arnForExecuteApi('GET', '/jobs/*', api.deploymentStage.stageName),
        api.arnForExecuteApi('DELETE', '/jobs/*', api.deploymentStage.stageName),
      ],
    });
  }

  /** A rule that matches the completion event of every finished job on the bus. */
  onJobFinished(id: string, options: events.OnEventOptions = {}): events.Rule {
    const rule = new events.Rule(this, id, {
      eventBus: this.eventBus,
      description: options.description ?? 'A fanout job finished',
      eventPattern: {
        ...options.eventPattern,
        source: [JOB_FINISHED_EVENT.source],
        detailType: [JOB_FINISHED_EVENT.detailType],
      },
    });
    if (options.target) rule.addTarget(options.target);
    return rule;
  }

  private createBucket(settings: FetcherSettings, logsBucket: s3.IBucket | undefined): s3.Bucket {
    const destroy = settings.removalPolicy === RemovalPolicy.DESTROY;
    const secure = {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: settings.removalPolicy,
      autoDeleteObjects: destroy,
    };
    const serverAccessLogsBucket =
      logsBucket ??
      new s3.Bucket(this, 'AccessLogs', {
        ...secure,
        lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(90) }],
      });
    const tagged = (value: string) => ({ [RETENTION_TAG.key]: value });
    const lifecycleRules: s3.LifecycleRule[] = [
      { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(2) },
      { id: 'expire-inputs', prefix: 'inputs/', expiration: settings.inputsRetention },
      // Parts and bodies sit under jobs/<jobId>/, which no prefix can match: the handlers tag them.
      {
        id: 'expire-parts',
        prefix: 'jobs/',
        tagFilters: tagged(RETENTION_TAG.scratch),
        expiration: settings.partsRetention,
      },
      {
        id: 'expire-bodies',
        prefix: 'jobs/',
        tagFilters: tagged(RETENTION_TAG.body),
        expiration: settings.bodiesRetention,
      },
    ];
    if (settings.jobsRetention) {
      lifecycleRules.push({ id: 'expire-jobs', prefix: 'jobs/', expiration: settings.jobsRetention });
    }
    return new s3.Bucket(this, 'Bucket', {
      ...secure,
      serverAccessLogsBucket,
      serverAccessLogsPrefix: 'job-bucket/',
      lifecycleRules,
    });
  }

  /** One Lambda: its own role (no managed policies), its own log group, bundled by esbuild on this machine. */
  private handler(name: string, spec: HandlerSpec): NodejsFunction {
    const id = name
      .split('-')
      .map((w) => w[0]?.toUpperCase() + w.slice(1))
      .join('');
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `fanout ${name} handler`,
    });
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: this.settings.logRetention,
      removalPolicy: this.settings.removalPolicy,
    });
    logGroup.grantWrite(role);
    return new NodejsFunction(this, id, {
      entry: handlerEntry(name),
      handler: 'handler',
      description: spec.description,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: spec.memorySize,
      timeout: spec.timeout,
      role,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      environment: { ...spec.environment, NODE_OPTIONS: '--enable-source-maps' },
      projectRoot: REPO_ROOT,
      depsLockFilePath: `${REPO_ROOT}package-lock.json`,
      bundling: {
        format: OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: REQUIRE_SHIM,
        bundleAwsSDK: true,
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        forceDockerBundling: false,
        logLevel: LogLevel.WARNING,
      },
    });
  }

  /** The grants of dispatcher, worker and dead-letter handler: the prefixes and actions each one uses. */
  private grantAccess(sourceBuckets: s3.IBucket[]): void {
    const jobObjects = this.bucket.arnForObjects('jobs/*');
    const allow = (fn: lambda.IFunction, actions: string[], resources: string[]) =>
      fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
    const writeJobs = ['s3:GetObject', 's3:PutObject', 's3:PutObjectTagging', 's3:AbortMultipartUpload'];
    const items = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];

    allow(this.dispatcher, ['s3:GetObject'], [this.bucket.arnForObjects('inputs/*')]);
    for (const fn of [this.dispatcher, this.worker]) {
      allow(fn, writeJobs, [jobObjects]);
      this.allowListing(fn);
      allow(fn, items, [this.table.tableArn]);
      this.eventBus.grantPutEventsTo(fn);
    }
    // A dead chunk only fails its job.
    allow(this.deadLetterHandler, ['dynamodb:GetItem', 'dynamodb:UpdateItem'], [this.table.tableArn]);
    allow(this.dispatcher, ['sqs:SendMessage'], [this.chunkQueue.queueArn]);
    for (const source of sourceBuckets) {
      allow(this.dispatcher, ['s3:GetObject'], [source.arnForObjects('*')]);
      source.encryptionKey?.grantDecrypt(this.dispatcher);
    }
    // A long list continues in a new asynchronous invocation of the dispatcher itself. The
    // statement lives in its own policy: in the role's default policy, the function would
    // depend on its own ARN.
    const selfInvoke = new iam.Policy(this, 'DispatcherSelfInvoke', {
      statements: [
        new iam.PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: [this.dispatcher.functionArn],
        }),
      ],
    });
    selfInvoke.attachToRole(this.dispatcher.role as iam.IRole);
  }

  /** The API handler writes a job's request and reads its results and state, then starts the dispatcher. */
  private grantApi(fn: NodejsFunction): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [this.bucket.arnForObjects('jobs/*')],
      }),
    );
    this.allowListing(fn);
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resources: [this.table.tableArn],
      }),
    );
    fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.dispatcher.functionArn],
      }),
    );
  }

  /**
   * s3:ListBucket on the job bucket. Without it S3 answers a read of a missing object with 403
   * instead of 404, and the handlers tell "not there yet" (a part, a checkpoint) from a failure
   * by that 404. It reveals key names only; a condition on s3:prefix would not restore the 404.
   */
  private allowListing(fn: lambda.IFunction): void {
    fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.bucket.bucketArn] }),
    );
  }

  /** The S3 notification, the SQS event sources and the dispatcher's failure destination. */
  private connect(settings: FetcherSettings): void {
    this.bucket.addEventNotification(
      s3.EventType.OBJECT_CREATED,
      new s3n.LambdaDestination(this.dispatcher),
      {
        prefix: 'inputs/',
      },
    );
    this.worker.addEventSource(
      new SqsEventSource(this.chunkQueue, {
        batchSize: settings.workerBatchSize,
        reportBatchItemFailures: true,
        maxConcurrency: settings.maxWorkerConcurrency,
      }),
    );
    this.deadLetterHandler.addEventSource(
      new SqsEventSource(this.deadLetterQueue, {
        batchSize: 10,
        reportBatchItemFailures: false,
        maxConcurrency: 2,
      }),
    );
    this.dispatcher.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(this.dispatchFailureQueue),
    });
  }

  private createApi(
    settings: FetcherSettings,
    fn: NodejsFunction,
    authorizer: apigateway.IAuthorizer | undefined,
  ): apigateway.RestApi {
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: settings.logRetention,
      removalPolicy: settings.removalPolicy,
    });
    const api = new apigateway.RestApi(this, 'JobsApi', {
      description: 'fanout jobs API',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // Stage logs need the account's API Gateway CloudWatch role; it is account-wide, so kept on delete.
      cloudWatchRole: settings.apiCloudWatchRole,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: 'v1',
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        throttlingRateLimit: settings.apiThrottle.rateLimit,
        throttlingBurstLimit: settings.apiThrottle.burstLimit,
      },
      defaultMethodOptions: authorizer
        ? { authorizer, authorizationType: authorizer.authorizationType }
        : { authorizationType: apigateway.AuthorizationType.IAM },
    });
    const integration = new apigateway.LambdaIntegration(fn, { allowTestInvoke: false });
    const validator = api.addRequestValidator('Validator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    // The handler checks the request in full; the gateway only turns away what is not a JSON object.
    const jobRequest = api.addModel('JobRequest', {
      contentType: 'application/json',
      schema: { schema: apigateway.JsonSchemaVersion.DRAFT4, type: apigateway.JsonSchemaType.OBJECT },
    });
    const jobs = api.root.addResource('jobs');
    jobs.addMethod('POST', integration, {
      requestValidator: validator,
      requestModels: { 'application/json': jobRequest },
    });
    const job = jobs.addResource('{id}');
    for (const method of ['GET', 'DELETE']) {
      job.addMethod(method, integration, {
        requestValidator: validator,
        requestParameters: { 'method.request.path.id': true },
      });
    }
    return api;
  }

  private createAlarms(actions: cloudwatch.IAlarmAction[]): void {
    const period = Duration.minutes(5);
    const alarm = (id: string, description: string, metric: cloudwatch.IMetric, evaluationPeriods = 1) => {
      const created = new cloudwatch.Alarm(this, id, {
        alarmDescription: description,
        metric,
        threshold: 1,
        evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(...actions);
      this.alarms.push(created);
    };
    alarm(
      'DeadChunksAlarm',
      'A chunk failed every delivery and reached the dead-letter queue: its job has failed.',
      this.deadLetterQueue.metricNumberOfMessagesReceived({ period, statistic: 'Sum' }),
    );
    alarm(
      'DeadLetterBacklogAlarm',
      'Messages wait in the chunk dead-letter queue for 15 minutes: the dead-letter handler is failing.',
      this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Minimum' }),
      3,
    );
    alarm(
      'DispatchFailuresAlarm',
      'A dispatch failed every retry; the failed invocation waits in the dispatch failure queue.',
      this.dispatchFailureQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
    );
    alarm(
      'WorkerErrorsAlarm',
      'Worker invocations failed (a crash or a timeout, not a URL error).',
      this.worker.metricErrors({ period, statistic: 'Sum' }),
    );
    alarm(
      'DispatcherErrorsAlarm',
      'Dispatcher invocations failed; Lambda retries them.',
      this.dispatcher.metricErrors({ period, statistic: 'Sum' }),
    );
  }
}
