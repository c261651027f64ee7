import {
  CloudFormationClient,
  DescribeStacksCommand,
  type DescribeStacksCommandOutput,
} from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { type Command, Option } from 'commander';
import { localEndpointCredentials } from '../../adapters/aws/clients.js';
import { CLI_ENV, DEFAULT_STACK_NAME, STACK_OUTPUTS } from '../../core/contract.js';
import { EXIT } from '../exit-codes.js';
import { RemoteError } from './remote-error.js';

/** The flags that say which deployed stack (or which resources) a remote command talks to. */
export interface TargetFlags {
  stack: string;
  bucket?: string;
  api?: string;
  table?: string;
  endpoint?: string;
  region?: string;
}

/** A deployment resource a command may need, where each comes from, in order of precedence. */
const SOURCES = {
  bucket: { flag: '--bucket', env: CLI_ENV.bucket, output: STACK_OUTPUTS.bucket, what: 'the job bucket' },
  api: { flag: '--api', env: CLI_ENV.apiUrl, output: STACK_OUTPUTS.api, what: 'the jobs API' },
  table: { flag: '--table', env: CLI_ENV.table, output: STACK_OUTPUTS.table, what: 'the job table' },
} as const;
export type Resource = keyof typeof SOURCES;

/** Adds --stack, --bucket, --api, --table, --endpoint and --region (each with its environment variable). */
export function addTargetFlags(command: Command): Command {
  const { bucket, api, table } = SOURCES;
  return command
    .addOption(
      new Option('--stack <name>', 'the deployed stack whose outputs name the resources')
        .env(CLI_ENV.stack)
        .default(DEFAULT_STACK_NAME),
    )
    .addOption(new Option('--bucket <name>', 'the job bucket (instead of the stack output)').env(bucket.env))
    .addOption(new Option('--api <url>', 'the jobs API URL (instead of the stack output)').env(api.env))
    .addOption(new Option('--table <name>', 'the job table (instead of the stack output)').env(table.env))
    .addOption(
      new Option('--endpoint <url>', 'an AWS-compatible endpoint for S3, DynamoDB and CloudFormation').env(
        'AWS_ENDPOINT_URL',
      ),
    )
    .addOption(new Option('--region <region>', 'AWS region (default: from AWS_REGION or your profile)'));
}

type Resolved<R extends Resource, O extends Resource> = Record<R, string> & Partial<Record<O, string>>;

/**
 * Where a remote command's job lives: the SDK clients, and the bucket, API and table, each
 * from its flag, else its environment variable, else the stack's outputs (DescribeStacks,
 * read at most once and only when a flag or variable leaves something open).
 */
export class Target {
  readonly s3: S3Client;
  readonly dynamodb: DynamoDBClient;
  private readonly cloudformation: CloudFormationClient;
  private outputs: Promise<Map<string, string>> | undefined;

  constructor(private readonly flags: TargetFlags) {
    const { endpoint } = flags;
    // A local endpoint needs a region for signing only; real AWS takes it from the profile.
    const region = flags.region ?? (endpoint ? process.env.AWS_REGION || 'us-east-1' : undefined);
    const common = {
      ...(region && { region }),
      ...(endpoint && { endpoint }),
      ...(endpoint && { credentials: localEndpointCredentials() }),
    };
    // Virtual-hosted buckets need DNS for <bucket>.<host>, which a local endpoint lacks.
    this.s3 = new S3Client({ ...common, forcePathStyle: endpoint !== undefined });
    this.dynamodb = new DynamoDBClient(common);
    this.cloudformation = new CloudFormationClient(common);
  }

  /**
   * The named resources: `required` ones or a RemoteError naming what is missing and how
   * to give it; `optional` ones when they can be found (the stack need not exist for them).
   */
  async resolve<R extends Resource, O extends Resource = never>(
    required: readonly R[],
    optional: readonly O[] = [],
  ): Promise<Resolved<R, O>> {
    const found: Partial<Record<Resource, string>> = {};
    for (const name of [...required, ...optional]) {
      const given = this.flags[name];
      if (given) found[name] = given;
    }
    const open = [...required, ...optional].filter((name) => !found[name]);
    if (open.length === 0) return found as Resolved<R, O>;
    const needed = required.filter((name) => !found[name]);
    let outputs: Map<string, string>;
    try {
      outputs = await this.stackOutputs();
    } catch (err) {
      if (needed.length === 0) return found as Resolved<R, O>;
      throw err instanceof RemoteError ? this.unresolved(needed, err.message) : err;
    }
    for (const name of open) {
      const value = outputs.get(SOURCES[name].output);
      if (value) found[name] = value;
    }
    const missing = needed.filter((name) => !found[name]);
    if (missing.length > 0) {
      const outputNames = missing.map((name) => SOURCES[name].output).join(' and ');
      throw this.unresolved(missing, `stack ${this.flags.stack} has no ${outputNames} output`);
    }
    return found as Resolved<R, O>;
  }

  /** The region requests are signed for. */
  region(): Promise<string> {
    return this.s3.config.region();
  }

  /** Credentials from the default provider chain (environment, profile, SSO, instance role). */
  credentials(): ReturnType<S3Client['config']['credentials']> {
    return this.s3.config.credentials();
  }

  private unresolved(missing: readonly Resource[], why: string): RemoteError {
    const how = missing.map((name) => {
      const { flag, env, what } = SOURCES[name];
      return `${what}: pass ${flag} or set ${env}`;
    });
    return new RemoteError(
      'NO_TARGET',
      `${why}; name the deployed stack with --stack NAME, or give ${how.join('; ')}`,
      EXIT.USAGE,
    );
  }

  private stackOutputs(): Promise<Map<string, string>> {
    this.outputs ??= this.describeStack();
    return this.outputs;
  }

  private async describeStack(): Promise<Map<string, string>> {
    const { stack } = this.flags;
    let res: DescribeStacksCommandOutput;
    try {
      res = await this.cloudformation.send(new DescribeStacksCommand({ StackName: stack }));
    } catch (err) {
      const e = err as { name?: string; message?: string };
      if (e.name === 'ValidationError' && /does not exist/.test(e.message ?? '')) {
        throw new RemoteError(
          'NO_STACK',
          `stack ${stack} does not exist in ${await this.region()}`,
          EXIT.USAGE,
        );
      }
      throw err;
    }
    const outputs = res.Stacks?.[0]?.Outputs ?? [];
    return new Map(
      outputs.flatMap((o) => (o.OutputKey && o.OutputValue ? [[o.OutputKey, o.OutputValue]] : [])),
    );
  }
}
