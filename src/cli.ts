// The command line: builds the commander program from the command specs,
// runs one command, and turns every outcome into an exit code. Errors are
// printed here, once, as one line on stderr.

import { Command, CommanderError, Option } from 'commander';
import { batchCommand } from './commands/batch.js';
import { completionCommand } from './commands/completion.js';
import { fitCommand } from './commands/fit.js';
import { layerCommand } from './commands/layer.js';
import { mergeCommand } from './commands/merge.js';
import { statsCommand } from './commands/stats.js';
import type { CommandSpec } from './commands/command.js';
import { ExitCode, FinormError } from './errors.js';
import { removeTempFilesSync } from './io/temp-files.js';
import type { OptionGroup, OptionSpec } from './options.js';
import { progress } from './report/progress.js';
import { packageVersion } from './version.js';
import { stat } from 'node:fs/promises';

export const commands: CommandSpec[] = [layerCommand, batchCommand, fitCommand, statsCommand, mergeCommand, completionCommand];

const GROUP_ORDER: OptionGroup[] = ['Input', 'Columns', 'Normalization', 'Output'];

/** The commander program with every command, its options grouped for help. */
export function buildProgram(onRun: (spec: CommandSpec, args: string[], command: Command) => void): Command {
  const program = new Command('finorm')
    .description('Normalize financial feature tables, streaming: layer (per row) and batch (per column) normalization.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => {} });
  program.addHelpText(
    'after',
    '\nExamples:\n' +
      '  finorm layer fixtures/sp500-sample.csv\n      normalize each row across its numeric columns\n' +
      '  finorm fit train.csv -o scaler.json && finorm batch --params scaler.json test.csv\n' +
      '      fit per-column statistics on one file, apply them to another\n' +
      '\nRun `finorm <command> --help` for a command\'s options and examples.\n',
  );
  for (const spec of commands) {
    const command = program
      .command(spec.name)
      .summary(spec.summary)
      .description(spec.description)
      .argument(spec.arguments.name, spec.arguments.description)
      .helpOption('-h, --help', 'show help')
      .showSuggestionAfterError(true)
      .exitOverride()
      .configureOutput({ outputError: () => {} });
    const entries = Object.entries(spec.options).sort(
      ([, a], [, b]) => GROUP_ORDER.indexOf(a.group) - GROUP_ORDER.indexOf(b.group),
    );
    for (const [, option] of entries) command.addOption(commanderOption(option));
    command.addHelpText('after', '\nExamples:\n' + spec.examples.map((e) => `  ${e.command}\n      ${e.explanation}`).join('\n'));
    command.action((args: string[], _opts: unknown, self: Command) => onRun(spec, args, self));
  }
  return program;
}

function commanderOption(spec: OptionSpec): Option {
  const option = new Option(spec.flags, spec.description).helpGroup(`${spec.group}:`);
  if (spec.choices) option.choices(spec.choices);
  if (spec.default !== undefined) option.default(spec.default, spec.default === '' ? '""' : undefined);
  if (spec.repeatable) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
  return option;
}

/** Runs finorm with the given arguments (without `node` and the script path); exits the process. */
export async function main(argv: string[]): Promise<void> {
  process.on('SIGINT', () => stop(ExitCode.interrupted));
  process.on('SIGTERM', () => stop(ExitCode.terminated));
  const code = await run(argv);
  await flushStdout();
  process.exit(code);
}

/** Runs one command line and returns its exit code; never throws. */
export async function run(argv: string[]): Promise<number> {
  let chosen: { spec: CommandSpec; args: string[]; command: Command } | undefined;
  const program = buildProgram((spec, args, command) => {
    chosen = { spec, args, command };
  });
  try {
    if (argv.length === 0) {
      process.stderr.write(program.helpInformation());
      return ExitCode.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    if (!chosen) return ExitCode.ok;
    const { spec, args, command } = chosen;
    const raw = command.opts();
    const given = new Set(Object.keys(raw).filter((key) => command.getOptionValueSource(key) === 'cli'));
    progress.configure({ quiet: raw.quiet === true, progress: raw.progress === true }, await inputSize(args));
    const code = await spec.run(args, raw, given);
    progress.clear();
    return code;
  } catch (error) {
    return reportError(error);
  }
}

function reportError(error: unknown): number {
  progress.clear();
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') {
      return ExitCode.ok;
    }
    const message = error.message
      .replace(/^error: /, '')
      .replace(/\n\(Did you mean (.*)\)/, ' (did you mean $1)')
      .replace(/\s*\n\s*/g, ' ');
    process.stderr.write(`finorm: ${message}\n`);
    return ExitCode.usage;
  }
  if (error instanceof FinormError) {
    if (error.message !== '') process.stderr.write(`finorm: ${error.message}\n`);
    return error.exitCode;
  }
  // A bug: still one line, with the stack only on request.
  const detail = error instanceof Error ? error.message : String(error);
  process.stderr.write(`finorm: internal error: ${detail}${process.env.FINORM_DEBUG ? `\n${(error as Error).stack}` : ' (set FINORM_DEBUG=1 for details)'}\n`);
  return ExitCode.dataError;
}

/** Total size of the input files, if every input is a file (for percent and time left). */
async function inputSize(args: string[]): Promise<number | undefined> {
  if (args.length === 0 || args.includes('-')) return undefined;
  let total = 0;
  for (const path of args) {
    const info = await stat(path).catch(() => undefined);
    if (!info?.isFile()) return undefined;
    total += info.size;
  }
  return total;
}

function stop(code: number): void {
  progress.clear();
  removeTempFilesSync();
  process.exit(code);
}

async function flushStdout(): Promise<void> {
  if (process.stdout.writableLength === 0) return;
  await new Promise<void>((done) => {
    process.stdout.once('drain', done);
    process.stdout.once('error', () => done());
  });
}
