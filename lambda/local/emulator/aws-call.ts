/**
 * What IAM authorizes for one HTTP request of the AWS SDK v3: the service and operation, the
 * caller's access key id (SigV4), and each (action, resource ARN) the request needs, with the
 * condition keys of its request context. Covers the calls fanout's clients make (S3 path-style,
 * SQS JSON and query, DynamoDB, Lambda Invoke, EventBridge PutEvents); anything else is
 * classified `unknown` with the reason, so the front door refuses it instead of allowing it.
 */

export interface AwsCall {
  service: string;
  operation: string;
  accessKeyId?: string;
  authorizations: Array<{ action: string; resource: string }>;
  context: Record<string, string>;
  /** Why the request could not be classified (operation 'unknown'). */
  reason?: string;
}

export interface HttpRequestHead {
  method: string;
  /** Path with query, as sent. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body, for the requests whose authorizations are in it (JSON protocols, S3 `POST ?delete`). */
  body?: Buffer;
}

export interface ArnParts {
  region: string;
  account(service: string): string;
}

/** Classifies one SDK request; never throws on a bad request (it is classified `unknown`). */
export function classifyRequest(request: HttpRequestHead, arns: ArnParts): AwsCall {
  const credential = signingCredential(request);
  const service = credential?.service ?? guessService(request);
  const region = credential?.region ?? arns.region;
  const context: Record<string, string> = {
    // The deployed function's SDK talks HTTPS to AWS; the emulator's plain HTTP is not part of the model.
    'aws:SecureTransport': 'true',
    'aws:RequestedRegion': region,
    'aws:CurrentTime': new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    'aws:EpochTime': String(Math.floor(Date.now() / 1000)),
  };
  const base = {
    service: service ?? 'unknown',
    ...(credential && { accessKeyId: credential.accessKeyId }),
    context,
  };
  const unknown = (reason: string): AwsCall => ({
    ...base,
    operation: 'unknown',
    authorizations: [],
    reason,
  });
  const at = { region, account: arns.account(service ?? 'unknown') };
  try {
    switch (service) {
      case 's3':
        return { ...base, ...classifyS3(request, context) };
      case 'sqs':
        return { ...base, ...classifySqs(request, at) };
      case 'dynamodb':
        return { ...base, ...classifyDynamoDb(request, at) };
      case 'lambda':
        return { ...base, ...classifyLambda(request, at) };
      case 'events':
        return { ...base, ...classifyEvents(request, at) };
      case undefined:
        return unknown('no SigV4 credential (Authorization header or X-Amz-Credential) names the service');
      default:
        return unknown(`service ${service} is not emulated`);
    }
  } catch (err) {
    if (err instanceof Unclassified) return unknown(err.message);
    throw err;
  }
}

class Unclassified extends Error {}

type Classified = Pick<AwsCall, 'operation' | 'authorizations'>;

function header(request: HttpRequestHead, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function splitPath(path: string): { pathname: string; query: URLSearchParams } {
  const q = path.indexOf('?');
  return q < 0
    ? { pathname: path, query: new URLSearchParams() }
    : { pathname: path.slice(0, q), query: new URLSearchParams(path.slice(q + 1)) };
}

/** The SigV4 credential scope: `AKID/date/region/service/aws4_request`. */
function signingCredential(
  request: HttpRequestHead,
): { accessKeyId: string; region: string; service: string } | undefined {
  const fromHeader = /Credential=([^,\s]+)/.exec(header(request, 'authorization') ?? '')?.[1];
  const scope = fromHeader ?? splitPath(request.path).query.get('X-Amz-Credential') ?? undefined;
  const [accessKeyId, , region, service] = scope?.split('/') ?? [];
  return accessKeyId && region && service ? { accessKeyId, region, service } : undefined;
}

function guessService(request: HttpRequestHead): string | undefined {
  const target = header(request, 'x-amz-target') ?? '';
  if (target.startsWith('AmazonSQS.')) return 'sqs';
  if (target.startsWith('DynamoDB_')) return 'dynamodb';
  if (target.startsWith('AWSEvents.')) return 'events';
  return undefined;
}

function json(request: HttpRequestHead): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(request.body?.toString('utf8') || '{}');
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch {}
  throw new Unclassified('the JSON request body is not a JSON object');
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new Unclassified(`the request names no ${what}`);
  return value;
}

// ---- S3 (path-style) ----------------------------------------------------------------------

/** Bucket-level sub-resources: operation suffix, IAM action of GET, of PUT, of DELETE (PUT's when absent). */
const BUCKET_CONFIG: Readonly<Record<string, readonly [string, string, string, string?]>> = {
  policy: ['BucketPolicy', 'GetBucketPolicy', 'PutBucketPolicy', 'DeleteBucketPolicy'],
  lifecycle: ['BucketLifecycleConfiguration', 'GetLifecycleConfiguration', 'PutLifecycleConfiguration'],
  notification: ['BucketNotificationConfiguration', 'GetBucketNotification', 'PutBucketNotification'],
  cors: ['BucketCors', 'GetBucketCORS', 'PutBucketCORS'],
  tagging: ['BucketTagging', 'GetBucketTagging', 'PutBucketTagging'],
  versioning: ['BucketVersioning', 'GetBucketVersioning', 'PutBucketVersioning'],
  encryption: ['BucketEncryption', 'GetEncryptionConfiguration', 'PutEncryptionConfiguration'],
  publicAccessBlock: ['PublicAccessBlock', 'GetBucketPublicAccessBlock', 'PutBucketPublicAccessBlock'],
  ownershipControls: ['BucketOwnershipControls', 'GetBucketOwnershipControls', 'PutBucketOwnershipControls'],
  acl: ['BucketAcl', 'GetBucketAcl', 'PutBucketAcl'],
  logging: ['BucketLogging', 'GetBucketLogging', 'PutBucketLogging'],
  website: ['BucketWebsite', 'GetBucketWebsite', 'PutBucketWebsite', 'DeleteBucketWebsite'],
  location: ['BucketLocation', 'GetBucketLocation', 'GetBucketLocation'],
  'object-lock': [
    'ObjectLockConfiguration',
    'GetBucketObjectLockConfiguration',
    'PutBucketObjectLockConfiguration',
  ],
};

const S3_CONTEXT_HEADERS = [
  'x-amz-acl',
  'x-amz-server-side-encryption',
  'x-amz-storage-class',
  'x-amz-copy-source',
  'x-amz-metadata-directive',
];

function classifyS3(request: HttpRequestHead, context: Record<string, string>): Classified {
  const { pathname, query } = splitPath(request.path);
  const method = request.method.toUpperCase();
  const slash = pathname.indexOf('/', 1);
  const bucket = decode(slash < 0 ? pathname.slice(1) : pathname.slice(1, slash));
  const key = slash < 0 ? '' : decode(pathname.slice(slash + 1));
  const one = (operation: string, action: string, resource: string): Classified => ({
    operation,
    authorizations: [{ action: `s3:${action}`, resource }],
  });
  for (const name of S3_CONTEXT_HEADERS) {
    const value = header(request, name);
    if (value !== undefined) context[`s3:${name}`] = value;
  }
  if (!bucket) {
    if (method === 'GET') return one('ListBuckets', 'ListAllMyBuckets', '*');
    throw new Unclassified(`S3 ${method} / names no bucket`);
  }
  const bucketArn = `arn:aws:s3:::${bucket}`;
  if (!key) return classifyS3Bucket(method, query, bucketArn, request, context, one);

  const objectArn = `${bucketArn}/${key}`;
  const versionId = query.get('versionId');
  if (versionId) context['s3:versionid'] = versionId;
  const tagged = header(request, 'x-amz-tagging') !== undefined;
  const withTagging = (c: Classified): Classified =>
    tagged
      ? {
          ...c,
          authorizations: [...c.authorizations, { action: 's3:PutObjectTagging', resource: objectArn }],
        }
      : c;
  const copySource = header(request, 'x-amz-copy-source');
  const copying = (operation: string): Classified => ({
    operation,
    authorizations: [
      { action: 's3:PutObject', resource: objectArn },
      { action: 's3:GetObject', resource: copySourceArn(copySource!) },
    ],
  });
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (query.has('tagging')) return one('GetObjectTagging', 'GetObjectTagging', objectArn);
      if (query.has('acl')) return one('GetObjectAcl', 'GetObjectAcl', objectArn);
      if (query.has('uploadId')) return one('ListParts', 'ListMultipartUploadParts', objectArn);
      if (query.has('attributes')) return one('GetObjectAttributes', 'GetObjectAttributes', objectArn);
      return one(
        method === 'GET' ? 'GetObject' : 'HeadObject',
        versionId ? 'GetObjectVersion' : 'GetObject',
        objectArn,
      );
    case 'PUT':
      if (query.has('tagging')) return one('PutObjectTagging', 'PutObjectTagging', objectArn);
      if (query.has('acl')) return one('PutObjectAcl', 'PutObjectAcl', objectArn);
      if (query.has('uploadId'))
        return copySource ? copying('UploadPartCopy') : one('UploadPart', 'PutObject', objectArn);
      return withTagging(copySource ? copying('CopyObject') : one('PutObject', 'PutObject', objectArn));
    case 'POST':
      if (query.has('uploads')) return withTagging(one('CreateMultipartUpload', 'PutObject', objectArn));
      if (query.has('uploadId')) return one('CompleteMultipartUpload', 'PutObject', objectArn);
      if (query.has('restore')) return one('RestoreObject', 'RestoreObject', objectArn);
      if (query.has('select')) return one('SelectObjectContent', 'GetObject', objectArn);
      break;
    case 'DELETE':
      if (query.has('tagging')) return one('DeleteObjectTagging', 'DeleteObjectTagging', objectArn);
      if (query.has('uploadId')) return one('AbortMultipartUpload', 'AbortMultipartUpload', objectArn);
      return one('DeleteObject', versionId ? 'DeleteObjectVersion' : 'DeleteObject', objectArn);
  }
  throw new Unclassified(
    `S3 ${method} on an object with query ${JSON.stringify(query.toString())} is not modelled`,
  );
}

function classifyS3Bucket(
  method: string,
  query: URLSearchParams,
  bucketArn: string,
  request: HttpRequestHead,
  context: Record<string, string>,
  one: (operation: string, action: string, resource: string) => Classified,
): Classified {
  if (method === 'POST' && query.has('delete')) {
    const keys = [...(request.body?.toString('utf8') ?? '').matchAll(/<Key>([\s\S]*?)<\/Key>/g)].map((m) =>
      unescapeXml(m[1] ?? ''),
    );
    if (keys.length === 0) throw new Unclassified('S3 DeleteObjects body names no <Key>');
    return {
      operation: 'DeleteObjects',
      authorizations: keys.map((k) => ({ action: 's3:DeleteObject', resource: `${bucketArn}/${k}` })),
    };
  }
  for (const [name, [suffix, get, put, del = put]] of Object.entries(BUCKET_CONFIG)) {
    if (!query.has(name)) continue;
    if (method === 'GET') return one(`Get${suffix}`, get, bucketArn);
    if (method === 'PUT') return one(`Put${suffix}`, put, bucketArn);
    if (method === 'DELETE') return one(`Delete${suffix}`, del, bucketArn);
  }
  if (method === 'GET' && query.has('versions'))
    return one('ListObjectVersions', 'ListBucketVersions', bucketArn);
  if (method === 'GET' && query.has('uploads'))
    return one('ListMultipartUploads', 'ListBucketMultipartUploads', bucketArn);
  const subresource = [...query.keys()].find(
    (k) =>
      ![
        'list-type',
        'prefix',
        'delimiter',
        'max-keys',
        'continuation-token',
        'start-after',
        'marker',
        'encoding-type',
        'fetch-owner',
        'x-id',
      ].includes(k),
  );
  if (subresource === undefined) {
    switch (method) {
      case 'GET': {
        for (const name of ['prefix', 'delimiter', 'max-keys']) {
          const value = query.get(name);
          if (value !== null) context[`s3:${name}`] = value;
        }
        return one(query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects', 'ListBucket', bucketArn);
      }
      case 'HEAD':
        return one('HeadBucket', 'ListBucket', bucketArn);
      case 'PUT':
        return one('CreateBucket', 'CreateBucket', bucketArn);
      case 'DELETE':
        return one('DeleteBucket', 'DeleteBucket', bucketArn);
    }
  }
  throw new Unclassified(
    `S3 ${method} on a bucket with query ${JSON.stringify(query.toString())} is not modelled`,
  );
}

/** `x-amz-copy-source`: `[/]bucket/key[?versionId=…]`, URL-encoded. */
function copySourceArn(source: string): string {
  const path = decode(source.split('?')[0]!.replace(/^\//, ''));
  if (!path.includes('/')) throw new Unclassified(`x-amz-copy-source ${JSON.stringify(source)} names no key`);
  return `arn:aws:s3:::${path}`;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new Unclassified(`the path ${JSON.stringify(text)} is not URL-encoded UTF-8`);
  }
}

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e: string) => {
    if (e[0] === '#')
      return String.fromCodePoint(
        e[1] === 'x' || e[1] === 'X' ? Number.parseInt(e.slice(2), 16) : Number(e.slice(1)),
      );
    return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e.toLowerCase()]!;
  });
}

// ---- SQS, DynamoDB, Lambda, EventBridge ---------------------------------------------------

const SQS_BATCH_ACTIONS: Readonly<Record<string, string>> = {
  SendMessageBatch: 'SendMessage',
  DeleteMessageBatch: 'DeleteMessage',
  ChangeMessageVisibilityBatch: 'ChangeMessageVisibility',
};

function classifySqs(request: HttpRequestHead, at: { region: string; account: string }): Classified {
  const target = header(request, 'x-amz-target');
  let operation: string;
  let queueUrl: unknown;
  let queueName: unknown;
  if (target) {
    operation = target.replace(/^AmazonSQS\./, '');
    ({ QueueUrl: queueUrl, QueueName: queueName } = json(request));
  } else {
    const { pathname, query } = splitPath(request.path);
    const form =
      request.method.toUpperCase() === 'POST'
        ? new URLSearchParams(request.body?.toString('utf8') ?? '')
        : query;
    operation = text(form.get('Action') ?? undefined, 'SQS Action');
    queueUrl =
      form.get('QueueUrl') ?? (pathname.split('/').filter(Boolean).length >= 2 ? pathname : undefined);
    queueName = form.get('QueueName') ?? undefined;
  }
  const name =
    typeof queueUrl === 'string' && queueUrl ? queueUrl.replace(/\/+$/, '').split('/').pop() : queueName;
  const action = `sqs:${SQS_BATCH_ACTIONS[operation] ?? operation}`;
  if (operation === 'ListQueues') return { operation, authorizations: [{ action, resource: '*' }] };
  const queue = text(name, `queue (QueueUrl or QueueName) for SQS ${operation}`);
  return {
    operation,
    authorizations: [{ action, resource: `arn:aws:sqs:${at.region}:${at.account}:${queue}` }],
  };
}

const DYNAMODB_TRANSACT_ACTIONS: Readonly<Record<string, string>> = {
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  ConditionCheck: 'ConditionCheckItem',
  Get: 'GetItem',
};

function classifyDynamoDb(request: HttpRequestHead, at: { region: string; account: string }): Classified {
  const operation = text(header(request, 'x-amz-target')?.replace(/^DynamoDB_\d+\./, ''), 'X-Amz-Target');
  const body = json(request);
  const table = (name: unknown) => {
    const t = text(name, `TableName for DynamoDB ${operation}`);
    return t.startsWith('arn:') ? t : `arn:aws:dynamodb:${at.region}:${at.account}:table/${t}`;
  };
  const auth = (action: string, resource: string) => ({ action: `dynamodb:${action}`, resource });
  switch (operation) {
    case 'ListTables':
    case 'DescribeLimits':
    case 'DescribeEndpoints':
      return { operation, authorizations: [auth(operation, '*')] };
    case 'BatchGetItem':
    case 'BatchWriteItem': {
      const tables = Object.keys((body.RequestItems ?? {}) as object);
      if (tables.length === 0) throw new Unclassified(`DynamoDB ${operation} has no RequestItems`);
      return { operation, authorizations: tables.map((t) => auth(operation, table(t))) };
    }
    case 'TransactWriteItems':
    case 'TransactGetItems': {
      const items = Array.isArray(body.TransactItems)
        ? (body.TransactItems as Record<string, { TableName?: unknown }>[])
        : [];
      if (items.length === 0) throw new Unclassified(`DynamoDB ${operation} has no TransactItems`);
      return {
        operation,
        authorizations: items.map((item) => {
          const [kind, value] = Object.entries(item ?? {})[0] ?? [];
          const action = kind && DYNAMODB_TRANSACT_ACTIONS[kind];
          if (!action)
            throw new Unclassified(`DynamoDB ${operation} item ${JSON.stringify(kind)} is not modelled`);
          return auth(action, table(value?.TableName));
        }),
      };
    }
    case 'ExecuteStatement':
    case 'BatchExecuteStatement':
    case 'ExecuteTransaction':
      throw new Unclassified(`DynamoDB ${operation} (PartiQL) is not modelled`);
  }
  if (typeof body.ResourceArn === 'string')
    return { operation, authorizations: [auth(operation, body.ResourceArn)] };
  const arn = table(body.TableName);
  const index =
    typeof body.IndexName === 'string' && (operation === 'Query' || operation === 'Scan')
      ? `/index/${body.IndexName}`
      : '';
  return { operation, authorizations: [auth(operation, arn + index)] };
}

function classifyLambda(request: HttpRequestHead, at: { region: string; account: string }): Classified {
  const { pathname } = splitPath(request.path);
  const match =
    /^\/(?:2015-03-31\/functions\/([^/]+)\/invocations|2014-11-13\/functions\/([^/]+)\/invoke-async)\/?$/.exec(
      pathname,
    );
  if (!match || request.method.toUpperCase() !== 'POST') {
    throw new Unclassified(`Lambda ${request.method} ${pathname} is not modelled (only Invoke)`);
  }
  const operation = match[1] ? 'Invoke' : 'InvokeAsync';
  const name = functionName(decode(match[1] ?? match[2]!));
  return {
    operation,
    authorizations: [
      {
        action: 'lambda:InvokeFunction',
        resource: `arn:aws:lambda:${at.region}:${at.account}:function:${name}`,
      },
    ],
  };
}

/** A function's name from any form Invoke takes: name, name:qualifier, partial or full ARN. */
export function functionName(reference: string): string {
  const full = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(reference);
  const partial = /^\d{12}:function:([^:]+)/.exec(reference);
  return full?.[1] ?? partial?.[1] ?? reference.split(':')[0]!;
}

function classifyEvents(request: HttpRequestHead, at: { region: string; account: string }): Classified {
  const operation = text(header(request, 'x-amz-target')?.replace(/^AWSEvents\./, ''), 'X-Amz-Target');
  if (operation !== 'PutEvents')
    throw new Unclassified(`EventBridge ${operation} is not modelled (only PutEvents)`);
  const entries = json(request).Entries;
  if (!Array.isArray(entries) || entries.length === 0)
    throw new Unclassified('EventBridge PutEvents has no Entries');
  const buses = new Set(
    entries.map((entry: { EventBusName?: unknown }) => {
      const bus =
        typeof entry?.EventBusName === 'string' && entry.EventBusName ? entry.EventBusName : 'default';
      return bus.startsWith('arn:') ? bus : `arn:aws:events:${at.region}:${at.account}:event-bus/${bus}`;
    }),
  );
  return {
    operation,
    authorizations: [...buses].map((resource) => ({ action: 'events:PutEvents', resource })),
  };
}
