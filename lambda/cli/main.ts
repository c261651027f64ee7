import { Command, CommanderError } from 'commander';
import { FanoutError } from '../core/errors.js';
import { EXIT, getExitCode } from './exit-codes.js';
import { runCommand } from './run-command.js';

/**
 * Builds the `fanout` program. The remote commands bring the AWS SDK (~0.25 s to load):
 * they are added only when the command line may be one of them, not for `fanout run`.
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('fanout')
    .description('fetch large lists of URLs, politely and safely, on this machine or on AWS')
    .version('0.1.0')
    .addCommand(runCommand());
  if (argv[2] !== 'run') {
    const remote = await import('./remote/index.js');
    program
      .addCommand(remote.submitCommand())
      .addCommand(remote.statusCommand())
      .addCommand(remote.resultsCommand())
      .addCommand(remote.cancelCommand())
      .addCommand(remote.jobsCommand())
      .addCommand(remote.retryCommand());
  }
  // Every command reports usage errors the same way: a hint to stderr, exit code 2.
  for (const command of [program, ...program.commands]) {
    command.showHelpAfterError('(run with --help for usage)').exitOverride();
  }
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = await buildProgram(argv);
  try {
    await program.parseAsync(argv as string[]);
    const command = program.commands.find((c) => c.getOptionValue('exitCode') !== undefined);
    return (command?.getOptionValue('exitCode') as number | undefined) ?? EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (err instanceof FanoutError) {
      process.stderr.write(`fanout: ${err.message}\n`);
      return getExitCode({ kind: 'error', code: err.code });
    }
    process.stderr.write(`fanout: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.FAILED;
  }
}
