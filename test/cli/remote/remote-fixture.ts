/**
 * A deployed fanout stack for the remote commands' end-to-end tests, all on 127.0.0.1:
 * moto's server holds the bucket, queues, table and CloudFormation stacks whose outputs name
 * them; the test process plays Lambda and API Gateway (LocalDeployment runs the real
 * handlers, api-gateway.ts checks SigV4), and emulates S3's upload notification.
 */
import { createServer } from 'node:net';
import { CloudFormationClient, CreateStackCommand } from '@aws-sdk/client-cloudformation';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { expect } from 'vitest';
import { type AwsClients, createAwsClients } from '../../../lambda/adapters/aws/clients.js';
import { decodeJsonlGz } from '../../../lambda/core/job/jsonl.js';
import { jobKeys, uploadJobId } from '../../../lambda/core/job/keys.js';
import type { JobState } from '../../../lambda/core/ports.js';
import type { ResultRecord } from '../../../lambda/core/record.js';
import { setLogSink } from '../../../lambda/handlers/log.js';
import { LocalDeployment } from '../../../lambda/local/local-deployment.js';
import { type CliRun, type CliRunOptions, ensureCliBuilt, runCli } from '../../helpers/cli-harness.js';
import { makeS3Event } from '../../helpers/factories.js';
import { type Route, startTargetServer, type TargetServer } from '../../helpers/target-server.js';
import { type MotoServer, startMoto } from '../../support/moto-server.js';
import { type ApiGateway, startApiGateway } from './api-gateway.js';

/** The stacks the fixture creates: the full one, one deployed with apiAccess disabled, and a broken one. */
export const STACKS = { full: 'FanoutTest', noApi: 'FanoutNoApi', broken: 'FanoutBroken' } as const;

export interface RemoteFixture {
  moto: MotoServer;
  clients: AwsClients;
  deployment: LocalDeployment;
  gateway: ApiGateway;
  target: TargetServer;
  bucket: string;
  table: string;
  /** A loopback port nothing listens on (CONNECTION_REFUSED). */
  closedPort: number;
  /** Runs the built CLI with `--endpoint <moto>` appended. */
  fanout(args: readonly string[], options?: CliRunOptions): Promise<CliRun>;
  /** Emulates S3's notification for each object under inputs/ not yet notified; the job ids started. */
  notifyUploads(): Promise<string[]>;
  /** Drives the workers until the job is final (bounded); the job as it ended. */
  runJob(jobId: string, onState?: (state: JobState) => void): Promise<JobState>;
  /** A finished job's results.jsonl.gz, parsed. */
  results(jobId: string): Promise<ResultRecord[]>;
  /** An object's bytes (empty when missing). */
  bytes(key: string): Promise<Buffer>;
  /** An object's text. */
  text(key: string): Promise<string>;
  close(): Promise<void>;
}

const REGION = 'us-east-1';
const lambdaContext = { getRemainingTimeInMillis: () => 900_000 };

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A template whose Outputs are its Parameters, as `cdk deploy` leaves FanoutStack's outputs. */
async function createStack(endpoint: string, name: string, outputs: Record<string, string>): Promise<void> {
  const keys = Object.keys(outputs);
  const template = {
    AWSTemplateFormatVersion: '2010-09-09',
    Parameters: Object.fromEntries(keys.map((key) => [key, { Type: 'String' }])),
    Resources: { Placeholder: { Type: 'AWS::CloudFormation::WaitConditionHandle' } },
    Outputs: Object.fromEntries(keys.map((key) => [key, { Value: { Ref: key } }])),
  };
  const cloudformation = new CloudFormationClient({ endpoint, region: REGION });
  await cloudformation.send(
    new CreateStackCommand({
      StackName: name,
      TemplateBody: JSON.stringify(template),
      Parameters: keys.map((key) => ({ ParameterKey: key, ParameterValue: outputs[key] })),
    }),
  );
}

/** The routes the tests' URLs point at; each answer is fixed, so every record's outcome is known. */
const ROUTES: Record<string, Route> = {
  '/ok': (_req, res) => res.end('fine'),
  '/gone': (_req, res) => res.writeHead(410).end(),
  '/unavailable': (_req, res) => res.writeHead(503).end(),
  '/loop': (_req, res) => res.writeHead(302, { location: '/loop' }).end(),
  '/slow': (_req, res) => {
    const timer = setTimeout(() => res.end('late'), 100);
    res.on('close', () => clearTimeout(timer));
  },
};

/** Starts everything; `name` keeps resource names apart between test files. */
export async function startRemoteFixture(name: string): Promise<RemoteFixture> {
  ensureCliBuilt();
  // The handlers log every chunk: keep only what points at a problem.
  setLogSink((line, level) => {
    if (level === 'warn' || level === 'error') process.stderr.write(line);
  });
  // The CLI children inherit this environment: test credentials, and nothing that names a target.
  for (const variable of [
    'AWS_ENDPOINT_URL',
    'AWS_PROFILE',
    'FANOUT_STACK',
    'FANOUT_BUCKET',
    'FANOUT_API_URL',
    'FANOUT_TABLE',
  ]) {
    delete process.env[variable];
  }
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_REGION: REGION,
  });
  // Serialized: several workers count chunks of one job at once (see startMoto).
  const moto = await startMoto({ serialized: true });
  const target = await startTargetServer(ROUTES, { keepAliveTimeoutMs: 60_000 });
  const clients = createAwsClients({ endpoint: moto.endpoint, region: REGION });
  const bucket = `fanout-${name}`;
  const table = `fanout-${name}-jobs`;
  const deployment = await LocalDeployment.start({
    clients,
    names: {
      bucket,
      tableName: table,
      queueName: `${name}-chunks`,
      dlqName: `${name}-dlq`,
      visibilityTimeoutSeconds: 5,
    },
    workers: 3,
    env: {
      FANOUT_CANCEL_POLL_MS: '200',
      // Uploaded lists get the defaults: they may reach the loopback targets, fail fast, and stop early on loops.
      // robots.txt ignored: the remote commands' tests want each URL's own failure code.
      FANOUT_JOB_DEFAULTS: JSON.stringify({
        retries: 0,
        maxRedirects: 2,
        allow: ['127.0.0.1/32'],
        robots: 'ignore',
      }),
      FANOUT_JOB_MAXIMA: JSON.stringify({ allowPrivate: true, concurrency: 256 }),
    },
  });
  const gateway = await startApiGateway(deployment, REGION, {
    accessKeyId: 'testing',
    secretAccessKey: 'testing',
  });
  const { queueUrl } = deployment.services.config;
  const queues = { ChunkQueueUrl: queueUrl, DeadLetterQueueUrl: queueUrl.replace(/[^/]+$/, `${name}-dlq`) };
  await createStack(moto.endpoint, STACKS.full, {
    BucketName: bucket,
    ApiUrl: gateway.url,
    TableName: table,
    ...queues,
  });
  await createStack(moto.endpoint, STACKS.noApi, { BucketName: bucket, TableName: table, ...queues });
  await createStack(moto.endpoint, STACKS.broken, { BucketName: bucket });
  const closedPort = await freePort();
  const notified = new Set<string>();

  const fixture: RemoteFixture = {
    moto,
    clients,
    deployment,
    gateway,
    target,
    bucket,
    table,
    closedPort,
    fanout: (args, options) => runCli([...args, '--endpoint', moto.endpoint], options),
    async notifyUploads() {
      const listed = await clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'inputs/' }));
      const started: string[] = [];
      for (const object of listed.Contents ?? []) {
        const eTag = (object.ETag ?? '').replace(/"/g, '');
        if (!object.Key || notified.has(`${object.Key} ${eTag}`)) continue;
        notified.add(`${object.Key} ${eTag}`);
        await deployment.dispatcher(makeS3Event(bucket, object.Key, eTag, REGION), lambdaContext);
        started.push(uploadJobId(object.Key, eTag));
      }
      return started;
    },
    async runJob(jobId, onState) {
      const state = await deployment.runUntilFinished(jobId, { maxPolls: 400, ...(onState && { onState }) });
      expect(state?.status, `job ${jobId} did not finish within 400 polls`).toMatch(
        /^(succeeded|completed_with_errors|failed|cancelled)$/,
      );
      return state as JobState;
    },
    async results(jobId) {
      return decodeJsonlGz<ResultRecord>(
        (await deployment.services.store.get(jobKeys.results(jobId))) ?? Buffer.alloc(0),
      );
    },
    async bytes(key) {
      return (await deployment.services.store.get(key)) ?? Buffer.alloc(0);
    },
    async text(key) {
      return (await fixture.bytes(key)).toString('utf8');
    },
    async close() {
      await gateway.close();
      await target.close();
      await moto.stop();
    },
  };
  return fixture;
}
