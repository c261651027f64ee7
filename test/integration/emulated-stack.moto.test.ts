import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoJobStore } from '../../lambda/adapters/aws/dynamo-job-store.js';
import { FsObjectStore } from '../../lambda/adapters/fs-object-store.js';
import { uploadJobId } from '../../lambda/core/job/keys.js';
import { resolveOptions } from '../../lambda/core/options.js';
import { FINAL_STATUSES, type JobState } from '../../lambda/core/ports.js';
import { synthesizeDefaultStack } from '../../lambda/local/emulator/default-stack.js';
import { describeTemplate } from '../../lambda/local/emulator/deployment-description.js';
import { EmulatedStack } from '../../lambda/local/emulator/emulated-stack.js';
import { type EndpointResult, fanoutOn, runJobOn } from '../../lambda/local/run-endpoint.js';
import { readJob } from '../helpers/cli-harness.js';
import { startTargetServer, type TargetServer } from '../helpers/target-server.js';
import { EMULATORS, MOTO, type RunningEmulators } from '../support/emulators.js';

// The synthesized stack (cdk.out), emulated: the bundled assets run in instances of their own,
// the queues, table and event sources as the template declares them, and every AWS call the
// functions make checked against their roles (issue 25).

let moto: RunningEmulators;
let target: TargetServer;
let work: string;
let cdkOut: string;
let stacks = 0;

beforeAll(async () => {
  [moto, cdkOut] = await Promise.all([MOTO.start({ serialized: true }), synthesizeDefaultStack()]);
  target = await startTargetServer({ '/ok': (_req, res) => res.end('fine') });
  work = mkdtempSync(join(tmpdir(), 'fanout-emulated-'));
}, 180_000);

afterAll(async () => {
  await target?.close();
  await moto?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** A template resource as JSON, edited in place by a test. */
// biome-ignore lint/suspicious/noExplicitAny: the template's JSON, whatever its shape
type Resource = { Type: string; Properties: any };

/** A copy of the synthesized stack whose template `edit` changes. */
function editedTemplate(edit: (resources: Record<string, Resource>) => void): string {
  stacks += 1;
  const dir = join(work, `cdk.out-${stacks}`);
  cpSync(cdkOut, dir, { recursive: true });
  const file = join(dir, 'Fanout.template.json');
  const template = JSON.parse(readFileSync(file, 'utf8'));
  edit(template.Resources);
  writeFileSync(file, JSON.stringify(template));
  return dir;
}

const resourceOf = (resources: Record<string, { Type: string }>, prefix: string, type: string) => {
  const entry = Object.entries(resources).find(([id, r]) => id.startsWith(prefix) && r.Type === type);
  if (!entry) throw new Error(`no ${type} ${prefix}* in the template`);
  return entry[1] as Resource;
};

/** Starts the stack of `dir` on the emulators (moto's unless given), under names no other test uses. */
async function emulate(dir: string, maxPollers = 3, on: RunningEmulators = moto): Promise<EmulatedStack> {
  stacks += 1;
  return EmulatedStack.start({
    description: describeTemplate(dir),
    backends: on.endpoints,
    namePrefix: `emu${stacks}`,
    maxPollers,
    asyncRetryDelayMs: 50,
  });
}

async function runJob(
  stack: EmulatedStack,
  jobId: string,
  urls: string[],
  options: object,
): Promise<EndpointResult> {
  const out = join(work, `out-${jobId}`);
  return runJobOn(stack, {
    jobId,
    source: 'urls.txt',
    input: (async function* () {
      yield Buffer.from(`${urls.join('\n')}\n`);
    })(),
    format: 'text',
    options: resolveOptions({ allow: ['127.0.0.1/32'], retries: 0, ...options }),
    out: new FsObjectStore(out),
  });
}

describe.each(EMULATORS)('the synthesized stack, emulated on $name', (emulator) => {
  let emulators: RunningEmulators;
  beforeAll(async () => {
    emulators = emulator === MOTO ? moto : await emulator.start({ serialized: true });
  }, 120_000);
  afterAll(async () => {
    if (emulators !== moto) await emulators?.stop();
  });

  it('runs a job through the bundled assets, each URL fetched and recorded exactly once', async () => {
    const stack = await emulate(cdkOut, 3, emulators);
    const jobId = `emulated-once-${stacks}`;
    try {
      const urls = Array.from({ length: 60 }, (_, i) => target.url(`/ok?once=${i}`));
      const before = target.requests.length;
      const { state, summary, report } = await runJob(stack, jobId, urls, { chunkSize: 10 });
      expect(state.status).toBe('succeeded');
      expect(summary?.urls).toMatchObject({ accepted: 60, ok: 60, failed: 0 });
      const job = readJob(join(work, `out-${jobId}`), jobId);
      expect(job.results.map((r) => r.line)).toEqual(urls.map((_, i) => i + 1));
      expect(target.requests.length - before).toBe(60);
      expect(report.denied).toEqual([]);
      const actions = new Set(report.allowed.map((c) => `${c.principal} ${c.action}`));
      const fn = (name: string) => `${stack.nameOf(name)}`;
      for (const expected of [
        `${fn('FanoutDispatcher18515000')} sqs:SendMessage`,
        `${fn('FanoutWorkerB6822246')} s3:PutObject`,
        `${fn('FanoutWorkerB6822246')} sqs:ReceiveMessage`,
        `${fn('FanoutWorkerB6822246')} lambda:InvokeFunction`,
        `${fn('FanoutDispatcher18515000')} events:PutEvents`,
      ]) {
        expect(actions).toContain(expected);
      }
      // The handlers see the template's environment, resolved to the emulated resources.
      const worker = stack.environmentOf('FanoutWorkerB6822246');
      expect(worker.FANOUT_DISPATCHER_FUNCTION).toBe(stack.nameOf('FanoutDispatcher18515000'));
      expect(worker.FANOUT_QUEUE_URL).toMatch(/\.fifo$/);
      expect(stack.events).toHaveLength(1);
    } finally {
      await stack.close();
    }
  }, 180_000);
});

describe('the synthesized stack, emulated', () => {
  it('reports the AccessDenied of a permission removed from a role, and the job ends as it would on AWS', async () => {
    const dir = editedTemplate((resources) => {
      const policy = resourceOf(resources, 'FanoutWorkerRoleDefaultPolicy', 'AWS::IAM::Policy');
      for (const statement of policy.Properties.PolicyDocument.Statement) {
        if (Array.isArray(statement.Action))
          statement.Action = statement.Action.filter((a: string) => a !== 's3:PutObject');
      }
    });
    const stack = await emulate(dir);
    try {
      const urls = Array.from({ length: 5 }, (_, i) => target.url(`/ok?denied=${i}`));
      const { state, summary, report } = await runJob(stack, 'emulated-denied', urls, { chunkSize: 10 });
      // Every delivery of the one chunk is refused its part; the DLQ consumer fails the job.
      expect(state.status).toBe('failed');
      expect(summary).toBeNull();
      // The part of the chunk, on each of its five deliveries (and the robots.txt verdict it keeps).
      const worker = stack.nameOf('FanoutWorkerB6822246');
      expect(report.denied).toContainEqual({
        principal: worker,
        action: 's3:PutObject',
        resource: expect.stringMatching(
          /^arn:aws:s3:::emu\d+-bucket\/jobs\/emulated-denied\/parts\/00000000\.jsonl\.gz$/,
        ),
        count: 5,
      });
      expect(report.denied.every((d) => d.principal === worker && d.action === 's3:PutObject')).toBe(true);
      const deliveries = stack.eventSourceStats().find((s) => s.logicalId.startsWith('FanoutWorker'));
      expect(deliveries?.delivered).toBe(5);
    } finally {
      await stack.close();
    }
  }, 180_000);

  it("follows the template's settings: maxReceiveCount and BatchSize", async () => {
    const dir = editedTemplate((resources) => {
      const chunks = resourceOf(resources, 'FanoutChunks', 'AWS::SQS::Queue');
      chunks.Properties.RedrivePolicy.maxReceiveCount = 2;
      const mapping = resourceOf(resources, 'FanoutWorkerSqsEventSource', 'AWS::Lambda::EventSourceMapping');
      mapping.Properties.BatchSize = 3;
    });
    const stack = await emulate(dir, 1);
    try {
      const chunks = describeTemplate(dir).queues.find((q) => q.redrive !== undefined);
      const queueUrl = stack.nameOf(chunks?.logicalId ?? '');
      const { Attributes } = await stack
        .operatorClients()
        .sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }));
      expect(JSON.parse(Attributes?.RedrivePolicy ?? '{}').maxReceiveCount).toBe(2);

      const urls = Array.from({ length: 30 }, (_, i) => target.url(`/ok?batch=${i}`));
      const { state } = await runJob(stack, 'emulated-batch', urls, { chunkSize: 3 });
      expect(state.status).toBe('succeeded');
      const worker = stack.eventSourceStats().find((s) => s.logicalId.startsWith('FanoutWorker'));
      expect(worker?.batchSize).toBe(3);
      expect(worker?.delivered).toBe(10);
      // One poller, ten messages, up to three per invocation: fewer invocations than messages.
      expect(worker?.invocations).toBeLessThan(10);
    } finally {
      await stack.close();
    }
  }, 180_000);

  it('starts a job from an upload under inputs/, through the bucket notification, and from nothing else', async () => {
    const stack = await emulate(cdkOut);
    try {
      const { bucket, table } = fanoutOn(stack);
      const { s3, dynamodb } = stack.operatorClients();
      const list = `${target.url('/ok?upload=1')}\n${target.url('/ok?upload=2')}\n`;
      const put = await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'inputs/list.txt', Body: list }));
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'elsewhere/list.txt', Body: list }));
      const jobs = new DynamoJobStore({ client: dynamodb, tableName: table });
      const jobId = uploadJobId('inputs/list.txt', put.ETag ?? '');
      let state: JobState | null = null;
      for (let i = 0; i < 300 && !(state && FINAL_STATUSES.includes(state.status)); i += 1) {
        await new Promise((r) => setTimeout(r, 100));
        state = await jobs.get(jobId);
      }
      // The stack's job defaults keep private addresses out: both URLs end as a record each.
      expect(state).toMatchObject({ status: 'completed_with_errors', accepted: 2, urlsFailed: 2 });
      const dispatcher = stack.nameOf('FanoutDispatcher18515000');
      expect(
        stack.frontDoor.calls.filter(
          (c) =>
            c.principal === dispatcher &&
            c.operation === 'GetObject' &&
            c.resource.endsWith('/inputs/list.txt'),
        ),
      ).toHaveLength(1);
      // One dispatch, one fan-in: the object outside inputs/ invoked nothing.
      expect(stack.invocationsOf('FanoutDispatcher18515000')).toBe(2);
    } finally {
      await stack.close();
    }
  }, 180_000);

  it('sends an asynchronous invocation that failed every attempt to its on-failure queue', async () => {
    const dir = editedTemplate((resources) => {
      const policy = resourceOf(resources, 'FanoutDispatcherRoleDefaultPolicy', 'AWS::IAM::Policy');
      // The dispatcher may no longer send chunks (but may still reach its failure queue).
      policy.Properties.PolicyDocument.Statement = policy.Properties.PolicyDocument.Statement.filter(
        (statement: { Action: unknown; Resource: unknown }) =>
          !(
            statement.Action === 'sqs:SendMessage' &&
            JSON.stringify(statement.Resource).includes('FanoutChunks7')
          ),
      );
    });
    const stack = await emulate(dir);
    try {
      const urls = [target.url('/ok?never=1')];
      await expect(runJob(stack, 'emulated-undispatched', urls, {})).rejects.toThrow(
        /the emu\d+-dispatcher function \(FanoutDispatcher\w+\) failed every attempt .*AccessDenied.*sqs:SendMessage/,
      );
      const failures = describeTemplate(dir).queues.find((q) =>
        q.logicalId.startsWith('FanoutDispatchFailures'),
      );
      const { Messages = [] } = await stack.operatorClients().sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: stack.nameOf(failures?.logicalId ?? ''),
          WaitTimeSeconds: 5,
        }),
      );
      expect(Messages).toHaveLength(1);
      expect(JSON.parse(Messages[0]?.Body ?? '{}')).toMatchObject({
        requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
        requestPayload: { jobId: 'emulated-undispatched' },
      });
    } finally {
      await stack.close();
    }
  }, 180_000);
});
