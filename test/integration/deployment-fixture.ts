import { expect } from 'vitest';
import type { AwsClients } from '../../lambda/adapters/aws/clients.js';
import type { JobSummary } from '../../lambda/core/summary.js';
import { LocalDeployment, type LocalDeploymentOptions } from '../../lambda/local/local-deployment.js';
import { makeApiEvent } from '../helpers/api-events.js';

let deployments = 0;

/** A deployment with resources of its own (bucket, queues, table) that redelivers after 2 s unless told. */
export interface IsolatedDeployment {
  deployment: LocalDeployment;
  /** Completion events, in order: a job must be finalized (and announced) exactly once. */
  announced: string[];
}

/**
 * Starts a LocalDeployment whose resources no other test shares, on the given clients.
 * Its API lets callers allow loopback (the targets are on 127.0.0.1).
 */
export async function isolatedDeployment(
  clients: AwsClients,
  options: Partial<Omit<LocalDeploymentOptions, 'clients' | 'names'>> & {
    maxReceiveCount?: number;
    visibilityTimeoutSeconds?: number;
  } = {},
): Promise<IsolatedDeployment> {
  deployments += 1;
  const name = `isolated-${deployments}-${Math.random().toString(36).slice(2, 6)}`;
  const { maxReceiveCount = 5, visibilityTimeoutSeconds = 2, env, ...rest } = options;
  const deployment = await LocalDeployment.start({
    clients,
    names: {
      bucket: name,
      queueName: `${name}-chunks`,
      dlqName: `${name}-dlq`,
      tableName: `${name}-jobs`,
      maxReceiveCount,
      visibilityTimeoutSeconds,
    },
    workers: 2,
    ...rest,
    env: { FANOUT_JOB_MAXIMA: JSON.stringify({ allowPrivate: true }), ...env },
  });
  const announced: string[] = [];
  deployment.services.announce = async (summary: JobSummary) => {
    announced.push(summary.jobId);
  };
  return { deployment, announced };
}

/** POSTs an inline list to the deployment's API (loopback allowed, no retries); the job id. */
export async function submitUrls(
  deployment: LocalDeployment,
  urls: string[],
  options: Record<string, unknown>,
): Promise<string> {
  const body = JSON.stringify({ urls, options: { allow: ['127.0.0.1/32'], retries: 0, ...options } });
  const res = await deployment.api(makeApiEvent('POST', '/jobs', { body }));
  expect(res.statusCode).toBe(202);
  return JSON.parse(res.body).jobId as string;
}
