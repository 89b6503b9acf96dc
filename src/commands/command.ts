// What a command file exports: its name, help text, options and examples
// (read by cli.ts for help, by completion and by the README generator), and
// the function that runs it.

import type { z } from 'zod';
import { UsageError } from '../errors.js';
import { type OptionSpec, checkCombinations, longFlag } from '../options.js';

export interface CommandSpec {
  name: string;
  /** One line for `finorm --help`. */
  summary: string;
  /** A paragraph for `finorm <command> --help`. */
  description: string;
  /** Positional arguments, e.g. `[file...]`. */
  arguments: { name: string; description: string };
  options: Record<string, OptionSpec>;
  /** Whole command lines, their data typed in so that they run in any directory (fixtures/ is not installed), with what they do; the tests run each. */
  examples: { command: string; explanation: string }[];
  /**
   * Runs the command; resolves to the exit code. `given` holds the options
   * typed on the command line (as opposed to defaults).
   */
  run(args: string[], rawOptions: Record<string, unknown>, given: ReadonlySet<string>): Promise<number>;
}

/**
 * Parses raw commander values with a command's schema (problems become usage
 * errors naming the flag), then checks the combinations its option table
 * declares (`given`: the options typed on the command line).
 */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  raw: Record<string, unknown>,
  options: Record<string, OptionSpec>,
  given: ReadonlySet<string>,
): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) {
    checkCombinations(options, given, raw);
    return result.data;
  }
  const issue = result.error.issues[0];
  const key = String(issue.path[0] ?? '');
  const flag = options[key] ? longFlag(options[key]) : key;
  throw new UsageError(`${flag}: ${issue.message}`);
}
