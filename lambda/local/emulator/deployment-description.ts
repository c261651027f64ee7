import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  readSynthesizedStack,
  type SynthesizedStack,
  TemplateError,
  type TemplateResource,
  type TemplateValue,
} from './stack-template.js';

/**
 * What the emulation makes and runs, read from a synthesized stack: each piece as the template
 * declares it. Values that name other resources (environment variables, policies, the
 * redrive target) stay template values until the resources exist and are resolved then.
 */
export interface DeploymentDescription {
  stackName: string;
  buckets: BucketSpec[];
  queues: QueueSpec[];
  tables: TableSpec[];
  functions: FunctionSpec[];
  eventSources: EventSourceSpec[];
  /** Resource types in the template the emulation does not make (alarms, the API, log groups, …). */
  notEmulated: string[];
  /**
   * Each resource's name in the emulation, before the stack's prefix: its construct id from the
   * cdk path (`Fanout/Fanout/Chunks/Resource` → `chunks`), else its logical id.
   */
  baseNames: ReadonlyMap<string, string>;
}

export interface BucketSpec {
  logicalId: string;
  /** S3 notifications to functions (the stack's `Custom::S3BucketNotifications`). */
  notifications: Array<{ functionId: TemplateValue; events: string[]; prefix?: string; suffix?: string }>;
}

export interface QueueSpec {
  logicalId: string;
  fifo: boolean;
  /** CreateQueue attributes from the template (VisibilityTimeout, MessageRetentionPeriod, FIFO settings). */
  attributes: Record<string, string>;
  /** The redrive policy: the dead-letter queue (a template value: its ARN) and maxReceiveCount. */
  redrive?: { deadLetterTargetArn: TemplateValue; maxReceiveCount: number };
}

export interface TableSpec {
  logicalId: string;
  keySchema: Array<{ AttributeName: string; KeyType: 'HASH' | 'RANGE' }>;
  attributeDefinitions: Array<{ AttributeName: string; AttributeType: 'S' | 'N' | 'B' }>;
  globalSecondaryIndexes: Array<{
    IndexName: string;
    KeySchema: Array<{ AttributeName: string; KeyType: 'HASH' | 'RANGE' }>;
    Projection: { ProjectionType?: string; NonKeyAttributes?: string[] };
  }>;
  ttlAttribute?: string;
}

export interface FunctionSpec {
  logicalId: string;
  /** The bundled file Lambda would load for the handler (`index.handler` → `<asset>/index.mjs`). */
  codeFile: string;
  /** The handler's export (`index.handler` → `handler`). */
  exportName: string;
  environment: Record<string, TemplateValue>;
  timeoutSeconds: number;
  memoryMiB: number;
  /** The function's reserved concurrency, when the template sets one. */
  reservedConcurrency?: number;
  roleId: string;
  /** The identity policies attached to the role (inline and `AWS::IAM::Policy`), unresolved. */
  policies: TemplateValue[];
  /** Managed policy ARNs on the role: not evaluated (none in fanout's stack), listed to say so. */
  managedPolicyArns: TemplateValue[];
  /** The asynchronous invocation settings (`AWS::Lambda::EventInvokeConfig`), with Lambda's defaults. */
  asyncInvoke: { maximumRetryAttempts: number; maximumEventAgeSeconds: number; onFailure?: TemplateValue };
}

export interface EventSourceSpec {
  logicalId: string;
  functionId: string;
  /** The queue's ARN, as a template value (a GetAtt of the queue). */
  queueArn: TemplateValue;
  batchSize: number;
  maximumConcurrency?: number;
  reportBatchItemFailures: boolean;
  maximumBatchingWindowSeconds: number;
}

/** Lambda's defaults where the template names none (AWS::Lambda::Function, EventSourceMapping, EventInvokeConfig). */
const LAMBDA_DEFAULTS = {
  timeoutSeconds: 3,
  memoryMiB: 128,
  /** SQS event sources: BatchSize 10. */
  sqsBatchSize: 10,
  /** Asynchronous invocation: two retries, events kept six hours. */
  maximumRetryAttempts: 2,
  maximumEventAgeSeconds: 21_600,
};

/** Resource types the emulation makes or reads; anything else is listed in `notEmulated`. */
const READ_TYPES = new Set([
  'AWS::S3::Bucket',
  'AWS::SQS::Queue',
  'AWS::DynamoDB::Table',
  'AWS::Lambda::Function',
  'AWS::Lambda::EventSourceMapping',
  'AWS::Lambda::EventInvokeConfig',
  'AWS::IAM::Role',
  'AWS::IAM::Policy',
  'Custom::S3BucketNotifications',
]);

const refId = (value: TemplateValue): string | undefined => {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') return v.Ref;
  const getAtt = v['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  return undefined;
};

const num = (value: TemplateValue, fallback: number, what: string): number => {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new TemplateError(`${what} is not a number: ${JSON.stringify(value)}`);
  return n;
};

/** Reads a cdk.out folder into the deployment it describes. */
export function describeTemplate(dir: string, stackName?: string): DeploymentDescription {
  return describeStack(readSynthesizedStack(dir, stackName));
}

export function describeStack(stack: SynthesizedStack): DeploymentDescription {
  const entries = Object.entries(stack.resources);
  const ofType = (type: string) => entries.filter(([, r]) => r.Type === type);
  const props = (r: TemplateResource) => r.Properties ?? {};

  const policiesOfRole = new Map<string, TemplateValue[]>();
  for (const [id, role] of ofType('AWS::IAM::Role')) {
    const inline = (props(role).Policies as Array<{ PolicyDocument: TemplateValue }> | undefined) ?? [];
    policiesOfRole.set(
      id,
      inline.map((p) => p.PolicyDocument),
    );
  }
  for (const [id, policy] of ofType('AWS::IAM::Policy')) {
    for (const role of (props(policy).Roles as TemplateValue[] | undefined) ?? []) {
      const roleId = refId(role);
      if (!roleId) throw new TemplateError(`${id}: Roles must Ref roles of the stack`);
      policiesOfRole.get(roleId)?.push(props(policy).PolicyDocument);
    }
  }
  const invokeConfigs = new Map(
    ofType('AWS::Lambda::EventInvokeConfig').map(([id, r]) => {
      const functionId = refId(props(r).FunctionName);
      if (!functionId) throw new TemplateError(`${id}: FunctionName must Ref a function of the stack`);
      return [functionId, props(r)] as const;
    }),
  );

  const functions: FunctionSpec[] = [];
  const notEmulated: string[] = [];
  for (const [id, r] of ofType('AWS::Lambda::Function')) {
    const p = props(r);
    const code = p.Code as Record<string, TemplateValue> | undefined;
    // The stack's own custom-resource handlers (inline Python) run at deploy time, not in jobs.
    if (code && 'ZipFile' in code) {
      notEmulated.push(`${id} (AWS::Lambda::Function, inline code: a deploy-time handler)`);
      continue;
    }
    // The asset's folder: the metadata the cdk CLI adds, else the S3 key CDK names after it.
    const s3Key = typeof code?.S3Key === 'string' ? /^([0-9a-f]{64})\.zip$/.exec(code.S3Key)?.[1] : undefined;
    const metadataPath = r.Metadata?.['aws:asset:path'];
    const assetPath = typeof metadataPath === 'string' ? metadataPath : s3Key && `asset.${s3Key}`;
    if (!assetPath || !existsSync(join(stack.dir, assetPath)))
      throw new TemplateError(`${id}: its code asset is not in ${stack.dir} (synthesize with \`cdk synth\`)`);
    const handler = String(p.Handler ?? '');
    const dot = handler.lastIndexOf('.');
    if (dot <= 0) throw new TemplateError(`${id}: Handler ${JSON.stringify(handler)} is not <file>.<export>`);
    const base = join(stack.dir, assetPath, handler.slice(0, dot));
    // Node's Lambda runtime looks for the handler's file with these extensions, in this order.
    const codeFile = ['.js', '.mjs', '.cjs'].map((ext) => base + ext).find((f) => existsSync(f));
    if (!codeFile)
      throw new TemplateError(`${id}: handler file ${base}.{js,mjs,cjs} is missing from the asset`);
    const roleId = refId(p.Role);
    if (!roleId) throw new TemplateError(`${id}: Role must be a GetAtt of a role of the stack`);
    const role = stack.resources[roleId];
    const invoke = invokeConfigs.get(id);
    const onFailure = (
      invoke?.DestinationConfig as { OnFailure?: { Destination?: TemplateValue } } | undefined
    )?.OnFailure?.Destination;
    const reserved = p.ReservedConcurrentExecutions;
    functions.push({
      logicalId: id,
      codeFile,
      exportName: handler.slice(dot + 1),
      environment: ((p.Environment as { Variables?: Record<string, TemplateValue> } | undefined)?.Variables ??
        {}) as Record<string, TemplateValue>,
      timeoutSeconds: num(p.Timeout, LAMBDA_DEFAULTS.timeoutSeconds, `${id}.Timeout`),
      memoryMiB: num(p.MemorySize, LAMBDA_DEFAULTS.memoryMiB, `${id}.MemorySize`),
      ...(reserved !== undefined && {
        reservedConcurrency: num(reserved, 0, `${id}.ReservedConcurrentExecutions`),
      }),
      roleId,
      policies: policiesOfRole.get(roleId) ?? [],
      managedPolicyArns: (role?.Properties?.ManagedPolicyArns as TemplateValue[] | undefined) ?? [],
      asyncInvoke: {
        maximumRetryAttempts: num(
          invoke?.MaximumRetryAttempts,
          LAMBDA_DEFAULTS.maximumRetryAttempts,
          `${id} MaximumRetryAttempts`,
        ),
        maximumEventAgeSeconds: num(
          invoke?.MaximumEventAgeInSeconds,
          LAMBDA_DEFAULTS.maximumEventAgeSeconds,
          `${id} MaximumEventAgeInSeconds`,
        ),
        ...(onFailure !== undefined && { onFailure }),
      },
    });
  }

  const notificationsOf = new Map<string, BucketSpec['notifications']>();
  for (const [id, r] of ofType('Custom::S3BucketNotifications')) {
    const bucketId = refId(props(r).BucketName);
    if (!bucketId) throw new TemplateError(`${id}: BucketName must Ref a bucket of the stack`);
    const config = props(r).NotificationConfiguration as
      | { LambdaFunctionConfigurations?: Array<Record<string, TemplateValue>> }
      | undefined;
    const list = notificationsOf.get(bucketId) ?? [];
    for (const c of config?.LambdaFunctionConfigurations ?? []) {
      const rules =
        (c.Filter as { Key?: { FilterRules?: Array<{ Name: string; Value: string }> } } | undefined)?.Key
          ?.FilterRules ?? [];
      const rule = (name: string) => rules.find((f) => f.Name.toLowerCase() === name)?.Value;
      const prefix = rule('prefix');
      const suffix = rule('suffix');
      list.push({
        functionId: c.LambdaFunctionArn,
        events: (c.Events as string[] | undefined) ?? [],
        ...(prefix !== undefined && { prefix }),
        ...(suffix !== undefined && { suffix }),
      });
    }
    notificationsOf.set(bucketId, list);
  }

  const queues: QueueSpec[] = ofType('AWS::SQS::Queue').map(([id, r]) => {
    const p = props(r);
    const attributes: Record<string, string> = {};
    for (const name of [
      'VisibilityTimeout',
      'MessageRetentionPeriod',
      'DelaySeconds',
      'MaximumMessageSize',
      'ReceiveMessageWaitTimeSeconds',
      'ContentBasedDeduplication',
      'DeduplicationScope',
      'FifoThroughputLimit',
    ]) {
      if (p[name] !== undefined) attributes[name] = String(p[name]);
    }
    const fifo = p.FifoQueue === true || p.FifoQueue === 'true';
    if (fifo) attributes.FifoQueue = 'true';
    const redrive = p.RedrivePolicy as
      | { deadLetterTargetArn?: TemplateValue; maxReceiveCount?: unknown }
      | undefined;
    return {
      logicalId: id,
      fifo,
      attributes,
      ...(redrive && {
        redrive: {
          deadLetterTargetArn: redrive.deadLetterTargetArn,
          maxReceiveCount: num(redrive.maxReceiveCount, 10, `${id}.RedrivePolicy.maxReceiveCount`),
        },
      }),
    };
  });

  const tables: TableSpec[] = ofType('AWS::DynamoDB::Table').map(([id, r]) => {
    const p = props(r);
    const ttl = p.TimeToLiveSpecification as { AttributeName?: string; Enabled?: boolean } | undefined;
    return {
      logicalId: id,
      keySchema: p.KeySchema as TableSpec['keySchema'],
      attributeDefinitions: p.AttributeDefinitions as TableSpec['attributeDefinitions'],
      globalSecondaryIndexes:
        (p.GlobalSecondaryIndexes as TableSpec['globalSecondaryIndexes'] | undefined) ?? [],
      ...(ttl?.Enabled && ttl.AttributeName && { ttlAttribute: ttl.AttributeName }),
    };
  });

  const eventSources: EventSourceSpec[] = ofType('AWS::Lambda::EventSourceMapping').map(([id, r]) => {
    const p = props(r);
    const functionId = refId(p.FunctionName);
    if (!functionId) throw new TemplateError(`${id}: FunctionName must Ref a function of the stack`);
    const scaling = p.ScalingConfig as { MaximumConcurrency?: unknown } | undefined;
    return {
      logicalId: id,
      functionId,
      queueArn: p.EventSourceArn,
      batchSize: num(p.BatchSize, LAMBDA_DEFAULTS.sqsBatchSize, `${id}.BatchSize`),
      ...(scaling?.MaximumConcurrency !== undefined && {
        maximumConcurrency: num(scaling.MaximumConcurrency, 0, `${id}.ScalingConfig.MaximumConcurrency`),
      }),
      reportBatchItemFailures: ((p.FunctionResponseTypes as string[] | undefined) ?? []).includes(
        'ReportBatchItemFailures',
      ),
      maximumBatchingWindowSeconds: num(
        p.MaximumBatchingWindowInSeconds,
        0,
        `${id}.MaximumBatchingWindowInSeconds`,
      ),
    };
  });

  for (const [id, r] of entries) if (!READ_TYPES.has(r.Type)) notEmulated.push(`${id} (${r.Type})`);
  return {
    baseNames: baseNamesOf(entries),
    stackName: stack.stackName,
    buckets: ofType('AWS::S3::Bucket').map(([id]) => ({
      logicalId: id,
      notifications: notificationsOf.get(id) ?? [],
    })),
    queues,
    tables,
    functions,
    eventSources,
    notEmulated,
  };
}

/** `ChunkDeadLetters` → `chunk-dead-letters`. */
const kebab = (name: string) =>
  name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[^A-Za-z0-9]+/g, '-')
    .toLowerCase();

/** A readable name per resource, from its construct id; the logical id where two would clash. */
function baseNamesOf(entries: Array<[string, TemplateResource]>): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const [id, r] of entries) {
    const path = r.Metadata?.['aws:cdk:path'];
    const parts = typeof path === 'string' ? path.split('/') : [];
    const last = parts.at(-1);
    const construct = last === 'Resource' || last === 'Default' ? parts.at(-2) : last;
    let name = construct ? kebab(construct) : kebab(id);
    if (taken.has(name)) name = kebab(id);
    taken.add(name);
    names.set(id, name);
  }
  return names;
}
