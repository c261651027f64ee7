/**
 * The `secret:NAME` values of request headers, as a deployed worker reads them: from AWS Secrets
 * Manager, only under the deployment's prefix (its grant covers no others), each secret read
 * once per invocation and kept in memory only. `env:NAME` is refused: a worker does not share
 * the environment of whoever started the job, and must not hand out its own.
 */
import type { ReadReference } from '../../core/headers/header-values.js';

/** Reads the current value (SecretString) of one secret. */
export type GetSecret = (name: string) => Promise<string>;

/** One invocation's secret values. */
export class InvocationSecrets {
  private readonly values = new Map<string, Promise<string>>();

  constructor(
    private readonly get: GetSecret | undefined,
    private readonly prefix: string,
  ) {}

  /** The reader the engine calls for each reference. */
  readonly read: ReadReference = (kind, name) => {
    if (kind === 'env') {
      throw new Error('env: is read by a run on this machine only; a deployed job uses secret:NAME');
    }
    if (!name.startsWith(this.prefix)) {
      throw new Error(`this deployment reads only secrets named ${this.prefix}*`);
    }
    const get = this.get;
    if (!get) throw new Error('this worker has no Secrets Manager client');
    let value = this.values.get(name);
    if (!value) {
      value = get(name);
      this.values.set(name, value);
    }
    return value;
  };
}
