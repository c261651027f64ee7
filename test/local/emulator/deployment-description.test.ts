import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeTemplate } from '../../../lambda/local/emulator/deployment-description.js';
import { resolveValue, TemplateError } from '../../../lambda/local/emulator/stack-template.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A cdk.out folder holding one stack with these resources, and an asset with index.mjs. */
function cdkOut(resources: Record<string, unknown>, stacks = ['S']): string {
  const dir = mkdtempSync(join(tmpdir(), 'fanout-cdkout-'));
  dirs.push(dir);
  const artifacts: Record<string, unknown> = { Tree: { type: 'cdk:tree' } };
  for (const name of stacks) {
    artifacts[name] = {
      type: 'aws:cloudformation:stack',
      properties: { templateFile: `${name}.template.json` },
    };
    writeFileSync(join(dir, `${name}.template.json`), JSON.stringify({ Resources: resources }));
  }
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ version: '55.0.0', artifacts }));
  mkdirSync(join(dir, 'asset.abc'));
  writeFileSync(join(dir, 'asset.abc', 'index.mjs'), 'export const handler = async () => 1;');
  return dir;
}

const fn = (extra: Record<string, unknown> = {}) => ({
  Type: 'AWS::Lambda::Function',
  Properties: {
    Handler: 'index.handler',
    Role: { 'Fn::GetAtt': ['WorkerRole', 'Arn'] },
    Timeout: 300,
    MemorySize: 512,
    Environment: { Variables: { QUEUE: { Ref: 'Chunks' }, PLAIN: 'x' } },
    ...extra,
  },
  Metadata: { 'aws:asset:path': 'asset.abc' },
});

const STACK = {
  WorkerRole: { Type: 'AWS::IAM::Role', Properties: {} },
  WorkerPolicy: {
    Type: 'AWS::IAM::Policy',
    Properties: {
      Roles: [{ Ref: 'WorkerRole' }],
      PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] },
    },
  },
  Worker: fn(),
  Dlq: { Type: 'AWS::SQS::Queue', Properties: { FifoQueue: true, MessageRetentionPeriod: 1209600 } },
  Chunks: {
    Type: 'AWS::SQS::Queue',
    Properties: {
      FifoQueue: true,
      DeduplicationScope: 'messageGroup',
      VisibilityTimeout: 1800,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] }, maxReceiveCount: 5 },
    },
  },
  Mapping: {
    Type: 'AWS::Lambda::EventSourceMapping',
    Properties: {
      FunctionName: { Ref: 'Worker' },
      EventSourceArn: { 'Fn::GetAtt': ['Chunks', 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 50 },
    },
  },
  Alarm: { Type: 'AWS::CloudWatch::Alarm', Properties: {} },
};

describe('describeTemplate', () => {
  it('reads functions, queues, event sources and policies as the template declares them', () => {
    const d = describeTemplate(cdkOut(STACK));
    expect(d.stackName).toBe('S');
    const [worker] = d.functions;
    expect(worker).toMatchObject({
      logicalId: 'Worker',
      exportName: 'handler',
      timeoutSeconds: 300,
      memoryMiB: 512,
      roleId: 'WorkerRole',
      // Lambda's defaults for what the template leaves out.
      asyncInvoke: { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21600 },
    });
    expect(worker?.codeFile).toMatch(/asset\.abc\/index\.mjs$/);
    expect(worker?.policies).toEqual([STACK.WorkerPolicy.Properties.PolicyDocument]);
    const chunks = d.queues.find((q) => q.logicalId === 'Chunks');
    expect(chunks).toMatchObject({
      fifo: true,
      attributes: { FifoQueue: 'true', DeduplicationScope: 'messageGroup', VisibilityTimeout: '1800' },
      redrive: { maxReceiveCount: 5 },
    });
    expect(d.eventSources).toEqual([
      expect.objectContaining({
        functionId: 'Worker',
        batchSize: 1,
        maximumConcurrency: 50,
        reportBatchItemFailures: true,
      }),
    ]);
    expect(d.notEmulated).toEqual(['Alarm (AWS::CloudWatch::Alarm)']);
  });

  it('reads the async invoke config and the S3 notification filter', () => {
    const d = describeTemplate(
      cdkOut({
        ...STACK,
        Config: {
          Type: 'AWS::Lambda::EventInvokeConfig',
          Properties: {
            FunctionName: { Ref: 'Worker' },
            MaximumRetryAttempts: 0,
            DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['Dlq', 'Arn'] } } },
          },
        },
        Bucket: { Type: 'AWS::S3::Bucket' },
        Notifications: {
          Type: 'Custom::S3BucketNotifications',
          Properties: {
            BucketName: { Ref: 'Bucket' },
            NotificationConfiguration: {
              LambdaFunctionConfigurations: [
                {
                  Events: ['s3:ObjectCreated:*'],
                  Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'inputs/' }] } },
                  LambdaFunctionArn: { 'Fn::GetAtt': ['Worker', 'Arn'] },
                },
              ],
            },
          },
        },
      }),
    );
    expect(d.functions[0]?.asyncInvoke).toMatchObject({
      maximumRetryAttempts: 0,
      onFailure: { 'Fn::GetAtt': ['Dlq', 'Arn'] },
    });
    expect(d.buckets).toEqual([
      {
        logicalId: 'Bucket',
        notifications: [
          {
            functionId: { 'Fn::GetAtt': ['Worker', 'Arn'] },
            events: ['s3:ObjectCreated:*'],
            prefix: 'inputs/',
          },
        ],
      },
    ]);
  });

  it('names what is wrong with a folder or template', () => {
    expect(() => describeTemplate(join(tmpdir(), 'no-such-cdk-out'))).toThrow(
      /cannot read cloud assembly manifest/,
    );
    expect(() => describeTemplate(cdkOut(STACK, ['A', 'B']))).toThrow(/has 2 stacks \(A, B\): name one/);
    expect(() => describeTemplate(cdkOut({ ...STACK, Worker: fn({ Handler: 'main.run' }) }))).toThrow(
      /Worker: handler file .*main\.\{js,mjs,cjs\} is missing/,
    );
    expect(() => describeTemplate(cdkOut({ ...STACK, Worker: fn({ Handler: 'nodot' }) }))).toThrow(
      TemplateError,
    );
  });
});

describe('resolveValue', () => {
  const context = {
    region: 'eu-west-1',
    accountId: '123456789012',
    stackName: 'S',
    resources: new Map([
      ['Bucket', { ref: 'b1', attributes: { Arn: 'arn:aws:s3:::b1' } }],
      ['Queue', { ref: 'http://q/1/q1', attributes: { Arn: 'arn:aws:sqs:eu-west-1:1:q1' } }],
    ]),
  };

  it('resolves Ref, GetAtt, Join, Sub, Select and Split', () => {
    expect(
      resolveValue(
        {
          a: { Ref: 'Bucket' },
          b: { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['Bucket', 'Arn'] }, '/jobs/*']] },
          // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's own ${} syntax
          c: { 'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/default' },
          d: { 'Fn::Select': [1, { 'Fn::Split': [':', { 'Fn::GetAtt': ['Queue', 'Arn'] }] }] },
          // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's own ${} syntax
          e: { 'Fn::Sub': ['${Q}-${Bucket.Arn}', { Q: { Ref: 'Queue' } }] },
        },
        context,
        'x',
      ),
    ).toEqual({
      a: 'b1',
      b: 'arn:aws:s3:::b1/jobs/*',
      c: 'arn:aws:events:eu-west-1:123456789012:event-bus/default',
      d: 'aws',
      e: 'http://q/1/q1-arn:aws:s3:::b1',
    });
  });

  it('names a reference to nothing, and a function it does not know', () => {
    expect(() => resolveValue({ Ref: 'Missing' }, context, 'Env.X')).toThrow(
      'Env.X (Ref): Ref Missing names nothing the emulation made',
    );
    expect(() => resolveValue({ 'Fn::ImportValue': 'x' }, context, 'Env.Y')).toThrow(
      'Env.Y: the emulation does not resolve Fn::ImportValue',
    );
  });
});
