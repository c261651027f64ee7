/**
 * The job-option flags of `fanout run`, `submit` and `retry`, made from the option table:
 * one flag per row that has one, its help, its parser, and the flag a problem is named by.
 */
import { type Command, Option } from 'commander';
import { InvalidOptionError } from '../core/errors.js';
import { referenceProblem } from '../core/headers/header-values.js';
import { INPUT_FORMATS } from '../core/input/parse-input.js';
import type { JobOptions } from '../core/job-options.js';
import { checkJobOptions, OPTION_ROWS, optionError } from '../core/options.js';

/** A job option's flag: commander's attribute name for it, and its long form. */
interface JobFlag {
  option: keyof JobOptions;
  attribute: string;
  long: string;
}

function jobFlags(): JobFlag[] {
  return OPTION_ROWS.flatMap(([option, row]) => {
    if (row.flag === undefined) return [];
    const flag = new Option(row.flag);
    return [{ option, attribute: flag.attributeName(), long: flag.long ?? row.flag }];
  });
}

/** The flag that sets an option, for naming it in a problem; the option's name when it has none. */
function flagOf(option: string): string {
  return jobFlags().find((f) => f.option === option)?.long ?? option;
}

/**
 * Commander options for every job option that has a flag. `defaults` is what help says a flag
 * left out means: 'table' shows the table's default (fanout run, on this machine); any other text
 * names whose defaults apply instead (a deployed job's: "the deployment's").
 */
export function jobOptionFlags(defaults: 'table' | string): Option[] {
  return OPTION_ROWS.flatMap(([, row]) => {
    if (row.flag === undefined) return [];
    // A deployment cannot set the private-address exemptions: their default is always off.
    const local = defaults === 'table' || row.deployed === 'local';
    const shown = local ? row.kind.show(row.default) : defaults;
    const flag = new Option(row.flag, shown === undefined ? row.doc : `${row.doc} (default: ${shown})`);
    const long = flag.long ?? row.flag;
    if (row.kind.choices) flag.choices(row.kind.choices);
    else if (!row.kind.switch) flag.argParser((text, previous) => row.kind.parse(text, long, previous));
    return [flag];
  });
}

/** The input format flag of `run` and `submit`. */
export function inputFormatOption(): Option {
  return new Option('--format <format>', 'input format').choices(INPUT_FORMATS).default('auto');
}

/** The job options among a command's flag values, by option name. */
function typedOptions(values: Readonly<Record<string, unknown>>): {
  given: Record<string, unknown>;
  flags: string[];
} {
  const typed = jobFlags().filter((f) => values[f.attribute] !== undefined);
  return {
    given: Object.fromEntries(typed.map((f) => [f.option, values[f.attribute]])),
    flags: typed.map((f) => f.long),
  };
}

/** Translates `fanout run`'s flags into job options over the defaults; throws InvalidOptionError naming each flag. */
export function optionsFromFlags(flags: object): JobOptions {
  const { options, problems } = checkJobOptions(typedOptions(flags as Record<string, unknown>).given);
  if (problems.length > 0) throw optionError(problems, flagOf);
  return options;
}

/** Job options a user typed: only these are sent, so the deployment's defaults fill in the rest. */
export interface GivenOptions {
  options: Partial<JobOptions>;
  /** The flags they came from, e.g. ['--concurrency', '--allow'], and --format when typed. */
  flags: string[];
}

/**
 * The job options typed on a `submit` or `retry` command line, each checked as `fanout run`
 * checks it (an InvalidOptionError names the flag). A relation with an option not typed, such
 * as --per-host against the concurrency, is left to the deployment, which knows its defaults.
 */
export function givenJobOptions(command: Command): GivenOptions {
  const { given, flags } = typedOptions(command.opts());
  const { problems } = checkJobOptions(given);
  const own = problems.filter((p) => p.against === undefined || p.against in given);
  if (own.length > 0) throw optionError(own, flagOf);
  // The deployment's workers do not share this shell's environment; the API checks the secrets' prefix.
  const headerProblem = referenceProblem((given.headers ?? {}) as Record<string, string>, 'deployed');
  if (headerProblem) throw new InvalidOptionError(flagOf('headers'), headerProblem);
  const format = command.getOptionValueSource('format') === 'cli' ? ['--format'] : [];
  return { options: given as Partial<JobOptions>, flags: [...flags, ...format] };
}
