import { RemovalPolicy } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { FetcherSettings } from './fetcher-settings.js';

/** What the jobs API's setup reads from the construct's settings. */
type ApiSettings = Pick<
  FetcherSettings,
  'logRetention' | 'removalPolicy' | 'apiCloudWatchRole' | 'apiThrottle'
>;

/**
 * The jobs API in `scope`: POST /jobs, GET and DELETE /jobs/{id}, all proxied to `fn`; IAM
 * authorization unless an authorizer is given; access logs in a log group of their own.
 */
export function createJobsApi(
  scope: Construct,
  settings: ApiSettings,
  fn: lambda.IFunction,
  authorizer: apigateway.IAuthorizer | undefined,
): apigateway.RestApi {
  const accessLogs = new logs.LogGroup(scope, 'ApiAccessLogs', {
    retention: settings.logRetention,
    removalPolicy: settings.removalPolicy,
  });
  const api = new apigateway.RestApi(scope, 'JobsApi', {
    description: 'fanout jobs API',
    endpointTypes: [apigateway.EndpointType.REGIONAL],
    // Stage logs need the account's API Gateway CloudWatch role; it is account-wide, so kept on delete.
    cloudWatchRole: settings.apiCloudWatchRole,
    cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
    deployOptions: {
      stageName: 'v1',
      accessLogDestination: new apigateway.LogGroupLogDestination(accessLogs),
      accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields(),
      loggingLevel: apigateway.MethodLoggingLevel.ERROR,
      dataTraceEnabled: false,
      metricsEnabled: true,
      throttlingRateLimit: settings.apiThrottle.rateLimit,
      throttlingBurstLimit: settings.apiThrottle.burstLimit,
    },
    defaultMethodOptions: authorizer
      ? { authorizer, authorizationType: authorizer.authorizationType }
      : { authorizationType: apigateway.AuthorizationType.IAM },
  });
  const integration = new apigateway.LambdaIntegration(fn, { allowTestInvoke: false });
  const validator = api.addRequestValidator('Validator', {
    validateRequestBody: true,
    validateRequestParameters: true,
  });
  // The handler checks the request in full; the gateway only turns away what is not a JSON object.
  const jobRequest = api.addModel('JobRequest', {
    contentType: 'application/json',
    schema: { schema: apigateway.JsonSchemaVersion.DRAFT4, type: apigateway.JsonSchemaType.OBJECT },
  });
  const jobs = api.root.addResource('jobs');
  jobs.addMethod('POST', integration, {
    requestValidator: validator,
    requestModels: { 'application/json': jobRequest },
  });
  const job = jobs.addResource('{id}');
  for (const method of ['GET', 'DELETE']) {
    job.addMethod(method, integration, {
      requestValidator: validator,
      requestParameters: { 'method.request.path.id': true },
    });
  }
  return api;
}

/** Lets a principal call the jobs API with SigV4-signed requests (execute-api:Invoke on its three methods). */
export function grantJobsApiInvoke(api: apigateway.RestApi, grantee: iam.IGrantable): iam.Grant {
  const stage = api.deploymentStage.stageName;
  return iam.Grant.addToPrincipal({
    grantee,
    actions: ['execute-api:Invoke'],
    resourceArns: [
      api.arnForExecuteApi('POST', '/jobs', stage),
      api.arnForExecuteApi('GET', '/jobs/*', stage),
      api.arnForExecuteApi('DELETE', '/jobs/*', stage),
    ],
  });
}
