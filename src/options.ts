// Every option shared between commands, declared once: its flags, help text,
// help group, default, what shell completion offers, and the zod schema that
// turns the raw command-line string into a typed value, and which options it
// cannot go with or cannot go without. Commands pick the bundles they need
// (src/commands/*.ts) and declare their own options the same way; help
// (cli.ts), the README's option reference (scripts/docs.mjs), completion
// (commands/completion.ts) and the check of combinations (checkCombinations)
// all read these tables, so they cannot drift apart.

import { parse as parseCsv } from 'csv-parse/sync';
import { z } from 'zod';
import { UsageError } from './errors.js';
import { parseDecimal } from './io/decimal.js';

export type OptionGroup = 'Input' | 'Columns' | 'Normalization' | 'Output' | 'Reporting';

export interface OptionSpec {
  /** Commander flags, e.g. `-e, --epsilon <number>`. */
  flags: string;
  description: string;
  group: OptionGroup;
  /** Raw value used when the option is not given (shown in help). */
  default?: string | boolean;
  choices?: readonly string[];
  /** The option may be given several times; values accumulate. */
  repeatable?: boolean;
  /** What shell completion offers for the value: file names, nothing, or the column names of the input file on the line. */
  complete?: 'file' | 'none' | 'columns';
  /** Parses the raw value (string, boolean, or string[] when repeatable). */
  schema: z.ZodType;
  /** Options of the same command this one cannot be given with (by key), each with the reason the refusal gives. */
  conflicts?: Readonly<Record<string, string>>;
  /**
   * What this option is meaningless without: one of `anyOf` given on the
   * command line (with one of `values`, when listed), and why.
   */
  needs?: { anyOf: readonly string[]; values?: readonly string[]; why?: string };
}

// ---- value schemas -------------------------------------------------------

/** A finite decimal number written on the command line. */
export function decimalOption(what: string, check?: { min?: number; minExclusive?: number; max?: number }) {
  return z.string().transform((text, ctx) => {
    const value = parseDecimal(text);
    const bounds = check ?? {};
    const fail = (expected: string): typeof z.NEVER => {
      ctx.addIssue({ code: 'custom', message: `expected ${what} ${expected}, got ${JSON.stringify(text)}` });
      return z.NEVER;
    };
    if (!Number.isFinite(value)) return fail('(a finite decimal number)');
    if (bounds.min !== undefined && value < bounds.min) return fail(`≥ ${bounds.min}`);
    if (bounds.minExclusive !== undefined && value <= bounds.minExclusive) return fail(`> ${bounds.minExclusive}`);
    if (bounds.max !== undefined && value > bounds.max) return fail(`≤ ${bounds.max}`);
    return value;
  });
}

/** A whole number within [min, max] written on the command line. */
export function integerOption(what: string, min: number, max: number) {
  return z.string().transform((text, ctx) => {
    const value = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(value) || value < min || value > max) {
      ctx.addIssue({
        code: 'custom',
        message: `expected ${what}, a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`,
      });
      return z.NEVER;
    }
    return value;
  });
}

/**
 * A comma-separated list, possibly given several times: `-c a,b -c 5-9`.
 * Each value is read as one CSV record, so a name with a comma can be quoted:
 * `-c '"Hotels, Resorts",Price'`.
 */
export const listOption = z
  .array(z.string())
  .optional()
  .transform((values, ctx) => {
    if (values === undefined) return undefined;
    try {
      return values.flatMap((value) => (parseCsv(value, { trim: true, relax_column_count: true }) as string[][]).flat());
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `cannot read the list ${JSON.stringify(values.join(','))}: ${(error as Error).message}` });
      return z.NEVER;
    }
  });

const delimiterOption = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined) return undefined;
    const named: Record<string, string> = { tab: '\t', '\\t': '\t', comma: ',', semicolon: ';', pipe: '|', space: ' ' };
    const value = named[text] ?? text;
    if (value.length !== 1 || value === '"' || value === '\n' || value === '\r') {
      ctx.addIssue({ code: 'custom', message: `expected one character (or tab, \\t, semicolon, pipe), got ${JSON.stringify(text)}` });
      return z.NEVER;
    }
    return value;
  });

const formatChoices = ['csv', 'tsv', 'ndjson', 'parquet'] as const;

/** The positional argument of every command that reads a table. */
export const inputFilesArgument = {
  name: '[file...]',
  description: 'input files (CSV, TSV, NDJSON, optionally .gz; Parquet); none or - reads stdin',
};

/** The texts that mean "missing": for every column, and more for some columns (by name). */
export interface MissingTokens {
  all: ReadonlySet<string>;
  byColumn: ReadonlyMap<string, ReadonlySet<string>>;
}

const DEFAULT_MISSING = ['', 'NA', 'N/A', 'NaN', 'nan', 'null', 'NULL'];

/** --na values: `a,b` lists (the last replaces the default), `COLUMN=a,b` lists for one column. */
function missingTokensOf(values: readonly string[]): MissingTokens {
  let all: ReadonlySet<string> = new Set(DEFAULT_MISSING);
  const byColumn = new Map<string, Set<string>>();
  for (const value of values) {
    const perColumn = /^([^=,]+)=(.*)$/s.exec(value);
    if (perColumn === null) {
      all = new Set(value.split(','));
      continue;
    }
    const [, column, tokens] = perColumn;
    const set = byColumn.get(column) ?? new Set<string>();
    for (const token of tokens.split(',')) set.add(token);
    byColumn.set(column, set);
  }
  return { all, byColumn };
}

// ---- the shared options, by bundle ---------------------------------------

export const inputOptions = {
  format: {
    flags: '-f, --format <format>',
    description: 'input format (default: from the file extension, else sniffed: `PAR1` starts Parquet, `{` NDJSON)',
    group: 'Input',
    choices: formatChoices,
    schema: z.enum(formatChoices).optional(),
  },
  delimiter: {
    flags: '-d, --delimiter <char>',
    description: 'field delimiter of CSV input (`tab`, `;`, `|`, ...)',
    group: 'Input',
    complete: 'none',
    schema: delimiterOption,
  },
  header: {
    flags: '--no-header',
    description: 'the first CSV/TSV record is data; columns are named 1..N and no header is written',
    group: 'Input',
    schema: z.boolean(),
  },
  na: {
    flags: '--na <tokens>',
    description:
      'comma-separated texts that mean "missing", replacing the default list (empty, NA, N/A, NaN, nan, null, NULL); ' +
      '`COLUMN=tokens` adds tokens for one column only (e.g. `PE10=0.0`); repeatable',
    group: 'Input',
    repeatable: true,
    complete: 'none',
    schema: z.array(z.string()).optional().transform((values) => missingTokensOf(values ?? [])),
  },
  onError: {
    flags: '--on-error <policy>',
    description: 'bad rows: `stop` at the first (exit 1), `skip` them, or make a value that is not a number missing and keep its row (`null`); the summary reports them',
    group: 'Input',
    default: 'stop',
    choices: ['stop', 'skip', 'null'],
    schema: z.enum(['stop', 'skip', 'null']),
  },
  failOnSkip: {
    flags: '--fail-on-skip',
    description: 'with --on-error skip or null: exit 3 if any row was skipped or value made missing',
    group: 'Input',
    schema: z.boolean().optional().transform(Boolean),
    // Under the default (stop) a bad row already exits 1: the flag would silently do nothing.
    needs: { anyOf: ['onError'], values: ['skip', 'null'] },
  },
} satisfies Record<string, OptionSpec>;

/** For the commands that can spread a row-by-row transform over worker threads. */
export const threadsOption = {
  threads: {
    flags: '--threads <n>',
    description:
      'worker threads that parse, normalize and format rows (default: one per core, up to 4, for inputs of 4 MB or more; 1 = none; the output is the same for any number; README: Threads)',
    group: 'Input',
    complete: 'none',
    schema: integerOption('--threads', 1, 64).optional(),
  },
} satisfies Record<string, OptionSpec>;

export const columnOptions = {
  columns: {
    flags: '-c, --columns <list>',
    description: 'feature columns: names, 1-based numbers and ranges (`Price,4,6-9`); default: every numeric column',
    group: 'Columns',
    repeatable: true,
    complete: 'columns',
    schema: listOption,
  },
  exclude: {
    flags: '-x, --exclude <list>',
    description: 'columns to leave out of the features (names, numbers, ranges)',
    group: 'Columns',
    repeatable: true,
    complete: 'columns',
    schema: listOption,
  },
} satisfies Record<string, OptionSpec>;

export const outputOptions = {
  output: {
    flags: '-o, --output <file>',
    description: 'write to this file (atomically: a temporary file renamed on success) instead of stdout',
    group: 'Output',
    complete: 'file',
    schema: z.string().min(1).optional(),
  },
  outputFormat: {
    flags: '--output-format <format>',
    description: 'output format (default: the input format; parquet for -o FILE.parquet)',
    group: 'Output',
    choices: formatChoices,
    schema: z.enum(formatChoices).optional(),
  },
  suffix: {
    flags: '--suffix <text>',
    description: 'keep every input column unchanged and append the normalized copies, named <column><text> (e.g. _z)',
    group: 'Output',
    complete: 'none',
    schema: z.string().min(1, 'give a non-empty suffix, e.g. _z').optional(),
  },
  select: {
    flags: '--select <list>',
    description: 'write only these output columns, in this order (names, numbers, ranges, as -c; copies by their --suffix names)',
    group: 'Output',
    repeatable: true,
    complete: 'columns',
    schema: listOption,
  },
  outputHeader: {
    flags: '--no-output-header',
    description: 'write no header line (CSV/TSV): for rows that follow another block\'s (GNU parallel --keep-order) or are appended to a table (>>)',
    group: 'Output',
    schema: z.boolean(),
  },
  strings: {
    flags: '--strings',
    description: 'CSV/TSV input written as NDJSON: pass-through cells as JSON strings, numbers too (default: numbers as numbers)',
    group: 'Output',
    schema: z.boolean().optional().transform(Boolean),
  },
  rowGroupSize: {
    flags: '--row-group-size <rows>',
    description: 'Parquet output: rows per row group (default 122880; a row group also ends at 64 MB of pages)',
    group: 'Output',
    complete: 'none',
    schema: integerOption('--row-group-size', 1, 1_000_000_000).optional(),
  },
  precision: {
    flags: '-p, --precision <digits>',
    description: 'write numbers with this many significant digits (default: shortest exact round-trip form)',
    group: 'Output',
    complete: 'none',
    schema: integerOption('--precision', 1, 17).optional(),
  },
} satisfies Record<string, OptionSpec>;

export const reportOptions = {
  quiet: {
    flags: '-q, --quiet',
    description: 'print no summary and no progress line',
    group: 'Reporting',
    schema: z.boolean().optional().transform(Boolean),
  },
  summary: {
    flags: '--summary',
    description: 'print the summary to stderr even when it is not a terminal',
    group: 'Reporting',
    schema: z.boolean().optional().transform(Boolean),
  },
  stats: {
    flags: '--stats <file>',
    description: 'write the summary as JSON to this file',
    group: 'Reporting',
    complete: 'file',
    schema: z.string().min(1).optional(),
  },
  progress: {
    flags: '--progress',
    description: 'show the progress line even when stderr is not a terminal (it shows on a terminal after 1 s, unless -q or CI is set)',
    group: 'Reporting',
    schema: z.boolean().optional().transform(Boolean),
  },
  color: {
    flags: '--color <when>',
    description: 'colour the summary: `auto` (on a terminal, unless NO_COLOR is set), `always`, `never`',
    group: 'Reporting',
    default: 'auto',
    choices: ['auto', 'always', 'never'],
    schema: z.enum(['auto', 'always', 'never']),
  },
  histogram: {
    flags: '--histogram',
    description: 'add a one-line histogram of each column to the summary, input beside output (20 bins from min to max)',
    group: 'Reporting',
    schema: z.boolean().optional().transform(Boolean),
  },
} satisfies Record<string, OptionSpec>;

export const epsilonOption = {
  epsilon: {
    flags: '-e, --epsilon <number>',
    description: 'ε added to the variance inside the square root',
    group: 'Normalization',
    default: '1e-5',
    complete: 'none',
    schema: decimalOption('--epsilon', { min: 0 }),
  },
} satisfies Record<string, OptionSpec>;

/** The zod object schema of a set of options: what a command's `run` receives. */
export function schemaOf<T extends Record<string, OptionSpec>>(options: T) {
  const shape = {} as { [K in keyof T]: T[K]['schema'] };
  for (const key of Object.keys(options) as (keyof T)[]) shape[key] = options[key].schema;
  return z.object(shape);
}

/** The long flag of an option, as users type it (`--epsilon`). */
export function longFlag(spec: OptionSpec): string {
  const match = /--[\w-]+/.exec(spec.flags);
  return match ? match[0] : spec.flags;
}

/**
 * Refuses, before anything runs, options given together that one of them
 * declares a conflict with, and an option given without what it needs.
 * `given`: the options typed on the command line; `raw`: their raw values.
 */
export function checkCombinations(options: Readonly<Record<string, OptionSpec>>, given: ReadonlySet<string>, raw: Readonly<Record<string, unknown>>): void {
  for (const [key, spec] of Object.entries(options)) {
    if (!given.has(key)) continue;
    for (const [other, why] of Object.entries(spec.conflicts ?? {})) {
      if (given.has(other) && options[other] !== undefined) {
        throw new UsageError(`${longFlag(spec)} and ${longFlag(options[other])} cannot be used together: ${why}`);
      }
    }
    const needs = spec.needs;
    if (needs === undefined) continue;
    const met = needs.anyOf.some((other) => given.has(other) && (needs.values === undefined || needs.values.includes(String(raw[other]))));
    if (!met) {
      const what = needs.anyOf.map((other) => (options[other] ? longFlag(options[other]) : other)).join(' or ');
      const values = needs.values ? ` ${needs.values.join(' or ')}` : '';
      throw new UsageError(`${longFlag(spec)} needs ${what}${values}${needs.why ? `: ${needs.why}` : ''}`);
    }
  }
}
