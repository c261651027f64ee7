import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll } from 'vitest';
import { type AwsClients, createAwsClients } from '../../../lambda/adapters/aws/clients.js';
import { type MotoServer, motoEnv, startMoto } from '../../support/moto-server.js';

/** Options of {@link useMoto}. */
export interface UseMotoOptions {
  /** Apply one request at a time (see SERIALIZED_MOTO); for tests of concurrent conditional writes. */
  serialized?: boolean;
}

/** Starts a moto server for the suite (failing loudly when it cannot) and hands out clients bound to it. */
export function useMoto(options: UseMotoOptions = {}): () => AwsClients {
  let moto: MotoServer | undefined;
  let clients: AwsClients | undefined;
  beforeAll(async () => {
    moto = await startMoto({ serialized: options.serialized ?? false });
    Object.assign(process.env, motoEnv(moto.endpoint));
    clients = createAwsClients({ endpoint: moto.endpoint });
  });
  afterAll(async () => {
    if (clients) for (const client of Object.values(clients)) client.destroy();
    await moto?.stop();
  });
  return () => {
    if (!clients) throw new Error('moto is not running');
    return clients;
  };
}

/** A resource name no other test uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}
