// What several commands share: opening the files named on the command line,
// option bundles that only the batch family and fit use, and the summary's
// clipping counts and record of how a run went.

import { z } from 'zod';
import { UsageError } from '../errors.js';
import { type ReadFile, checkOutputTargets } from '../io/output.js';
import { type Source, checkSourcesReadable, sourcesFrom } from '../io/sources.js';
import { type OptionSpec, decimalOption, listOption } from '../options.js';
import type { Execution } from '../pipeline/run.js';
import type { RunSummary } from '../report/summary.js';

/**
 * The input and output files named on the command line, checked before any
 * work; `read` are the other files the run reads (a parameter file).
 */
export async function prepareFiles(
  files: string[],
  outputs: { option: string; path: string | undefined }[],
  read: { option: string; path: string | undefined }[] = [],
): Promise<Source[]> {
  const sources = sourcesFrom(files);
  const readFiles = read.filter((file): file is ReadFile => file.path !== undefined);
  const onStdin = readFiles.find((file) => file.path === '-');
  if (onStdin !== undefined && sources.some((source) => source.path === undefined)) {
    throw new UsageError(`stdin (-) can be read only once: ${onStdin.option} - and the input both read it; give one of them as a file`);
  }
  await checkSourcesReadable(sources);
  await checkOutputTargets(outputs, sources, readFiles);
  return sources;
}

export const ddofOption = {
  ddof: {
    flags: '--ddof <0|1>',
    description: 'variance divisor n − ddof: 0 = population (PyTorch, scikit-learn), 1 = sample',
    group: 'Normalization',
    default: '0',
    choices: ['0', '1'],
    schema: z.enum(['0', '1']).transform((v) => Number(v) as 0 | 1),
  },
} satisfies Record<string, OptionSpec>;

/** "finorm 0.1.0", recorded in the parameter files finorm writes. */
export function generatorName(version: string): string {
  return `finorm ${version}`;
}

export const groupByOption = {
  groupBy: {
    flags: '-g, --group-by <list>',
    description: 'statistics per group: the rows with equal values in these columns (e.g. ticker, or date for cross-sections)',
    group: 'Normalization',
    repeatable: true,
    complete: 'columns',
    schema: listOption,
  },
} satisfies Record<string, OptionSpec>;

export const partialOption = {
  partial: {
    flags: '--partial',
    description:
      'the input is one part of the data (a block of GNU parallel, a Hadoop or Spark partition): write a partial fit, ' +
      'with exact sums so that finorm merge gives the fit of all the parts to the last bit, and a column without values in this part as count 0',
    group: 'Output',
    schema: z.boolean().optional().transform(Boolean),
  },
} satisfies Record<string, OptionSpec>;

export const clipOption = {
  clip: {
    flags: '--clip <k>',
    description: 'clamp the normalized value to [−k, k] before γ and β; the summary counts clipped values',
    group: 'Normalization',
    complete: 'none',
    schema: decimalOption('--clip', { minExclusive: 0 }).optional(),
  },
} satisfies Record<string, OptionSpec>;

/** Adds clipped counts to the summary's columns when --clip was given. */
export function withClipped<T extends object>(columns: T[], clip: number | undefined, counts: Float64Array): (T & { clipped?: number })[] {
  if (clip === undefined) return columns;
  return columns.map((column, j) => ({ ...column, clipped: counts[j] }));
}

/** How the passes of a run were carried out, for the summary: threads used, pieces, and each pass. */
export function executionOf(...passes: Execution[]): NonNullable<RunSummary['execution']> {
  return {
    threads: Math.max(1, ...passes.map((pass) => pass.workers)),
    pieces: passes.reduce((sum, pass) => sum + pass.pieces, 0),
    passes,
  };
}
