/**
 * What IAM authorizes for one HTTP request of the AWS SDK v3: the service and operation, the
 * caller's access key id (SigV4), and each (action, resource ARN) the request needs, with the
 * condition keys of its request context. Covers the calls fanout's clients make (S3 path-style,
 * SQS JSON and query, DynamoDB, Lambda Invoke, EventBridge PutEvents, Secrets Manager
 * GetSecretValue); anything else is
 * classified `unknown` with the reason, so the front door refuses it instead of allowing it.
 */
import { classifyS3 } from './s3-call.js';
import {
  type Classified,
  decode,
  type HttpRequestHead,
  header,
  json,
  splitPath,
  text,
  Unclassified,
} from './sdk-request.js';

export interface AwsCall {
  service: string;
  operation: string;
  accessKeyId?: string;
  authorizations: Array<{ action: string; resource: string }>;
  context: Record<string, string>;
  /** Why the request could not be classified (operation 'unknown'). */
  reason?: string;
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
      case 'secretsmanager':
        return { ...base, ...classifySecretsManager(request, at) };
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

/** The SigV4 credential scope: `AKID/date/region/service/aws4_request`, from the header or a presigned URL. */
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
  if (target.startsWith('secretsmanager.')) return 'secretsmanager';
  return undefined;
}

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

/** GetSecretValue (request headers' secret: values), on the secret's ARN; a name becomes one. */
function classifySecretsManager(
  request: HttpRequestHead,
  at: { region: string; account: string },
): Classified {
  const operation = text(header(request, 'x-amz-target')?.replace(/^secretsmanager\./, ''), 'X-Amz-Target');
  if (operation !== 'GetSecretValue')
    throw new Unclassified(`Secrets Manager ${operation} is not modelled (only GetSecretValue)`);
  const id = text(json(request).SecretId, 'SecretId of Secrets Manager GetSecretValue');
  const resource = id.startsWith('arn:')
    ? id
    : `arn:aws:secretsmanager:${at.region}:${at.account}:secret:${id}`;
  return { operation, authorizations: [{ action: 'secretsmanager:GetSecretValue', resource }] };
}
