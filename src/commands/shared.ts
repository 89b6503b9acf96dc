// Pieces that several commands share: the transform loop, option bundles
// that only the batch family uses, and messages.

import { z } from 'zod';
import { ColumnMoments } from '../core/moments.js';
import { type DataError, UsageError, overflowError } from '../errors.js';
import type { RowBlock } from '../io/read-table.js';
import { type OptionSpec, decimalOption, listOption } from '../options.js';
import { Clipping } from '../core/batch.js';
import type { FeatureInput } from '../pipeline.js';
import type { TableWriter } from '../io/write-table.js';
import { type ParallelPlan, statisticsInParallel, transformInParallel, workerCount } from '../parallel/parallel-run.js';
import { summaryDistributions } from '../report/distributions.js';
import { type GroupFit, type GroupKeys, fitByGroup } from '../groups.js';

/**
 * Streams every block of `input` through `transform` into `writer`, keeping
 * input and output statistics. `transform` fills `out` and returns the index of
 * a result that overflowed, or −1. Discards the output on failure; on success
 * the caller commits it with commitLast, after its other outputs.
 */
export async function transformAll(
  input: FeatureInput,
  writer: TableWriter,
  transform: (values: Float64Array, rows: number, out: Float64Array, block: RowBlock) => number,
  summarize = true,
  parallel?: ParallelPlan,
): Promise<{ rowsWritten: number; inputMoments: ColumnMoments; outputMoments: ColumnMoments }> {
  const names = input.selection.names;
  const inputMoments = new ColumnMoments(names.length);
  const outputMoments = new ColumnMoments(names.length);
  let rowsWritten = 0;
  // --histogram: sketches of input and output (undefined unless asked for).
  const sketches = summarize ? summaryDistributions.track(names.length, true) : undefined;
  try {
    // Row-by-row transforms of large files run on worker threads when it pays.
    const threads = parallel ? await workerCount(input, parallel.threads, sketches !== undefined) : 0;
    if (parallel && threads > 0) {
      const moments = summarize ? { input: inputMoments, output: outputMoments } : undefined;
      rowsWritten = await transformInParallel(input, writer, parallel, threads, moments);
      return { rowsWritten, inputMoments, outputMoments };
    }
    for await (const { block, values } of input.blocks()) {
      const rows = block.records.length;
      const out = new Float64Array(values.length);
      const overflow = transform(values, rows, out, block);
      if (overflow >= 0) {
        // The rows before the one that overflowed are written, as before a bad row.
        const before = Math.floor(overflow / names.length);
        const prefix = { source: block.source, records: block.records.slice(0, before), lines: block.lines.slice(0, before) };
        if (before > 0) await writer.write(prefix, out.subarray(0, before * names.length));
        throw overflowErrorIn(block, names, overflow);
      }
      // The summary's statistics cost a few percent: only when someone will see them.
      if (summarize) {
        inputMoments.addRows(values, rows);
        outputMoments.addRows(out, rows);
      }
      if (sketches) {
        sketches.input.addRows(values, rows);
        sketches.output?.addRows(out, rows);
      }
      await writer.write(block, out);
      rowsWritten += rows;
    }
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return { rowsWritten, inputMoments, outputMoments };
}

/**
 * Runs `finish` (which writes the other outputs: --save-params, --stats, the
 * summary), then commits `writer`'s output. The table is renamed into place
 * last, so that if any output fails, every previous file is left untouched.
 */
export async function commitLast(writer: TableWriter, finish: () => Promise<void>): Promise<void> {
  try {
    await finish();
    await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/**
 * Reads every block of `input` into moments (the fitting pass). `visit` sees
 * (and may change) each block's values before they are added. Without
 * `visit`, large files are read on worker threads (`threads`: --threads).
 */
export async function fitAll(
  input: FeatureInput,
  { visit, threads }: { visit?: (values: Float64Array, rows: number) => void; threads?: number | undefined } = {},
): Promise<ColumnMoments> {
  // --histogram (fit's summary): sketches of the input; a transforming pass replaces them.
  const sketches = summaryDistributions.track(input.selection.names.length, false);
  const workers = visit ? 0 : await workerCount(input, threads, sketches !== undefined);
  if (workers > 0) return (await statisticsInParallel(input, workers, false)).moments;
  const moments = new ColumnMoments(input.selection.names.length);
  for await (const { block, values } of input.blocks()) {
    visit?.(values, block.records.length);
    moments.addRows(values, block.records.length);
    sketches?.input.addRows(values, block.records.length);
  }
  return moments;
}

/** The fitting pass under --group-by: on worker threads for large files, else fitByGroup. */
export async function fitGroups(
  input: FeatureInput,
  keys: GroupKeys,
  threads: number | undefined,
): Promise<{ all: ColumnMoments; groups: Map<string, GroupFit> }> {
  const workers = await workerCount(input, threads, false);
  if (workers === 0) return fitByGroup(input, keys);
  const { moments, groups } = await statisticsInParallel(input, workers, false, keys.indexes);
  return { all: moments, groups };
}

/** The error for a result that overflowed float64, located at the offending value. */
export function overflowErrorIn(block: RowBlock, names: readonly string[], index: number): DataError {
  const width = names.length;
  return overflowError({ file: block.source, line: block.lines[Math.floor(index / width)], column: names[index % width] });
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

/** Refuses options that cannot go together, naming both. */
export function refuseTogether(given: ReadonlySet<string>, pairs: [string, string, string][]): void {
  for (const [a, b, why] of pairs) {
    if (given.has(a) && given.has(b)) throw new UsageError(`${flagOf(a)} and ${flagOf(b)} cannot be used together: ${why}`);
  }
}

function flagOf(key: string): string {
  return '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
}

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
    complete: 'none',
    schema: listOption,
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

/** The clipping a run asked for (none without --clip). */
export function clippingOf(limit: number | undefined, width: number): Clipping {
  return limit === undefined ? Clipping.none(width) : new Clipping(limit, width);
}

/** Adds clipped counts to the summary's columns when --clip was given. */
export function withClipped<T extends object>(columns: T[], clipping: Clipping): (T & { clipped?: number })[] {
  if (clipping.limit === Infinity) return columns;
  return columns.map((column, j) => ({ ...column, clipped: clipping.counts[j] }));
}
