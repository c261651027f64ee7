import type { Command } from 'commander';
import { FanoutError } from '../../core/errors.js';
import { EXIT, type ExitCode } from '../exit-codes.js';

/** A remote command's failure with the exit code it ends with; the message goes to stderr. */
export class RemoteError extends FanoutError {
  readonly exitCode: ExitCode;
  constructor(code: string, message: string, exitCode: ExitCode, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'RemoteError';
    this.exitCode = exitCode;
  }
}

/** No job with this id in the deployment: exit 2, nothing was done. */
export const noSuchJob = (jobId: string, where: string) =>
  new RemoteError('NO_SUCH_JOB', `no job ${jobId} in ${where}`, EXIT.USAGE);

/** One line for an AWS SDK error (credentials, region, access, network) instead of a stack trace. */
function awsFailure(err: unknown): RemoteError | null {
  const e = err as { name?: string; message?: string; $metadata?: unknown } | null;
  if (!e || typeof e.message !== 'string') return null;
  if (e.name === 'CredentialsProviderError' || /Could not load credentials/.test(e.message)) {
    return new RemoteError(
      'NO_CREDENTIALS',
      `no AWS credentials found (aws configure, AWS_PROFILE or AWS_ACCESS_KEY_ID): ${e.message}`,
      EXIT.FAILED,
    );
  }
  if (/Region is missing/i.test(e.message)) {
    return new RemoteError('NO_REGION', 'no AWS region: pass --region or set AWS_REGION', EXIT.USAGE);
  }
  if (e.$metadata !== undefined || e.name === 'TimeoutError' || /ECONNREFUSED|ENOTFOUND/.test(e.message)) {
    return new RemoteError('AWS', `${e.name ?? 'Error'}: ${e.message}`, EXIT.FAILED, { cause: err });
  }
  return null;
}

/**
 * Wraps a remote command's action: its result is the exit code; a RemoteError or an AWS
 * error ends the command with one line on stderr. Other errors go to main's handler.
 */
export function remoteAction<A extends unknown[]>(
  action: (...args: A) => Promise<ExitCode>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    const command = args[args.length - 1] as Command;
    let exitCode: ExitCode;
    try {
      exitCode = await action(...args);
    } catch (err) {
      const known = err instanceof RemoteError ? err : awsFailure(err);
      if (!known) throw err;
      process.stderr.write(`fanout: ${known.message}\n`);
      exitCode = known.exitCode;
    }
    command.setOptionValue('exitCode', exitCode);
  };
}
