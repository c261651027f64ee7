import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { beforeAll, describe, expect, it } from 'vitest';
import { FanoutFetcher } from '../../infra/fanout-fetcher.js';
import { createJobTableInput } from '../../lambda/adapters/aws/dynamo-job-store.js';
import {
  type HandlerName,
  JOB_FINISHED_EVENT,
  RETENTION_TAG,
  requiredVariables,
} from '../../lambda/core/contract.js';
import { DEFAULT_OPTIONS } from '../../lambda/core/options.js';
import { readConfig } from '../../lambda/handlers/config.js';
import { logicalId, permissionsOf, testApp } from './cdk-test-app.js';

// One App, two stacks: every default, and every prop a user is likely to turn. Bundling runs
// once per handler; the second stack reuses the bundles.
let fetcher: FanoutFetcher;
let template: Template;
let custom: FanoutFetcher;
let customTemplate: Template;

beforeAll(() => {
  const app = testApp();
  const stack = new Stack(app, 'Defaults');
  fetcher = new FanoutFetcher(stack, 'Fanout');
  fetcher.onJobFinished('Finished');
  fetcher.grantApiInvoke(new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() }));

  const customStack = new Stack(app, 'Custom');
  custom = new FanoutFetcher(customStack, 'Fanout', {
    concurrency: 64,
    chunkSize: 100,
    body: 'store',
    workerMemorySize: 2048,
    workerTimeout: Duration.minutes(10),
    workerBatchSize: 5,
    maxWorkerConcurrency: 200,
    maxReceiveCount: 8,
    partsRetention: Duration.days(3),
    bodiesRetention: Duration.days(14),
    inputsRetention: Duration.days(10),
    jobsRetention: Duration.days(90),
    removalPolicy: RemovalPolicy.DESTROY,
    sourceBuckets: [s3.Bucket.fromBucketName(customStack, 'Lists', 'team-url-lists')],
    apiAccess: 'disabled',
    eventBus: new events.EventBus(customStack, 'Bus'),
    alarmActions: [new cloudwatchActions.SnsAction(new sns.Topic(customStack, 'Oncall'))],
    metricsNamespace: 'Crawl',
    dashboard: false,
  });
  template = Template.fromStack(stack);
  customTemplate = Template.fromStack(customStack);
});

const handlers = () => ({
  api: fetcher.apiHandler!,
  dispatcher: fetcher.dispatcher,
  worker: fetcher.worker,
  'dead-letters': fetcher.deadLetterHandler,
});
const envOf = (t: Template, fn: FanoutFetcher['worker']) =>
  t.toJSON().Resources[logicalId(fn)].Properties.Environment.Variables as Record<string, unknown>;

describe('the Lambdas', () => {
  it('run nodejs24.x on arm64, bundled by esbuild as ESM, with JSON logs in their own log group', () => {
    for (const fn of Object.values(handlers())) {
      template.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: Match.absent(),
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        LoggingConfig: { LogFormat: 'JSON', LogGroup: { Ref: Match.anyValue() } },
        Role: { 'Fn::GetAtt': [logicalId(fn.role!), 'Arn'] },
      });
      const log = template.toJSON().Resources[logicalId(fn)].Properties.LoggingConfig.LogGroup.Ref;
      template.hasResource('AWS::Logs::LogGroup', {
        Properties: { RetentionInDays: 30 },
        DeletionPolicy: 'Retain',
      });
      expect(template.toJSON().Resources[log].Type).toBe('AWS::Logs::LogGroup');
    }
  });

  it('get their configuration from the environment, each only what it reads', () => {
    const keys = (fn: FanoutFetcher['worker']) =>
      Object.keys(envOf(template, fn))
        .filter((k) => k !== 'NODE_OPTIONS')
        .sort();
    const { api, dispatcher, worker } = handlers();
    const base = ['FANOUT_BUCKET', 'FANOUT_METRICS_NAMESPACE', 'FANOUT_TABLE'];
    expect(keys(dispatcher)).toEqual(
      [...base, 'FANOUT_EVENT_BUS', 'FANOUT_HOST_GROUPS', 'FANOUT_JOB_DEFAULTS', 'FANOUT_QUEUE_URL'].sort(),
    );
    expect(keys(worker)).toEqual(
      [
        ...base,
        'FANOUT_DEADLINE_MARGIN_MS',
        'FANOUT_DISPATCHER_FUNCTION',
        'FANOUT_HEADER_SECRETS_PREFIX',
        'FANOUT_QUEUE_URL',
      ].sort(),
    );
    expect(keys(fetcher.deadLetterHandler)).toEqual(base);
    expect(keys(api)).toEqual(
      [
        ...base,
        'FANOUT_DISPATCHER_FUNCTION',
        'FANOUT_HEADER_SECRETS_PREFIX',
        'FANOUT_JOB_DEFAULTS',
        'FANOUT_JOB_MAXIMA',
        'FANOUT_RESULT_URL_SECONDS',
      ].sort(),
    );
    expect(envOf(template, api).FANOUT_DISPATCHER_FUNCTION).toEqual({ Ref: logicalId(dispatcher) });
    expect(envOf(template, worker).FANOUT_DEADLINE_MARGIN_MS).toBe('15000');
    // Twice as many host groups as workers at once (50 by default).
    expect(envOf(template, dispatcher).FANOUT_HOST_GROUPS).toBe('100');
    // The worker that counts a job's last chunk starts the fan-in in the dispatcher function.
    expect(envOf(template, worker).FANOUT_DISPATCHER_FUNCTION).toEqual({ Ref: logicalId(dispatcher) });
    expect(envOf(template, api).FANOUT_RESULT_URL_SECONDS).toBe('3600');
    expect(envOf(template, worker).FANOUT_HEADER_SECRETS_PREFIX).toBe('fanout/');
    expect(envOf(template, api).FANOUT_HEADER_SECRETS_PREFIX).toBe('fanout/');
  });

  it('hand the job defaults from the option table, and maxima that fit one worker invocation', () => {
    const defaults = JSON.parse(envOf(template, fetcher.dispatcher).FANOUT_JOB_DEFAULTS as string);
    for (const key of [
      'concurrency',
      'perHost',
      'chunkSize',
      'body',
      'maxBodyBytes',
      'inlineMaxBytes',
      'userAgent',
    ]) {
      expect(defaults[key]).toEqual(DEFAULT_OPTIONS[key as keyof typeof DEFAULT_OPTIONS]);
    }
    expect(envOf(template, fetcher.apiHandler!).FANOUT_JOB_DEFAULTS).toBe(
      envOf(template, fetcher.dispatcher).FANOUT_JOB_DEFAULTS,
    );
    const maxima = JSON.parse(envOf(template, fetcher.apiHandler!).FANOUT_JOB_MAXIMA as string);
    expect(maxima).toEqual({
      concurrency: 512,
      perHost: 64,
      chunkSize: 1000,
      maxBodyBytes: 100 * 1024 * 1024,
      inlineMaxBytes: 256 * 1024,
      timeoutMs: 300_000 - 15_000,
    });
    const customDefaults = JSON.parse(envOf(customTemplate, custom.dispatcher).FANOUT_JOB_DEFAULTS as string);
    expect(customDefaults).toMatchObject({ concurrency: 64, perHost: 8, chunkSize: 100, body: 'store' });
    expect(envOf(customTemplate, custom.worker).FANOUT_METRICS_NAMESPACE).toBe('Crawl');
  });

  it('give the worker the memory and timeout props', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 512, Timeout: 300 });
    customTemplate.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 2048, Timeout: 600 });
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 1024, Timeout: 900 }); // the dispatcher
  });
});

describe('the worker and the chunk queue', () => {
  it('consumes the chunk queue one chunk per invocation, with partial batch responses and a concurrency cap', () => {
    template.resourcePropertiesCountIs(
      'AWS::Lambda::EventSourceMapping',
      { FunctionName: { Ref: logicalId(fetcher.worker) } },
      1,
    );
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(fetcher.worker) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(fetcher.chunkQueue), 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 50 },
    });
    customTemplate.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(custom.worker) },
      BatchSize: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 200 },
    });
  });

  it('redrives to the DLQ after maxReceiveCount, with a visibility timeout six times the worker timeout', () => {
    const redrive = (t: Template, f: FanoutFetcher, count: number, visibility: number) =>
      t.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: {
          deadLetterTargetArn: { 'Fn::GetAtt': [logicalId(f.deadLetterQueue), 'Arn'] },
          maxReceiveCount: count,
        },
        VisibilityTimeout: visibility,
      });
    redrive(template, fetcher, 5, 6 * 300);
    redrive(customTemplate, custom, 8, 6 * 600);
  });

  it('makes the chunk queue and its DLQ FIFO, high throughput: one worker at a time per host group', () => {
    for (const queue of [fetcher.chunkQueue, fetcher.deadLetterQueue]) {
      expect(template.toJSON().Resources[logicalId(queue)].Properties).toMatchObject({
        FifoQueue: true,
        DeduplicationScope: 'messageGroup',
        FifoThroughputLimit: 'perMessageGroupId',
      });
    }
  });

  it('keeps a dead chunk longer than the queue keeps a live one', () => {
    const queues = template.toJSON().Resources;
    const queue = queues[logicalId(fetcher.chunkQueue)].Properties;
    const dlq = queues[logicalId(fetcher.deadLetterQueue)].Properties;
    expect(dlq.MessageRetentionPeriod).toBeGreaterThan(queue.MessageRetentionPeriod);
  });

  it('drains the DLQ into the dead-letter handler', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(fetcher.deadLetterHandler) },
      EventSourceArn: { 'Fn::GetAtt': [logicalId(fetcher.deadLetterQueue), 'Arn'] },
    });
  });

  it('sends dispatches that failed every retry to the dispatch failure queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(fetcher.dispatcher) },
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(fetcher.dispatchFailureQueue), 'Arn'] } },
      },
    });
  });
});

describe('encryption and transport', () => {
  it('encrypts every queue and refuses requests without TLS', () => {
    template.resourceCountIs('AWS::SQS::Queue', 3);
    template.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    for (const queue of [fetcher.chunkQueue, fetcher.deadLetterQueue, fetcher.dispatchFailureQueue]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: logicalId(queue) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('encrypts both buckets, blocks public access, and denies requests without TLS 1.2', () => {
    template.resourceCountIs('AWS::S3::Bucket', 2);
    template.allResourcesProperties('AWS::S3::Bucket', {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: logicalId(fetcher.bucket) },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Deny', Condition: { NumericLessThan: { 's3:TlsVersion': 1.2 } } }),
        ]),
      },
    });
  });

  it('logs access to the job bucket in the access-log bucket', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { DestinationBucketName: { Ref: Match.stringLikeRegexp('AccessLogs') } },
    });
  });
});

describe('the bucket', () => {
  it('starts a job for objects created under inputs/ only', () => {
    template.resourceCountIs('Custom::S3BucketNotifications', 1);
    template.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: { Ref: logicalId(fetcher.bucket) },
      NotificationConfiguration: {
        LambdaFunctionConfigurations: [
          {
            Events: ['s3:ObjectCreated:*'],
            Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'inputs/' }] } },
            LambdaFunctionArn: { 'Fn::GetAtt': [logicalId(fetcher.dispatcher), 'Arn'] },
          },
        ],
      },
    });
  });

  it('expires inputs, parts and bodies, and aborts incomplete uploads', () => {
    const rulesOf = (t: Template, f: FanoutFetcher) =>
      t.toJSON().Resources[logicalId(f.bucket)].Properties.LifecycleConfiguration.Rules;
    const tag = (value: string) => [{ Key: RETENTION_TAG.key, Value: value }];
    expect(rulesOf(template, fetcher)).toEqual([
      {
        Id: 'abort-incomplete-uploads',
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
        Status: 'Enabled',
      },
      { Id: 'expire-inputs', Prefix: 'inputs/', ExpirationInDays: 30, Status: 'Enabled' },
      {
        Id: 'expire-parts',
        Prefix: 'jobs/',
        TagFilters: tag('scratch'),
        ExpirationInDays: 7,
        Status: 'Enabled',
      },
      {
        Id: 'expire-bodies',
        Prefix: 'jobs/',
        TagFilters: tag('body'),
        ExpirationInDays: 30,
        Status: 'Enabled',
      },
    ]);
    expect(rulesOf(customTemplate, custom)).toEqual([
      expect.objectContaining({ Id: 'abort-incomplete-uploads' }),
      expect.objectContaining({ Id: 'expire-inputs', ExpirationInDays: 10 }),
      expect.objectContaining({ Id: 'expire-parts', ExpirationInDays: 3 }),
      expect.objectContaining({ Id: 'expire-bodies', ExpirationInDays: 14 }),
      { Id: 'expire-jobs', Prefix: 'jobs/', ExpirationInDays: 90, Status: 'Enabled' },
    ]);
  });

  it('is retained by default, and emptied and deleted with removalPolicy DESTROY', () => {
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
    customTemplate.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete' });
    customTemplate.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
  });
});

describe('the job table', () => {
  it('has the key schema the DynamoDB job store creates, on demand, with TTL and point-in-time recovery', () => {
    const expected = createJobTableInput('jobs');
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: {
        KeySchema: expected.KeySchema,
        AttributeDefinitions: expected.AttributeDefinitions,
        // `fanout jobs` queries it, newest first: partition key kind, sort key createdAt.
        GlobalSecondaryIndexes: expected.GlobalSecondaryIndexes,
        BillingMode: expected.BillingMode,
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      },
      DeletionPolicy: 'Retain',
    });
    customTemplate.hasResource('AWS::DynamoDB::Table', {
      Properties: { DeletionProtectionEnabled: false },
      DeletionPolicy: 'Delete',
    });
  });
});

describe('the API', () => {
  it('serves POST /jobs, GET and DELETE /jobs/{id}, every method IAM-authorized', () => {
    template.resourceCountIs('AWS::ApiGateway::Method', 3);
    template.allResourcesProperties('AWS::ApiGateway::Method', {
      AuthorizationType: 'AWS_IAM',
      Integration: { Type: 'AWS_PROXY' },
    });
    const paths = Object.values(template.findResources('AWS::ApiGateway::Resource')).map(
      (r) => r.Properties.PathPart,
    );
    expect(paths.sort()).toEqual(['jobs', '{id}']);
    for (const method of ['POST', 'GET', 'DELETE']) {
      template.hasResourceProperties('AWS::ApiGateway::Method', {
        HttpMethod: method,
        RequestValidatorId: Match.anyValue(),
      });
    }
  });

  it('logs access, and throttles the stage', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'v1',
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: [
        Match.objectLike({ LoggingLevel: 'ERROR', ThrottlingRateLimit: 25, ThrottlingBurstLimit: 50 }),
      ],
    });
  });

  it('lets a granted principal invoke only the three methods', () => {
    const caller = template.findResources('AWS::IAM::Role', {
      Properties: {
        AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { AWS: Match.anyValue() } })] },
      },
    });
    const [callerId] = Object.keys(caller);
    const api = fetcher.api!;
    const stage = `arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:<${logicalId(api)}>/<${logicalId(api.deploymentStage)}>`;
    expect(permissionsOf(template, callerId as string)).toEqual([
      `execute-api:Invoke ${stage}/DELETE/jobs/*`,
      `execute-api:Invoke ${stage}/GET/jobs/*`,
      `execute-api:Invoke ${stage}/POST/jobs`,
    ]);
  });

  it('is left out with apiAccess disabled', () => {
    customTemplate.resourceCountIs('AWS::ApiGateway::RestApi', 0);
    expect(custom.apiHandler).toBeUndefined();
    expect(() => custom.grantApiInvoke(new iam.AccountRootPrincipal())).toThrow(/API is disabled/);
  });
});

describe('grants', () => {
  const bucket = () => `<${logicalId(fetcher.bucket)}.Arn>`;
  const table = () => `<${logicalId(fetcher.table)}.Arn>`;
  const queue = (q: FanoutFetcher['chunkQueue']) => `<${logicalId(q)}.Arn>`;
  const logs = (fn: FanoutFetcher['worker']) => {
    const group = template.toJSON().Resources[logicalId(fn)].Properties.LoggingConfig.LogGroup.Ref;
    return [`logs:CreateLogStream <${group}.Arn>`, `logs:PutLogEvents <${group}.Arn>`];
  };
  const bus = 'arn:<AWS::Partition>:events:<AWS::Region>:<AWS::AccountId>:event-bus/default';
  const jobObjects = (...actions: string[]) => actions.map((a) => `s3:${a} ${bucket()}/jobs/*`);
  const items = (...actions: string[]) => actions.map((a) => `dynamodb:${a} ${table()}`);
  const permissions = (fn: FanoutFetcher['worker']) => permissionsOf(template, logicalId(fn.role!));

  it('give the API handler its job objects, job items and the dispatcher, nothing else', () => {
    const { api, dispatcher } = handlers();
    expect(permissions(api)).toEqual(
      [
        ...logs(api),
        ...jobObjects('GetObject', 'PutObject'),
        `s3:ListBucket ${bucket()}`,
        ...items('GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'),
        `lambda:InvokeFunction <${logicalId(dispatcher)}.Arn>`,
      ].sort(),
    );
  });

  it('give the dispatcher inputs/ to read, jobs/ to write, the queue to send to, and itself to continue in', () => {
    const { dispatcher } = handlers();
    expect(permissions(dispatcher)).toEqual(
      [
        ...logs(dispatcher),
        `s3:GetObject ${bucket()}/inputs/*`,
        ...jobObjects('GetObject', 'PutObject', 'PutObjectTagging', 'AbortMultipartUpload'),
        // The fan-in removes its segments once they are joined into the outputs.
        `s3:DeleteObject ${bucket()}/jobs/*/finalize/*`,
        `s3:ListBucket ${bucket()}`,
        ...items('GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'),
        `sqs:SendMessage ${queue(fetcher.chunkQueue)}`,
        ...['GetQueueAttributes', 'GetQueueUrl', 'SendMessage'].map(
          (a) => `sqs:${a} ${queue(fetcher.dispatchFailureQueue)}`,
        ),
        `events:PutEvents ${bus}`,
        `lambda:InvokeFunction <${logicalId(dispatcher)}.Arn>`,
      ].sort(),
    );
  });

  it('let the dispatcher invoke itself through a policy of its own, so the function does not depend on its ARN', () => {
    const self = template.toJSON().Resources[logicalId(fetcher.node.findChild('DispatcherSelfInvoke'))];
    expect(self.Properties.Roles).toEqual([{ Ref: logicalId(fetcher.dispatcher.role!) }]);
    const fn = template.toJSON().Resources[logicalId(fetcher.dispatcher)];
    expect(JSON.stringify(fn.DependsOn ?? [])).not.toContain(
      logicalId(fetcher.node.findChild('DispatcherSelfInvoke')),
    );
  });

  it('give the worker jobs/, the job items, the chunk queue to consume and the fan-in to start, not the bus', () => {
    const { worker, dispatcher } = handlers();
    expect(permissions(worker)).toEqual(
      [
        ...logs(worker),
        ...jobObjects('GetObject', 'PutObject', 'PutObjectTagging', 'AbortMultipartUpload'),
        `s3:ListBucket ${bucket()}`,
        ...items('GetItem', 'BatchGetItem', 'PutItem', 'UpdateItem'),
        ...[
          'ChangeMessageVisibility',
          'DeleteMessage',
          'GetQueueAttributes',
          'GetQueueUrl',
          'ReceiveMessage',
        ].map((a) => `sqs:${a} ${queue(fetcher.chunkQueue)}`),
        `lambda:InvokeFunction <${logicalId(dispatcher)}.Arn>`,
        // Request headers' secret: values, under the headerSecretsPrefix only.
        'secretsmanager:GetSecretValue arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:fanout/*',
      ].sort(),
    );
  });

  it('give the dead-letter handler the job items and the DLQ only', () => {
    const fn = fetcher.deadLetterHandler;
    expect(permissions(fn)).toEqual(
      [
        ...logs(fn),
        ...items('GetItem', 'BatchGetItem', 'UpdateItem'),
        ...[
          'ChangeMessageVisibility',
          'DeleteMessage',
          'GetQueueAttributes',
          'GetQueueUrl',
          'ReceiveMessage',
        ].map((a) => `sqs:${a} ${queue(fetcher.deadLetterQueue)}`),
      ].sort(),
    );
  });

  it('use no managed policies, inline role policies or wildcard actions on the handler roles', () => {
    for (const fn of Object.values(handlers())) {
      const role = template.toJSON().Resources[logicalId(fn.role!)].Properties;
      expect(role.ManagedPolicyArns).toBeUndefined();
      expect(role.Policies).toBeUndefined();
      for (const line of permissions(fn)) expect(line).not.toMatch(/^\S*\*|^\S+ \*$/);
    }
  });

  it('let the dispatcher read the objects of the source buckets, and put events on the given bus', () => {
    const lines = permissionsOf(customTemplate, logicalId(custom.dispatcher.role!));
    expect(lines).toContain('s3:GetObject arn:<AWS::Partition>:s3:::team-url-lists/*');
    expect(lines.filter((l) => l.includes('team-url-lists'))).toHaveLength(1);
    const bus = logicalId(custom.eventBus as events.EventBus);
    expect(lines).toContain(`events:PutEvents <${bus}.Arn>`);
  });
});

describe('observability', () => {
  it('alarms on dead chunks, a stuck DLQ, failed dispatches and worker and dispatcher errors', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 5);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(fetcher.deadLetterQueue), 'QueueName'] } },
      ],
      Threshold: 1,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: logicalId(fetcher.worker) } }],
    });
    customTemplate.allResourcesProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: Match.stringLikeRegexp('Oncall') }],
    });
  });

  it('builds the dashboard on the handlers’ metrics in their namespace', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const metric of ['UrlsFetched', 'UrlErrors', 'ChunkDuration', 'JobsFinished'])
      expect(body).toContain(metric);
    expect(body).toContain('ErrorCode');
    customTemplate.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
  });

  it('matches the completion event of every finished job, as the handlers send it', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: [JOB_FINISHED_EVENT.source], 'detail-type': [JOB_FINISHED_EVENT.detailType] },
    });
  });
});

describe('props', () => {
  it('are checked before anything is created, every problem in one error', () => {
    const stack = new Stack(testApp(), 'Invalid');
    let message = '';
    try {
      new FanoutFetcher(stack, 'Fanout', {
        concurrency: 0,
        workerTimeout: Duration.minutes(20),
        maxWorkerConcurrency: 1,
      });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/3 invalid props/);
    expect(message).toMatch(/^ {2}- concurrency must be/m);
    expect(message).toMatch(/^ {2}- workerTimeout must be/m);
    expect(message).toMatch(/^ {2}- maxWorkerConcurrency must be/m);
    expect(stack.node.findChild('Fanout').node.children).toHaveLength(0);
  });
});

describe('the handlers accept the environment the stack gives them', () => {
  // Each handler reads its configuration at cold start and throws naming what is wrong:
  // what the construct writes must pass that check, for the defaults and for turned props.
  const names: HandlerName[] = ['api', 'dispatcher', 'worker', 'dead-letters'];
  /** The variables as Lambda would see them: CloudFormation references become their resolved names. */
  const resolved = (variables: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(variables).map(([name, value]) => [
        name,
        typeof value === 'string' ? value : `resolved-${name}`,
      ]),
    );

  it.each(names)('%s, with the defaults and with custom props', (name) => {
    for (const [t, f] of [
      [template, fetcher],
      [customTemplate, custom],
    ] as const) {
      const fn = {
        api: f.apiHandler,
        dispatcher: f.dispatcher,
        worker: f.worker,
        'dead-letters': f.deadLetterHandler,
      }[name];
      if (!fn) continue;
      const env = { ...resolved(envOf(t, fn)), AWS_LAMBDA_FUNCTION_NAME: `fanout-${name}` };
      const config = readConfig(env, requiredVariables(name));
      expect(config.bucket).toBe('resolved-FANOUT_BUCKET');
    }
  });
});
