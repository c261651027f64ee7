import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from '../adapters/aws/clients.js';
import { openS3Object, parseS3Url } from '../adapters/aws/s3-input.js';
import { S3ObjectStore } from '../adapters/aws/s3-object-store.js';
import type { HandlerConfig } from './config.js';
import type { Services } from './services.js';

/** A job's objects in the function's bucket: the store, input lists and links, on one S3 client. */
export function objectServices(
  config: Pick<HandlerConfig, 'bucket'>,
  client: S3Client = createS3Client(),
): Pick<Services, 'store' | 'openSource' | 'linkTo'> {
  const store = new S3ObjectStore({ client, bucket: config.bucket });
  return {
    store,
    openSource: (url, start) => openS3Object(client, parseS3Url(url), start),
    linkTo: (key, seconds) => store.presign(key, seconds),
  };
}
