/** The front door forwards Secrets Manager GetSecretValue, checked against the caller's role. */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyRequest } from '../../../lambda/local/emulator/aws-call.js';
import { FrontDoor, type Principal } from '../../../lambda/local/emulator/front-door.js';

const ACCOUNT = '123456789012';
const worker: Principal = {
  name: 'Worker',
  arn: `arn:aws:iam::${ACCOUNT}:role/fanout-WorkerRole`,
  policies: [
    {
      Statement: [
        {
          Effect: 'Allow',
          Action: 'secretsmanager:GetSecretValue',
          Resource: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:fanout/*`,
        },
      ],
    },
  ],
};

/** A GetSecretValue as the SDK sends it (JSON 1.1, signed for secretsmanager). */
function getSecretValue(secretId: string, accessKeyId = 'FANOUTWORKER') {
  return {
    method: 'POST',
    path: '/',
    headers: {
      authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20261208/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0`,
      'x-amz-target': 'secretsmanager.GetSecretValue',
      'content-type': 'application/x-amz-json-1.1',
    },
    body: Buffer.from(JSON.stringify({ SecretId: secretId })),
  };
}

describe('Secrets Manager through the front door', () => {
  let backend: Server;
  let door: FrontDoor;
  const seen: string[] = [];

  beforeAll(async () => {
    backend = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      req.on('end', () => {
        seen.push(body);
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ Name: JSON.parse(body).SecretId, SecretString: 'value' }));
      });
    });
    backend.listen(0, '127.0.0.1');
    await once(backend, 'listening');
    const url = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
    door = await FrontDoor.start({
      backends: { secretsmanager: url },
      region: 'us-east-1',
      account: () => ACCOUNT,
      principals: new Map([['FANOUTWORKER', worker]]),
    });
  });
  afterAll(async () => {
    await door.close();
    await new Promise<void>((done) => backend.close(() => done()));
  });

  it('classifies GetSecretValue on the secret ARN, a name or an ARN', () => {
    const ARNS = { region: 'us-east-1', account: () => ACCOUNT };
    expect(classifyRequest(getSecretValue('fanout/api-token'), ARNS)).toMatchObject({
      service: 'secretsmanager',
      operation: 'GetSecretValue',
      authorizations: [
        {
          action: 'secretsmanager:GetSecretValue',
          resource: `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:fanout/api-token`,
        },
      ],
    });
    const arn = `arn:aws:secretsmanager:us-east-1:${ACCOUNT}:secret:fanout/x-AbCdEf`;
    expect(classifyRequest(getSecretValue(arn), ARNS).authorizations).toEqual([
      { action: 'secretsmanager:GetSecretValue', resource: arn },
    ]);
    const other = {
      ...getSecretValue('x'),
      headers: { ...getSecretValue('x').headers, 'x-amz-target': 'secretsmanager.ListSecrets' },
    };
    expect(classifyRequest(other, ARNS)).toMatchObject({
      operation: 'unknown',
      reason: expect.stringContaining('ListSecrets'),
    });
  });

  async function send(secretId: string) {
    const call = getSecretValue(secretId);
    const res = await fetch(door.endpoint, { method: 'POST', headers: call.headers, body: call.body });
    return { status: res.status, text: await res.text() };
  }

  it('forwards a read of a secret under the granted prefix, and refuses another', async () => {
    const allowed = await send('fanout/api-token');
    expect(allowed).toEqual({
      status: 200,
      text: JSON.stringify({ Name: 'fanout/api-token', SecretString: 'value' }),
    });
    const refused = await send('prod/db-password');
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('AccessDenied');
    expect(refused.text).toContain('secretsmanager:GetSecretValue');
    expect(seen).toEqual([JSON.stringify({ SecretId: 'fanout/api-token' })]);
    expect(door.calls.map((c) => [c.principal, c.action, c.allowed])).toEqual([
      ['Worker', 'secretsmanager:GetSecretValue', true],
      ['Worker', 'secretsmanager:GetSecretValue', false],
    ]);
  });
});
