/**
 * The values of a job's request headers: a literal value is sent as it is; `env:NAME` is the
 * environment variable NAME of the process that runs a local job, `secret:NAME` the AWS
 * Secrets Manager secret NAME, read by a deployed worker. Only references are stored; the
 * value is read when the request is made and kept in memory only.
 */
import { FetchError } from '../errors.js';
import { isReference, valueProblem } from './header-rules.js';

/** Where a referenced value lives. */
export type ReferenceKind = 'env' | 'secret';

/** Reads one referenced value; throws a message-bearing Error when it cannot. */
export type ReadReference = (kind: ReferenceKind, name: string) => string | Promise<string>;

/** A reference split into its kind and name; undefined for a literal value. */
export function referenceOf(value: string): { kind: ReferenceKind; name: string } | undefined {
  if (!isReference(value)) return undefined;
  const colon = value.indexOf(':');
  return { kind: value.slice(0, colon) as ReferenceKind, name: value.slice(colon + 1) };
}

/** Every reference of a kind among sets of headers. */
export function referencesOf(kind: ReferenceKind, ...sets: (Record<string, string> | undefined)[]): string[] {
  return sets.flatMap((headers) =>
    Object.values(headers ?? {}).flatMap((value) => {
      const ref = referenceOf(value);
      return ref?.kind === kind ? [ref.name] : [];
    }),
  );
}

/** The reader of an engine given none: every reference is refused. */
export const noReferences: ReadReference = () => {
  throw new Error('this engine reads no env: or secret: values');
};

/**
 * The reader of a local run: `env:NAME` from `env`; `secret:NAME` refused, since only a
 * deployed worker reads Secrets Manager.
 */
export function localReferences(
  env: Readonly<Record<string, string | undefined>> = process.env,
): ReadReference {
  return (kind, name) => {
    if (kind === 'secret') {
      throw new Error(
        `secret:${name} is read from AWS Secrets Manager by a deployed worker; a local run uses env:NAME`,
      );
    }
    const value = env[name];
    if (value === undefined) throw new Error(`environment variable ${name} is not set`);
    return value;
  };
}

/**
 * The headers with each reference replaced by its value (a promise only when one is read
 * asynchronously). A value that cannot be read fails the URL with HEADER_UNRESOLVED, naming
 * the header and the reference, never a value.
 */
export function resolveHeaders(
  headers: Readonly<Record<string, string>>,
  read: ReadReference,
): Record<string, string> | Promise<Record<string, string>> {
  const resolved: Record<string, string> = {};
  const pending: Promise<void>[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const ref = referenceOf(value);
    if (!ref) {
      resolved[name] = value;
      continue;
    }
    const unresolved = (err: unknown) =>
      new FetchError('HEADER_UNRESOLVED', `header ${name}: ${value}: ${(err as Error).message}`);
    try {
      const got = read(ref.kind, ref.name);
      if (typeof got === 'string') resolved[name] = sendable(name, got);
      else
        pending.push(
          got.then(
            (text) => {
              resolved[name] = sendable(name, text);
            },
            (err: unknown) => {
              throw unresolved(err);
            },
          ),
        );
    } catch (err) {
      throw unresolved(err);
    }
  }
  return pending.length === 0 ? resolved : Promise.all(pending).then(() => resolved);
}

/** A value read for a header, once checked as undici will check it (without quoting it). */
function sendable(name: string, value: string): string {
  if (valueProblem(name, value) !== undefined) {
    throw new Error(
      'the value read is not a valid header value (CR, LF, NUL, control characters or edge whitespace)',
    );
  }
  return value;
}

/**
 * What is wrong with the references of a job's headers where it runs, or undefined: a local
 * run reads `env:` (the variable must be set) and cannot read `secret:`; a deployed job's
 * workers read `secret:` (within `secretPrefix`, when given) and do not share the starting
 * process's environment.
 */
export function referenceProblem(
  headers: Readonly<Record<string, string>>,
  where: 'local' | 'deployed',
  {
    env = process.env,
    secretPrefix,
  }: { env?: Readonly<Record<string, string | undefined>>; secretPrefix?: string } = {},
): string | undefined {
  for (const [name, value] of Object.entries(headers)) {
    const ref = referenceOf(value);
    if (!ref) continue;
    if (where === 'local' && ref.kind === 'secret') {
      return `header ${name}: ${value} is read from AWS Secrets Manager by a deployed worker (fanout submit, run --endpoint); a run on this machine reads env:NAME`;
    }
    if (where === 'local' && env[ref.name] === undefined) {
      return `header ${name}: ${value}: environment variable ${ref.name} is not set`;
    }
    if (where === 'deployed' && ref.kind === 'env') {
      return `header ${name}: ${value} is read by a run on this machine only; a deployed worker does not share its environment: store the value in AWS Secrets Manager and use secret:NAME`;
    }
    if (where === 'deployed' && secretPrefix !== undefined && !ref.name.startsWith(secretPrefix)) {
      return `header ${name}: ${value}: the deployment's workers may read only secrets named ${secretPrefix}*`;
    }
  }
  return undefined;
}
