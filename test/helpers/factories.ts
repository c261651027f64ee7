import { S3ServiceException } from '@aws-sdk/client-s3';
import type { S3Event, SQSRecord } from 'aws-lambda';
import type { FetchErrorCode } from '../../lambda/core/errors.js';
import type { ResultRecord } from '../../lambda/core/record.js';

/** A result record with sensible defaults; override what the test is about. */
export function makeRecord(overrides: Partial<ResultRecord> = {}): ResultRecord {
  return {
    url: 'https://example.com/',
    line: 1,
    finalUrl: 'https://example.com/',
    status: 200,
    redirects: 0,
    contentType: 'text/html',
    bytes: 100,
    sha256: 'a'.repeat(64),
    timings: { start: '2026-01-01T00:00:00.000Z', ttfbMs: 5, totalMs: 10 },
    attempts: 1,
    error: null,
    ...overrides,
  };
}

/** A failed record with the given code. */
export function makeFailure(code: FetchErrorCode, overrides: Partial<ResultRecord> = {}): ResultRecord {
  return makeRecord({
    status: null,
    finalUrl: null,
    bytes: 0,
    sha256: null,
    error: { code, message: code },
    ...overrides,
  });
}

/** An SQS record as Lambda delivers it, carrying `body`. */
export function makeSqsRecord(
  body: string,
  messageId = `m-${Math.random().toString(36).slice(2)}`,
): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:fanout-chunks',
    awsRegion: 'us-east-1',
  };
}

/** An S3 ObjectCreated notification for one object, as S3 sends it: the key URL-encoded, the ETag bare. */
export function makeS3Event(bucket: string, key: string, eTag: string, region = 'us-east-1'): S3Event {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: region,
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'local' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: { 'x-amz-request-id': 'local', 'x-amz-id-2': 'local' },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'inputs',
          bucket: { name: bucket, ownerIdentity: { principalId: 'local' }, arn: `arn:aws:s3:::${bucket}` },
          object: {
            key: encodeURIComponent(key).replace(/%2F/g, '/'),
            size: 0,
            eTag: eTag.replace(/"/g, ''),
            sequencer: '0',
          },
        },
      },
    ],
  };
}

/** An S3 service error as the SDK throws it: its name and HTTP status. */
export function makeS3Error(name: string, status: number): S3ServiceException {
  return new S3ServiceException({
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: status },
    message: name,
  });
}
