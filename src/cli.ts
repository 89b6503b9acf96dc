// The command line: builds the commander program from the command specs,
// runs one command, and turns every outcome into an exit code. Errors are
// printed here, once, as one line on stderr, with whatever came from the input
// (column names, NDJSON keys, group values) unable to drive the terminal.

import { Command, CommanderError, Option } from 'commander';
import type { CommandSpec } from './commands/command.js';
import { ExitCode, FinormError, ioErrorFrom } from './errors.js';
import { removeTempFilesSync } from './io/temp-files.js';
import type { OptionGroup, OptionSpec } from './options.js';
import { progress } from './report/progress.js';
import { printable } from './report/layout.js';
import { configureReporting } from './report/report.js';
import { packageVersion } from './version.js';
import { stat } from 'node:fs/promises';
import { setFlagsFromString } from 'node:v8';
import { z } from 'zod';

// zod compiles a fast path for a schema the first time it parses: options and
// parameter files are parsed once a run, so the compiling only costs startup.
z.config({ jitless: true });

/**
 * Each command's module, imported only when needed: a run loads its own
 * command only (not batch's machinery for a `stats`), help and completion
 * load them all.
 */
const commandLoaders: Record<string, () => Promise<CommandSpec>> = {
  layer: async () => (await import('./commands/layer.js')).layerCommand,
  batch: async () => (await import('./commands/batch.js')).batchCommand,
  fit: async () => (await import('./commands/fit.js')).fitCommand,
  stats: async () => (await import('./commands/stats.js')).statsCommand,
  merge: async () => (await import('./commands/merge.js')).mergeCommand,
  split: async () => (await import('./commands/split.js')).splitCommand,
  export: async () => (await import('./commands/export.js')).exportCommand,
  import: async () => (await import('./commands/import.js')).importCommand,
  completion: async () => (await import('./commands/completion.js')).completionCommand,
};

/** The names of finorm's commands, in the order help lists them. */
export const commandNames: readonly string[] = Object.keys(commandLoaders);

/** The specs of the named commands (all of them by default), in help order. */
export function loadCommands(names: readonly string[] = commandNames): Promise<CommandSpec[]> {
  return Promise.all(names.map((name) => commandLoaders[name]()));
}

/** The examples of `finorm --help`: whole commands, their data typed in, so that they run in any directory. */
export const programExamples: { command: string; explanation: string }[] = [
  {
    command: "printf 'date,ticker,mom_1m,mom_12m,value\\n2024-01-31,AAPL,0.5,10,-2\\n' | finorm layer",
    explanation: 'each row: its features against each other (layer normalization)',
  },
  {
    command: "printf 'day,ticker,ret\\n1,AAA,0.012\\n1,BBB,-0.004\\n2,AAA,0.003\\n2,BBB,0.009\\n' | finorm batch -g day -c ret",
    explanation: "each column: each day's returns against that day's (batch normalization, per group)",
  },
];

/** Commands that write rows while reading (the others write their result at the end). */
const STREAMING_COMMANDS = new Set(['layer', 'batch']);

const GROUP_ORDER: OptionGroup[] = ['Input', 'Columns', 'Normalization', 'Output', 'Reporting'];

/** The commander program with every command, its options grouped for help. */
export function buildProgram(
  specs: readonly CommandSpec[],
  onRun: (spec: CommandSpec, args: string[], command: Command) => void,
): Command {
  const program = new Command('finorm')
    .description('Normalize financial feature tables, streaming: layer (per row) and batch (per column) normalization.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => {} });
  program.addHelpText(
    'after',
    `\nExamples:\n${examplesText(programExamples)}\n` +
      '\nRun `finorm <command> --help` for a command\'s options and examples.\n',
  );
  for (const spec of specs) {
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
    command.addHelpText('after', `\nExamples:\n${examplesText(spec.examples)}\n`);
    command.action((args: string[], _opts: unknown, self: Command) => onRun(spec, args, self));
  }
  return program;
}

function examplesText(examples: readonly { command: string; explanation: string }[]): string {
  return examples.map((e) => `  ${e.command}\n      ${e.explanation}`).join('\n');
}

function commanderOption(spec: OptionSpec): Option {
  const option = new Option(spec.flags, spec.description).helpGroup(`${spec.group}:`);
  if (spec.choices) option.choices(spec.choices);
  // Shown as typed (`1e-5`, not `"1e-5"`); an empty default as "".
  if (spec.default !== undefined) option.default(spec.default, typeof spec.default === 'string' ? (spec.default === '' ? '""' : spec.default) : undefined);
  if (spec.repeatable) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
  return option;
}

/**
 * V8 lets the old generation grow to several times its live size before a
 * full collection, a factor it picks itself (up to 4). Streaming leaves little
 * alive, so a fixed factor of 1.5 keeps the process small: `layer --threads 1`
 * on 1M rows peaks at about 114 MB instead of 142–151 MB, for about 10% more
 * time on one thread (more full collections; turning incremental marking off
 * won that back but let `fit -g` grow to 505 MB instead of 176 MB). The flag
 * holds for the whole process, worker threads included; with them neither
 * speed nor memory changed (their heaps are capped, see worker-pool.ts), nor
 * for 125,000 groups held in memory. The factor is read at each collection,
 * so it takes effect when set here.
 */
const GC_FLAGS = '--heap-growing-percent=50';

/** Runs finorm with the given arguments (without `node` and the script path); exits the process. */
export async function main(argv: string[]): Promise<void> {
  setFlagsFromString(GC_FLAGS);
  for (const signal of STOPPING_SIGNALS) process.on(signal, () => stop(signal));
  // Help, completion scripts and the like are written straight to stdout: a
  // write error there (a full disk) must not pass silently. A closed pipe
  // (EPIPE) is not an error: the reader has what it wanted.
  let stdoutFailure: unknown;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') stdoutFailure ??= error;
  });
  let code = await run(argv);
  await flushStdout();
  // Let an error from the last write arrive (it is emitted on a later tick).
  await new Promise((resolve) => setImmediate(resolve));
  if (stdoutFailure !== undefined && code === ExitCode.ok) {
    process.stderr.write(`finorm: ${ioErrorFrom(stdoutFailure, 'write', 'stdout').message}\n`);
    code = ExitCode.dataError;
  }
  process.exit(code);
}

/** Runs one command line and returns its exit code; never throws. */
export async function run(argv: string[]): Promise<number> {
  let chosen: { spec: CommandSpec; args: string[]; command: Command } | undefined;
  try {
    // `finorm help NAME` shows NAME's help; commander answers a NAME that is no command with the general help and
    // exit 0. As `finorm NAME` it gets what a mistyped command gets: the suggestion and exit 2.
    if (argv[0] === 'help' && argv[1] !== undefined && !argv[1].startsWith('-') && !commandNames.includes(argv[1])) argv = argv.slice(1);
    // `finorm layer ...` needs the layer command only; help and typos need them all.
    const first = argv[0];
    const specs = await loadCommands(first !== undefined && Object.hasOwn(commandLoaders, first) ? [first] : commandNames);
    const program = buildProgram(specs, (spec, args, command) => {
      chosen = { spec, args, command };
    });
    if (argv.length === 0) {
      program.outputHelp({ error: true }); // with the examples, on stderr
      return ExitCode.usage;
    }
    await program.parseAsync(argv, { from: 'user' });
    if (!chosen) return ExitCode.ok;
    const { spec, args, command } = chosen;
    const raw = command.opts();
    const given = new Set(Object.keys(raw).filter((key) => command.getOptionValueSource(key) === 'cli'));
    configureReporting(raw, await inputSize(args), STREAMING_COMMANDS.has(spec.name));
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
    process.stderr.write(`finorm: ${printable(message)}\n`);
    return ExitCode.usage;
  }
  if (error instanceof FinormError) {
    if (error.message !== '') process.stderr.write(`finorm: ${printable(error.message)}\n`);
    return error.exitCode;
  }
  // A bug: still one line, with the stack only on request.
  const detail = error instanceof Error ? error.message : String(error);
  process.stderr.write(`finorm: internal error: ${printable(detail)}${process.env.FINORM_DEBUG ? `\n${(error as Error).stack}` : ' (set FINORM_DEBUG=1 for details)'}\n`);
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

/** Signals that end a run (Ctrl-C, kill, the terminal closed), each after removing the temporary files. */
const STOPPING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Cleans up, then dies of the signal itself, as its default action would:
 * the shell, make and a supervisor see it (exit status 128 + its number:
 * 130, 143, 129), and nothing waits for a thread blocked in open() on a FIFO
 * that has no reader or writer, which process.exit would (forever).
 */
function stop(signal: (typeof STOPPING_SIGNALS)[number]): void {
  progress.clear();
  removeTempFilesSync();
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
}

async function flushStdout(): Promise<void> {
  if (process.stdout.writableLength === 0) return;
  await new Promise<void>((done) => {
    process.stdout.once('drain', done);
    process.stdout.once('error', () => done());
  });
}
