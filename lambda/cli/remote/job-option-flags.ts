import type { Command, Option } from 'commander';
import type { JobOptions } from '../../core/defaults.js';
import { JOB_OPTION_OF, optionsFromFlags, runCommand } from '../run-command.js';

/**
 * The job option flags of `fanout run` (--concurrency, --timeout, --body, --allow, …) and
 * --format, taken from the run command itself so both commands always agree.
 */
export function jobOptionFlags(): Option[] {
  return runCommand().options.filter((option) => {
    const attribute = option.attributeName();
    return attribute in JOB_OPTION_OF || attribute === 'format';
  });
}

/** Job options a user typed: only these are sent, so the deployment's defaults fill in the rest. */
export interface GivenOptions {
  options: Partial<JobOptions>;
  /** The flags they came from, e.g. ['--concurrency', '--allow']. */
  flags: string[];
}

const typed = (command: Command, attribute: string) => {
  const source = command.getOptionValueSource(attribute);
  return source === 'cli' || source === 'env';
};

/**
 * The job options given on the command line, checked as `fanout run` checks them (an
 * InvalidOptionError names the flag); --format counts as given when typed.
 */
export function givenJobOptions(command: Command): GivenOptions {
  const values = command.opts();
  const attributes = Object.keys(JOB_OPTION_OF).filter((attribute) => typed(command, attribute));
  const given = Object.fromEntries(attributes.map((attribute) => [attribute, values[attribute]]));
  const resolved = optionsFromFlags(given as Parameters<typeof optionsFromFlags>[0]);
  const options: Partial<JobOptions> = {};
  for (const attribute of attributes) {
    const key = JOB_OPTION_OF[attribute as keyof typeof JOB_OPTION_OF];
    Object.assign(options, { [key]: resolved[key] });
  }
  const flagOf = (attribute: string) =>
    command.options.find((o) => o.attributeName() === attribute)?.long ?? attribute;
  const flags = [...attributes, ...(typed(command, 'format') ? ['format'] : [])].map(flagOf);
  return { options, flags };
}
