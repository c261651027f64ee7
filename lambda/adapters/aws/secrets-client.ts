import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type AwsClientConfig, clientSettings, withRetry } from './clients.js';

/**
 * A Secrets Manager client, built like the other services' (clients.ts): only the worker builds
 * one, for request headers' `secret:` values. It lives apart from clients.ts so that the CLI and
 * the other functions, which import clients.ts, never load the package.
 */
export function createSecretsManagerClient(config: AwsClientConfig = {}): SecretsManagerClient {
  return withRetry(
    (retryStrategy) =>
      new SecretsManagerClient({ ...clientSettings('secretsmanager', config), retryStrategy }),
  );
}
