/**
 * The AccessDenied answer of each emulated service, as AWS gives it, so the SDK v3 client of
 * that service surfaces the error by the same name it does against AWS: S3 `AccessDenied`
 * (restXml: `<Error><Code>`), SQS `AccessDenied` (JSON via `x-amzn-query-error`, or the query
 * protocol's XML ErrorResponse), DynamoDB, Lambda and EventBridge `AccessDeniedException`.
 */
import { randomUUID } from 'node:crypto';

export interface HttpAnswer {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * AWS's wording for an identity-policy refusal, e.g. `User: arn:aws:sts::…:assumed-role/R/F is
 * not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::b/k" because no
 * identity-based policy allows the s3:GetObject action`.
 */
export function denialMessage(
  principalArn: string,
  action: string,
  resource: string,
  explicit: boolean,
): string {
  const because = explicit
    ? 'with an explicit deny in an identity-based policy'
    : `because no identity-based policy allows the ${action} action`;
  return `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource} ${because}`;
}

/** The service's AccessDenied response for a request (`method`, whether it was SQS JSON). */
export function accessDenied(
  service: string,
  request: { method: string; headers: Record<string, string | string[] | undefined> },
  message: string,
): HttpAnswer {
  const requestId = randomUUID();
  switch (service) {
    case 's3':
      return {
        statusCode: 403,
        headers: {
          'content-type': 'application/xml',
          'x-amz-request-id': requestId,
          'x-amz-id-2': requestId,
        },
        // A HEAD answer has no body: the SDK names the error from the status (S3 answers this way).
        body:
          request.method.toUpperCase() === 'HEAD'
            ? ''
            : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>${escapeXml(message)}</Message><RequestId>${requestId}</RequestId><HostId>${requestId}</HostId></Error>`,
      };
    case 'sqs':
      if (request.headers['x-amz-target'] !== undefined) {
        return {
          statusCode: 403,
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'x-amzn-requestid': requestId,
            'x-amzn-query-error': 'AccessDenied;Sender',
          },
          body: JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message }),
        };
      }
      return {
        statusCode: 403,
        headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
        body: `<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>${escapeXml(message)}</Message><Detail/></Error><RequestId>${requestId}</RequestId></ErrorResponse>`,
      };
    case 'lambda':
      return {
        statusCode: 403,
        headers: {
          'content-type': 'application/json',
          'x-amzn-requestid': requestId,
          'x-amzn-errortype': 'AccessDeniedException',
        },
        body: JSON.stringify({ Type: 'User', Message: message }),
      };
    case 'dynamodb':
      return jsonError(
        'application/x-amz-json-1.0',
        'com.amazon.coral.service#AccessDeniedException',
        message,
        requestId,
      );
    default:
      // EventBridge and anything unclassified: AWS JSON 1.1.
      return jsonError('application/x-amz-json-1.1', 'AccessDeniedException', message, requestId);
  }
}

function jsonError(contentType: string, type: string, message: string, requestId: string): HttpAnswer {
  return {
    statusCode: 400,
    headers: { 'content-type': contentType, 'x-amzn-requestid': requestId },
    body: JSON.stringify({ __type: type, message }),
  };
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
