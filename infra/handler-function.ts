import { fileURLToPath } from 'node:url';
import type { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { type HandlerEnvironment, type HandlerName, handlerEnvironment } from '../lambda/core/contract.js';

/** One function of the deployment: what differs between the four. */
export interface HandlerFunctionSpec<H extends HandlerName> {
  /** The handler: `lambda/handlers/<name>.ts`, exporting `handler`. */
  name: H;
  description: string;
  /** MiB. */
  memorySize: number;
  timeout: Duration;
  /** The values of the variables the contract gives this function. */
  environment: HandlerEnvironment<H>;
  /** Retention of the function's log group. */
  logRetention: logs.RetentionDays;
  /** What happens to the log group when the stack is deleted. */
  removalPolicy: RemovalPolicy;
}

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const handlerEntry = (name: string) =>
  fileURLToPath(new URL(`../lambda/handlers/${name}.ts`, import.meta.url));

/** ESM bundles still hold CommonJS dependencies (undici) that call require() for Node built-ins. */
const REQUIRE_SHIM =
  "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);";

/**
 * One Lambda in `scope`, named after its handler (`dead-letters` → `DeadLetters`): its own role
 * (no managed policies), its own log group, bundled by esbuild on this machine as an ES module
 * for Node 24 on arm64, its environment built by the deployment contract.
 */
export function handlerFunction<H extends HandlerName>(
  scope: Construct,
  spec: HandlerFunctionSpec<H>,
): NodejsFunction {
  const { name } = spec;
  const id = name
    .split('-')
    .map((w) => w[0]?.toUpperCase() + w.slice(1))
    .join('');
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `fanout ${name} handler`,
  });
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
    retention: spec.logRetention,
    removalPolicy: spec.removalPolicy,
  });
  logGroup.grantWrite(role);
  return new NodejsFunction(scope, id, {
    entry: handlerEntry(name),
    handler: 'handler',
    description: spec.description,
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: spec.memorySize,
    timeout: spec.timeout,
    role,
    logGroup,
    loggingFormat: lambda.LoggingFormat.JSON,
    environment: { ...handlerEnvironment(name, spec.environment), NODE_OPTIONS: '--enable-source-maps' },
    projectRoot: REPO_ROOT,
    depsLockFilePath: `${REPO_ROOT}package-lock.json`,
    bundling: {
      format: OutputFormat.ESM,
      target: 'node24',
      mainFields: ['module', 'main'],
      banner: REQUIRE_SHIM,
      bundleAwsSDK: true,
      minify: true,
      sourceMap: true,
      sourcesContent: false,
      forceDockerBundling: false,
      logLevel: LogLevel.WARNING,
    },
  });
}
