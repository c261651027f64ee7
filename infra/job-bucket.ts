import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { RETENTION_TAG } from '../lambda/core/contract.js';
import type { FetcherSettings } from './fetcher-settings.js';

/** What the job bucket's setup reads from the construct's settings. */
type BucketSettings = Pick<
  FetcherSettings,
  'removalPolicy' | 'inputsRetention' | 'partsRetention' | 'bodiesRetention' | 'jobsRetention'
>;

/**
 * The job bucket, in `scope`: `inputs/` (an upload starts a job) and `jobs/<jobId>/`, with
 * lifecycle rules per prefix and per retention tag, and server access logs (to `logsBucket`,
 * else to an `AccessLogs` bucket created here that keeps them 90 days). Both are encrypted,
 * SSL-only and private.
 */
export function createJobBucket(
  scope: Construct,
  settings: BucketSettings,
  logsBucket: s3.IBucket | undefined,
): s3.Bucket {
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
    new s3.Bucket(scope, 'AccessLogs', {
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
  return new s3.Bucket(scope, 'Bucket', {
    ...secure,
    serverAccessLogsBucket,
    serverAccessLogsPrefix: 'job-bucket/',
    lifecycleRules,
  });
}
