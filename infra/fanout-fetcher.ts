import { ArnFormat, Duration, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  DEPLOYMENT_DEFAULTS as DEPLOYMENT,
  JOB_FINISHED_EVENT,
  visibilityTimeoutSeconds,
} from '../lambda/core/contract.js';
import { hostGroupsFor } from '../lambda/core/host-group.js';
import type { JobOptions, PropOption, TunableJobOptions } from '../lambda/core/job-options.js';
import type { JobMaxima } from '../lambda/core/options.js';
import { acknowledgeAcceptedFindings } from './accepted-findings.js';
import { createAlarms } from './fanout-alarms.js';
import { FanoutDashboard } from './fanout-dashboard.js';
import { type FetcherSettings, resolveFetcherSettings } from './fetcher-settings.js';
import { handlerFunction } from './handler-function.js';
import { createJobBucket } from './job-bucket.js';
import { createJobTable } from './job-table.js';
import { createJobsApi, grantJobsApiInvoke } from './jobs-api.js';

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
  /**
   * Request headers may read AWS Secrets Manager secrets (`--header 'Authorization: secret:NAME'`)
   * whose names start with this prefix: the worker may read (secretsmanager:GetSecretValue) those
   * and no others, and the API refuses a job naming another. @default 'fanout/'
   */
  readonly headerSecretsPrefix?: string;
}

/**
 * fanout on AWS: a job bucket, a dispatcher that chunks each list onto an SQS queue, workers that
 * fetch the chunks, a DynamoDB job table, an IAM-authorized jobs API, a completion event per job,
 * alarms and a dashboard. Every grant is scoped to the prefixes and actions its handler uses.
 * The pieces are built in their own files (job-bucket, job-table, handler-function, jobs-api,
 * fanout-alarms, fanout-dashboard); this construct composes and connects them.
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
  /** The job table: one item per job, its counter shards, one marker per counted chunk; TTL on `expiresAt`. */
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
  readonly alarms: cloudwatch.Alarm[];
  /** The CloudWatch dashboard; undefined when the dashboard prop is false. */
  readonly dashboard?: FanoutDashboard;
  /** The props with their defaults applied. */
  readonly settings: FetcherSettings;
  /** The secrets request headers may read (`secret:NAME`): those named with headerSecretsPrefix. */
  readonly headerSecretsArn: string;

  constructor(scope: Construct, id: string, props: FanoutFetcherProps = {}) {
    super(scope, id);
    const settings = resolveFetcherSettings(props);
    this.settings = settings;
    this.headerSecretsArn = Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${settings.headerSecretsPrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    this.bucket = createJobBucket(this, settings, props.serverAccessLogsBucket);
    this.table = createJobTable(this, settings.removalPolicy);

    const queue = (name: string, options: sqs.QueueProps) =>
      new sqs.Queue(this, name, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        ...options,
      });
    const deadLetterRetention = Duration.seconds(DEPLOYMENT.deadLetterRetentionSeconds);
    // FIFO: a chunk's message group is its job's host group, and SQS hands a group to one worker
    // at a time, so a host's limits hold across the fleet (docs/architecture.md, "Politeness").
    // High throughput: the per-queue limits apply per message group instead.
    const fifo = {
      fifo: true,
      deduplicationScope: sqs.DeduplicationScope.MESSAGE_GROUP,
      fifoThroughputLimit: sqs.FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
    };
    this.deadLetterQueue = queue('ChunkDeadLetters', {
      ...fifo,
      retentionPeriod: deadLetterRetention,
      visibilityTimeout: Duration.seconds(visibilityTimeoutSeconds(DEPLOYMENT.deadLetterTimeoutSeconds)),
    });
    this.chunkQueue = queue('Chunks', {
      ...fifo,
      visibilityTimeout: settings.visibilityTimeout,
      retentionPeriod: Duration.seconds(DEPLOYMENT.queueRetentionSeconds),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: settings.maxReceiveCount },
    });
    this.dispatchFailureQueue = queue('DispatchFailures', { retentionPeriod: deadLetterRetention });
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');

    const logging = { logRetention: settings.logRetention, removalPolicy: settings.removalPolicy };
    const common = {
      bucket: this.bucket.bucketName,
      table: this.table.tableName,
      metricsNamespace: settings.metricsNamespace,
    };
    const jobDefaults = JSON.stringify(settings.jobDefaults);
    this.dispatcher = handlerFunction(this, {
      name: 'dispatcher',
      description: 'fanout dispatcher: reads a job list, writes chunks to the queue',
      memorySize: DEPLOYMENT.dispatcherMemoryMiB,
      timeout: Duration.seconds(DEPLOYMENT.dispatcherTimeoutSeconds),
      environment: {
        ...common,
        queueUrl: this.chunkQueue.queueUrl,
        hostGroups: hostGroupsFor(settings.maxWorkerConcurrency),
        jobDefaults,
        eventBus: this.eventBus.eventBusName,
      },
      ...logging,
    });
    this.worker = handlerFunction(this, {
      name: 'worker',
      description: 'fanout worker: fetches the URLs of one chunk, writes its part',
      memorySize: settings.workerMemorySize,
      timeout: settings.workerTimeout,
      environment: {
        ...common,
        queueUrl: this.chunkQueue.queueUrl,
        deadlineMarginMs: settings.workerDeadlineMargin.toMilliseconds(),
        dispatcherFunction: this.dispatcher.functionName,
        headerSecretsPrefix: settings.headerSecretsPrefix,
      },
      ...logging,
    });
    this.deadLetterHandler = handlerFunction(this, {
      name: 'dead-letters',
      description: 'fanout dead letters: fails the job of a chunk that failed every delivery',
      memorySize: DEPLOYMENT.deadLetterMemoryMiB,
      timeout: Duration.seconds(DEPLOYMENT.deadLetterTimeoutSeconds),
      environment: common,
      ...logging,
    });
    this.grantAccess(props.sourceBuckets ?? []);
    this.connect(settings);
    if (settings.apiAccess === 'iam') {
      this.apiHandler = handlerFunction(this, {
        name: 'api',
        description: 'fanout API: starts, reads and cancels jobs',
        memorySize: DEPLOYMENT.apiMemoryMiB,
        timeout: Duration.seconds(DEPLOYMENT.apiTimeoutSeconds),
        environment: {
          ...common,
          dispatcherFunction: this.dispatcher.functionName,
          jobDefaults,
          jobMaxima: JSON.stringify(settings.jobMaxima),
          resultUrlSeconds: settings.resultUrlTtl.toSeconds(),
          headerSecretsPrefix: settings.headerSecretsPrefix,
        },
        ...logging,
      });
      this.grantApi(this.apiHandler);
      this.api = createJobsApi(this, settings, this.apiHandler, props.apiAuthorizer);
    }
    this.alarms = createAlarms(this, this, props.alarmActions ?? []);
    if (settings.dashboard) this.dashboard = new FanoutDashboard(this, 'Dashboard', { fetcher: this });
    acknowledgeAcceptedFindings(this, {
      authorizer: props.apiAuthorizer,
      sourceBuckets: props.sourceBuckets ?? [],
    });
  }

  /** Lets a principal call the jobs API with SigV4-signed requests (execute-api:Invoke on its three methods). */
  grantApiInvoke(grantee: iam.IGrantable): iam.Grant {
    if (!this.api) throw new Error('FanoutFetcher: the API is disabled (apiAccess: disabled)');
    return grantJobsApiInvoke(this.api, grantee);
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

  /** The grants of dispatcher, worker and dead-letter handler: the prefixes and actions each one uses. */
  private grantAccess(sourceBuckets: s3.IBucket[]): void {
    const jobObjects = this.bucket.arnForObjects('jobs/*');
    const allow = (fn: lambda.IFunction, actions: string[], resources: string[]) =>
      fn.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
    const writeJobs = ['s3:GetObject', 's3:PutObject', 's3:PutObjectTagging', 's3:AbortMultipartUpload'];
    const items = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'];

    allow(this.dispatcher, ['s3:GetObject'], [this.bucket.arnForObjects('inputs/*')]);
    for (const fn of [this.dispatcher, this.worker]) {
      allow(fn, writeJobs, [jobObjects]);
      this.allowListing(fn);
      allow(fn, items, [this.table.tableArn]);
    }
    // The fan-in runs in the dispatcher: it announces the job, and removes its segments once joined.
    this.eventBus.grantPutEventsTo(this.dispatcher);
    allow(this.dispatcher, ['s3:DeleteObject'], [this.bucket.arnForObjects('jobs/*/finalize/*')]);
    // The worker that counts a job's last chunk starts the fan-in (an asynchronous invocation).
    allow(this.worker, ['lambda:InvokeFunction'], [this.dispatcher.functionArn]);
    // Request headers' secret: values, only under the deployment's prefix.
    allow(this.worker, ['secretsmanager:GetSecretValue'], [this.headerSecretsArn]);
    // A dead chunk only fails its job.
    allow(
      this.deadLetterHandler,
      ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
      [this.table.tableArn],
    );
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
        actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
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
        batchSize: DEPLOYMENT.deadLetterBatchSize,
        reportBatchItemFailures: false,
        maxConcurrency: DEPLOYMENT.deadLetterConcurrency,
      }),
    );
    this.dispatcher.configureAsyncInvoke({
      // Lambda counts retries: the attempts after the first.
      retryAttempts: DEPLOYMENT.asyncInvokeAttempts - 1,
      maxEventAge: Duration.seconds(DEPLOYMENT.asyncEventMaxAgeSeconds),
      onFailure: new SqsDestination(this.dispatchFailureQueue),
    });
  }
}
