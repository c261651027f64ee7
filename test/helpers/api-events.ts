import type { APIGatewayProxyEvent } from 'aws-lambda';

/** How the REST API routes to the Lambda. */
export type ApiEventShape =
  /** One resource per route ('/jobs', '/jobs/{id}'); API Gateway fills pathParameters. */
  | 'resource'
  /** One greedy '/{proxy+}' resource; the handler routes by path. */
  | 'proxy';

export interface ApiEventOptions {
  body?: string | null;
  /** Send the body base64-encoded (isBase64Encoded), as API Gateway does for binary media types. */
  base64?: boolean;
  /** @default 'resource' */
  shape?: ApiEventShape;
}

/**
 * An API Gateway REST (v1) proxy event for `method path`, as API Gateway delivers it:
 * in the 'resource' shape, a path `/jobs/<id>` gets resource '/jobs/{id}' and the
 * decoded id in pathParameters; in the 'proxy' shape, resource '/{proxy+}' and the raw path.
 */
export function makeApiEvent(
  method: string,
  path: string,
  options: ApiEventOptions = {},
): APIGatewayProxyEvent {
  const { body = null, base64 = false, shape = 'resource' } = options;
  let resource: string;
  let pathParameters: Record<string, string> | null;
  if (shape === 'proxy') {
    resource = '/{proxy+}';
    pathParameters = { proxy: path.replace(/^\//, '') };
  } else {
    const match = /^\/jobs\/([^/]+)$/.exec(path);
    resource = match ? '/jobs/{id}' : path;
    pathParameters = match ? { id: decodeURIComponent(match[1] as string) } : null;
  }
  const encoded = body !== null && base64 ? Buffer.from(body, 'utf8').toString('base64') : body;
  return {
    body: encoded,
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: { 'content-type': ['application/json'] },
    httpMethod: method,
    isBase64Encoded: base64,
    path,
    pathParameters,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    resource,
    requestContext: {
      accountId: '000000000000',
      apiId: 'api',
      authorizer: undefined,
      protocol: 'HTTP/1.1',
      httpMethod: method,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: '127.0.0.1',
        user: null,
        userAgent: 'test',
        userArn: null,
      },
      path: `/prod${path}`,
      stage: 'prod',
      requestId: `req-${Math.random().toString(36).slice(2)}`,
      requestTimeEpoch: 0,
      resourceId: 'r',
      resourcePath: resource,
    },
  };
}
