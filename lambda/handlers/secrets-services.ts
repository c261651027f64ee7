import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { GetSecret } from '../adapters/aws/secret-values.js';
import { createSecretsManagerClient } from '../adapters/aws/secrets-client.js';

/**
 * Reads a secret's SecretString for request headers' `secret:` values. The client is built on
 * the first read, so a worker whose jobs send no such header never builds it.
 */
export function secretReader(client?: SecretsManagerClient): GetSecret {
  let built = client;
  return async (name) => {
    built ??= createSecretsManagerClient();
    const answer = await built.send(new GetSecretValueCommand({ SecretId: name }));
    if (answer.SecretString === undefined) throw new Error(`secret ${name} has no SecretString`);
    return answer.SecretString;
  };
}
