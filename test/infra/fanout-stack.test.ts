import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type App, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FanoutFetcher } from '../../infra/fanout-fetcher.js';
import { FanoutStack } from '../../infra/fanout-stack.js';
import { logicalId, testApp } from './cdk-test-app.js';

interface Finding {
  ruleName: string;
  severity: string;
  reason?: string;
  acknowledgedId?: string;
  violatingConstructs?: Array<{ constructPath?: string }>;
}
interface ValidationReport {
  pluginReports: Array<{ pluginName: string; violations?: Finding[]; suppressedViolations?: Finding[] }>;
}

/** Synthesizes an app checked by cdk-nag's AwsSolutions pack; returns the validation report. */
function synthWithNag(app: App): ValidationReport {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  return JSON.parse(
    readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'),
  ) as ValidationReport;
}

/** The ids of every acknowledgment recorded in the tree. */
function acknowledgedIds(root: IConstruct): string[] {
  return root.node
    .findAll()
    .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY))
    .flatMap((m) => Object.keys(m.data as Record<string, string>));
}

const where = (f: Finding) => (f.violatingConstructs ?? []).map((c) => c.constructPath).join(', ');

let app: App;
let stack: FanoutStack;
let report: ValidationReport;

beforeAll(() => {
  app = testApp();
  stack = new FanoutStack(app, 'Fanout');
  // The other shape: no API, buckets emptied on delete, a source bucket from elsewhere.
  const options = new Stack(app, 'FanoutOptions');
  new FanoutFetcher(options, 'Fanout', {
    apiAccess: 'disabled',
    removalPolicy: RemovalPolicy.DESTROY,
    sourceBuckets: [s3.Bucket.fromBucketName(options, 'Lists', 'team-url-lists')],
  });
  report = synthWithNag(app);
});

describe('FanoutStack', () => {
  it('outputs the bucket, API URL, queue URLs and table name', () => {
    const template = Template.fromStack(stack);
    const { fetcher } = stack;
    template.hasOutput('BucketName', { Value: { Ref: logicalId(fetcher.bucket) } });
    template.hasOutput('ApiUrl', {});
    template.hasOutput('ChunkQueueUrl', { Value: { Ref: logicalId(fetcher.chunkQueue) } });
    template.hasOutput('DeadLetterQueueUrl', { Value: { Ref: logicalId(fetcher.deadLetterQueue) } });
    template.hasOutput('TableName', { Value: { Ref: logicalId(fetcher.table) } });
  });

  it('keeps the logical ids of its stateful resources: a new id would replace the bucket or the table', () => {
    const { fetcher } = stack;
    expect({
      bucket: logicalId(fetcher.bucket),
      table: logicalId(fetcher.table),
      chunkQueue: logicalId(fetcher.chunkQueue),
      deadLetterQueue: logicalId(fetcher.deadLetterQueue),
      dispatchFailureQueue: logicalId(fetcher.dispatchFailureQueue),
    }).toEqual({
      bucket: 'FanoutBucketDACD05D5',
      table: 'FanoutJobs856E9B22',
      chunkQueue: 'FanoutChunks767FE265',
      deadLetterQueue: 'FanoutChunkDeadLetters73CA65CC',
      dispatchFailureQueue: 'FanoutDispatchFailures83D4D14A',
    });
  });

  it('has the outputs README lists, no more and no fewer', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(
      readme.indexOf('| output '),
      readme.indexOf('\n\n', readme.indexOf('| output ')),
    );
    const listed = [...table.matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1]);
    const outputs = Object.keys(Template.fromStack(stack).toJSON().Outputs);
    expect(listed.sort()).toEqual(outputs.sort());
  });

  it('names no account, region or resource names: it deploys anywhere, any number of times', () => {
    expect(stack.account).toMatch(/^\$\{Token/);
    expect(stack.region).toMatch(/^\$\{Token/);
    const named = JSON.stringify(Template.fromStack(stack).toJSON()).match(
      /"(BucketName|QueueName|TableName|FunctionName|RoleName)":\s*"/g,
    );
    expect(named).toBeNull();
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged error or warning, in every shape of the stack', () => {
    const open = report.pluginReports.flatMap((p) => p.violations ?? []);
    expect(open.map((f) => `${f.severity} ${f.ruleName} at ${where(f)}`)).toEqual([]);
  });

  it('runs in this harness: an unencrypted, plain-HTTP queue is reported', () => {
    const control = testApp();
    new sqs.Queue(new Stack(control, 'Control'), 'Plain', { encryption: sqs.QueueEncryption.UNENCRYPTED });
    Validations.of(control).addPlugins(new AwsSolutionsChecks(control));
    expect(() => control.synth()).toThrow(/AwsSolutions-SQS4/);
  });

  it('acknowledges only the findings the design accepts, each with a reason', () => {
    const acknowledged = report.pluginReports.flatMap((p) => p.suppressedViolations ?? []);
    const rules = [...new Set(acknowledged.map((f) => f.ruleName.replace(/\[.*$/, '')))].sort();
    expect(rules).toEqual([
      'AwsSolutions-APIG3',
      'AwsSolutions-COG4',
      'AwsSolutions-IAM4',
      'AwsSolutions-IAM5',
      'AwsSolutions-SQS3',
    ]);
    for (const finding of acknowledged)
      expect(finding.reason?.length ?? 0, finding.ruleName).toBeGreaterThan(60);
    // Wildcards only for object keys under a prefix (or a source bucket the deployer named) and the
    // secrets under headerSecretsPrefix, never actions or '*'.
    const wildcards = acknowledged.filter((f) => f.ruleName.startsWith('AwsSolutions-IAM5'));
    const resources = new Set(wildcards.map((f) => f.ruleName.replace(/<\w+\.Arn>/, '<Bucket.Arn>')));
    expect([...resources].sort()).toEqual([
      'AwsSolutions-IAM5[Resource::<Bucket.Arn>/inputs/*]',
      // The fan-in's deletes: its own segments and checkpoint only.
      'AwsSolutions-IAM5[Resource::<Bucket.Arn>/jobs/*/finalize/*]',
      'AwsSolutions-IAM5[Resource::<Bucket.Arn>/jobs/*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::team-url-lists/*]',
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:fanout/*]',
    ]);
    // Every acknowledgment in the tree was used: none is left over from an older design.
    const used = new Set(acknowledged.map((f) => `${f.acknowledgedId}`));
    for (const id of acknowledgedIds(app)) expect(used, id).toContain(id);
  });
});
