import { Stack, Validations } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';
import type { FanoutFetcher } from './fanout-fetcher.js';

/** What decides which findings a FanoutFetcher has. */
export interface AcceptedFindingsOptions {
  /** The API's authorizer; IAM authorization when undefined. */
  readonly authorizer: apigateway.IAuthorizer | undefined;
  /** Buckets the dispatcher may read job lists from. */
  readonly sourceBuckets: s3.IBucket[];
}

/**
 * The cdk-nag AwsSolutions findings this design accepts, in one place for review: each is
 * acknowledged on the narrowest construct, for the exact finding (IAM5 per resource), with the
 * reason. test/infra/fanout-stack.test.ts fails on any finding left open or any
 * acknowledgment no finding uses.
 */
export function acknowledgeAcceptedFindings(fetcher: FanoutFetcher, options: AcceptedFindingsOptions): void {
  const { authorizer, sourceBuckets } = options;
  const stack = Stack.of(fetcher);
  const ack = (scope: IConstruct | undefined, id: string, reason: string) => {
    if (scope) Validations.of(scope).acknowledge({ id: `AwsSolutions::${id}`, reason });
  };
  const wildcard = (arn: string) => `AwsSolutions-IAM5[Resource::${nagReference(stack.resolve(arn))}]`;
  const managed = (policy: string) =>
    `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policy}]`;

  const jobObjects = wildcard(fetcher.bucket.arnForObjects('jobs/*'));
  for (const fn of [fetcher.dispatcher, fetcher.worker, fetcher.apiHandler]) {
    ack(
      fn?.role,
      jobObjects,
      'Object keys under jobs/ are made of job ids chosen at run time; the grant is limited to the jobs/ prefix of the job bucket and to the actions listed.',
    );
  }
  ack(
    fetcher.dispatcher.role,
    wildcard(fetcher.bucket.arnForObjects('jobs/*/finalize/*')),
    'The fan-in removes its own segments and checkpoint, under jobs/<id>/finalize/ of jobs chosen at run time; it may delete nothing else.',
  );
  ack(
    fetcher.dispatcher.role,
    wildcard(fetcher.bucket.arnForObjects('inputs/*')),
    'Any object uploaded under inputs/ starts a job, so the dispatcher reads (only reads) any key under that prefix.',
  );
  for (const source of sourceBuckets) {
    ack(
      fetcher.dispatcher.role,
      wildcard(source.arnForObjects('*')),
      'The deployer listed this bucket in sourceBuckets: a job may name any of its objects as its list (read only).',
    );
  }
  ack(
    fetcher.worker.role,
    wildcard(fetcher.headerSecretsArn),
    'Request headers name their secrets at run time (secret:NAME); the worker may read (only GetSecretValue) the secrets under the deployer-chosen headerSecretsPrefix, and no others.',
  );
  ack(
    fetcher.deadLetterQueue,
    'AwsSolutions-SQS3',
    'This is the chunk queue’s dead-letter queue; its own handler fails the job, and a DLQ of a DLQ would only move the problem.',
  );
  ack(
    fetcher.dispatchFailureQueue,
    'AwsSolutions-SQS3',
    'This queue is itself a dead-letter destination: the dispatcher’s on-failure destination, watched by an alarm.',
  );
  if (fetcher.api) {
    ack(
      fetcher.api.deploymentStage,
      'AwsSolutions-APIG3',
      'Every method requires a SigV4-signed request from an IAM principal and the stage is throttled; a WAF web ACL can be associated with the stage where policy asks for one.',
    );
    if (!authorizer) {
      ack(
        fetcher.api,
        'AwsSolutions-COG4',
        'Callers are AWS principals: every method uses IAM (SigV4) authorization, which API Gateway checks before the handler runs.',
      );
    }
    ack(
      fetcher.api.node.tryFindChild('CloudWatchRole'),
      managed('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
      'The account’s API Gateway logging role; AWS documents this managed policy for it, and it only writes CloudWatch Logs.',
    );
  }
  // CDK's own deploy-time helpers, created once per stack.
  for (const child of stack.node.children) {
    if (child.node.id.startsWith('BucketNotificationsHandler')) {
      ack(
        child,
        managed('service-role/AWSLambdaBasicExecutionRole'),
        'CDK’s deploy-time handler that writes the bucket’s notification configuration; this managed policy only lets it write its own logs.',
      );
    }
  }
}

/** A CloudFormation value flattened the way cdk-nag names it in a finding: `<Logical.Attr>`, `<Ref>`, joins concatenated. */
function nagReference(value: unknown): string {
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/\}/g, '>');
  if (value && typeof value === 'object') {
    const node = value as Record<string, unknown>;
    if (Array.isArray(node['Fn::Join'])) {
      const [delimiter, items] = node['Fn::Join'] as [string, unknown[]];
      return items.map(nagReference).join(delimiter);
    }
    if (Array.isArray(node['Fn::GetAtt'])) {
      const [resource, attribute] = node['Fn::GetAtt'] as [unknown, unknown];
      return `<${nagReference(resource)}.${nagReference(attribute)}>`;
    }
    if ('Ref' in node) return `<${nagReference(node.Ref)}>`;
  }
  return JSON.stringify(value);
}
