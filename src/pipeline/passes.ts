// What commands ask of the pipeline: a pass over the input that transforms
// every row and writes it out, or one that gathers statistics. Both run the
// one pipeline (run.ts) and merge what the pieces send back, in input order.

import { LayerRowStats } from '../core/layer.js';
import { UsageError } from '../errors.js';
import { ColumnMoments } from '../core/moments.js';
import { QuantileSketch } from '../core/quantiles.js';
import { GroupTable, IndexedGroupRows, KeyIndex } from '../groups.js';
import { TableOutput } from '../io/output.js';
import { type OutputLayout, RowWriter } from '../io/render.js';
import { type Format, formatFromName } from '../io/sources.js';
import { DEFAULT_ROW_GROUP_ROWS, ParquetAssembler } from '../io/parquet/writer.js';
import { parquetOutputColumns } from '../io/parquet/schema.js';
import { packageVersion } from '../version.js';
import { summaryDistributions } from '../report/distributions.js';
import { outputColumnsOf } from '../selection.js';
import type { Input } from './input.js';
import type { GroupColumns, JobSpec, PieceResult, ProcessorTotals, TransformSpec } from './job.js';
import { type Execution, runPipeline } from './run.js';

export interface OutputSettings {
  output?: string | undefined;
  outputFormat?: Format | undefined;
  precision?: number | undefined;
  /** Keep the input columns and append the normalized copies with this suffix. */
  suffix?: string | undefined;
  /** Only these output columns, in this order (tokens as for --columns). */
  select?: string[] | undefined;
  /** CSV/TSV to NDJSON: numeric pass-through cells as strings. */
  strings?: boolean | undefined;
  /** false: no header line (--no-output-header), for a block whose rows follow another's. */
  outputHeader?: boolean | undefined;
  /** Parquet output: rows per row group. */
  rowGroupSize?: number | undefined;
}

export interface TransformOutcome {
  /** The table written so far; the caller commits it last (commitLast), after its other outputs. */
  output: TableOutput;
  rowsWritten: number;
  inputMoments: ColumnMoments;
  outputMoments: ColumnMoments;
  /** Per feature: values clipped by --clip. */
  clipped: Float64Array;
  /** layer: facts about the rows. */
  rowStats: LayerRowStats;
  /** Rows per group (grouped and causal transforms; batch-groups: of groups it was not given), and for --sorted each group's fit. */
  groups: GroupTable;
  /** batch-groups: rows per group it was given, by index (then `groups`). */
  knownGroups: IndexedGroupRows | undefined;
  execution: Execution;
}

/**
 * What a transform of `input` writes, column by column. Also called before a
 * first pass, so that a bad --suffix, --select or --strings fails at once.
 */
export function outputLayoutOf(input: Input, settings: OutputSettings): OutputLayout {
  const format = outputFormatOf(input, settings);
  if (settings.strings && !(format === 'ndjson' && input.format !== 'ndjson')) {
    throw new UsageError('--strings: only CSV or TSV input written as NDJSON (--output-format ndjson) has text cells to keep as strings');
  }
  return {
    format,
    // Without --output-format, the input's own delimiter (`-d ';'` stays `;`); the format asked for gets its own.
    delimiter: settings.outputFormat === undefined ? input.delimiter.charCodeAt(0) : format === 'tsv' ? 9 : 44,
    header: input.settings.header && settings.outputHeader !== false,
    ...outputColumnsOf(input.selection, settings),
    features: input.selection.names.length,
    numbersAsNumbers: !settings.strings,
    precision: settings.precision,
  };
}

/**
 * The output's format: --output-format, else Parquet for `-o *.parquet`,
 * else the input's (from Parquet, a text format that -o's name says).
 */
function outputFormatOf(input: Input, settings: OutputSettings): Format {
  if (settings.outputFormat !== undefined) return settings.outputFormat;
  const named = formatFromName(settings.output);
  if (named === 'parquet') return 'parquet';
  return input.format === 'parquet' ? (named ?? 'parquet') : input.format;
}

/** A Parquet output: its columns' types (from the input's, or its first rows), and the assembler of its row groups. */
async function parquetOutput(input: Input, layout: OutputLayout, settings: OutputSettings): Promise<ParquetAssembler | undefined> {
  if (layout.format !== 'parquet') return undefined;
  if (settings.output === undefined && process.stdout.isTTY) {
    throw new UsageError('Parquet is binary and stdout is a terminal: write it to a file (-o FILE.parquet) or a pipe, or choose --output-format csv');
  }
  const sample = input.format === 'parquet' ? [] : await input.sample();
  layout.parquet = parquetOutputColumns(layout, { format: input.format, ...(input.parquetSchema ? { elements: input.parquetSchema } : {}), sample });
  return new ParquetAssembler(layout.parquet, layout.columns, settings.rowGroupSize ?? DEFAULT_ROW_GROUP_ROWS, `finorm ${packageVersion()}`);
}

/**
 * Transforms every row of `input` with `transform` and writes it to the
 * output (stdout or an atomic -o file). `summarize`: keep the moments a
 * summary shows. A sequential transform (causal, --sorted) runs on the main thread.
 */
export async function transformRows(
  input: Input,
  transform: TransformSpec,
  settings: OutputSettings & { threads?: number | undefined },
  summarize: boolean,
): Promise<TransformOutcome> {
  const width = input.selection.names.length;
  const layout = outputLayoutOf(input, settings);
  const histogram = summaryDistributions.enabled;
  const parquet = await parquetOutput(input, layout, settings);
  const job: JobSpec = { kind: 'transform', transform, output: layout, summarize, histogram };
  const output = await TableOutput.open(settings.output, new RowWriter(layout, input.delimiter.charCodeAt(0)).headerBytes(), parquet);
  const outcome: TransformOutcome = {
    output,
    rowsWritten: 0,
    inputMoments: new ColumnMoments(width),
    outputMoments: new ColumnMoments(width),
    clipped: new Float64Array(width),
    rowStats: new LayerRowStats(),
    groups: new GroupTable(width, transform.kind === 'sorted'),
    knownGroups: undefined,
    execution: emptyExecution(),
  };
  if (transform.kind === 'batch-groups') outcome.knownGroups = new IndexedGroupRows(KeyIndex.of(transform.index), transform.scalings.count);
  const sequential = transform.kind === 'causal' || transform.kind === 'sorted';
  try {
    const { execution, totals } = await runPipeline(input, { job, threads: settings.threads, sequential }, async (result, recycle) => {
      if (result.moments) outcome.inputMoments.merge(ColumnMoments.fromState(result.moments));
      if (result.outputMoments) outcome.outputMoments.merge(ColumnMoments.fromState(result.outputMoments));
      if (result.clipped) for (let j = 0; j < width; j++) outcome.clipped[j] += result.clipped[j];
      if (result.rowStats) {
        const { zeroVarianceRows, emptyRows, sigma, dominatedBy } = result.rowStats;
        outcome.rowStats.merge({ zeroVarianceRows, emptyRows, sigma: ColumnMoments.fromState(sigma), dominatedBy });
      }
      addGroups(outcome.groups, result);
      if (result.groupOfRow) outcome.knownGroups?.addPiece(result.id, result.groupOfRow);
      outcome.rowsWritten += result.rows;
      const bytes = result.output;
      // Once written, the output's buffer goes round again (to hold a piece or an output).
      await output.write(bytes, () => recycle(bytes.buffer as ArrayBuffer), result.pages);
    });
    outcome.execution = execution;
    for (const total of totals) if (total.groups) outcome.groups.mergeParts(total.groups);
    if (histogram) summaryDistributions.record(mergedSketches(totals, 'sketches', width), mergedSketches(totals, 'outputSketches', width));
  } catch (error) {
    await output.abort();
    throw error;
  }
  return outcome;
}

export interface StatisticsOutcome {
  moments: ColumnMoments;
  /** Per group, in order of first appearance (with `groups`). */
  groups: GroupTable;
  /** Quantile sketches per feature (with `sketches`). */
  sketches: QuantileSketch[];
  execution: Execution;
}

/**
 * The moments of every feature of `input`: also quantile sketches, per group,
 * or of the values clamped to bounds (the winsorizing pass).
 */
export async function gatherStatistics(
  input: Input,
  options: { threads?: number | undefined; sketches?: boolean; groups?: GroupColumns; clamp?: { lower: Float64Array; upper: Float64Array } },
): Promise<StatisticsOutcome> {
  const width = input.selection.names.length;
  // --histogram (fit's summary): the input's sketches, gathered anyway.
  const histogram = summaryDistributions.enabled;
  const sketches = options.sketches === true || histogram;
  const job: JobSpec = { kind: 'statistics', sketches };
  if (options.groups) job.groups = options.groups;
  if (options.clamp) job.clamp = options.clamp;
  const outcome: StatisticsOutcome = { moments: new ColumnMoments(width), groups: new GroupTable(width, true), sketches: [], execution: emptyExecution() };
  const { execution, totals } = await runPipeline(input, { job, threads: options.threads, sequential: false }, async (result: PieceResult) => {
    if (result.moments) outcome.moments.merge(ColumnMoments.fromState(result.moments));
    addGroups(outcome.groups, result);
  });
  outcome.execution = execution;
  for (const total of totals) if (total.groups) outcome.groups.mergeParts(total.groups);
  // Per group, the moments of all rows are the groups' merged: exactly those of the rows.
  const table = outcome.groups;
  if (options.groups) for (let g = 0; g < table.size; g++) for (let j = 0; j < width; j++) outcome.moments.mergeColumn(j, table.segmentOf(g), table.firstColumnOf(g) + j);
  if (sketches) outcome.sketches = mergedSketches(totals, 'sketches', width);
  if (histogram) summaryDistributions.record(outcome.sketches);
  return outcome;
}

/** A thread's table of groups, if it handed it over with the piece. */
function addGroups(groups: GroupTable, result: PieceResult): void {
  if (result.groups) groups.mergeParts(result.groups);
}

function mergedSketches(totals: ProcessorTotals[], which: 'sketches' | 'outputSketches', width: number): QuantileSketch[] {
  const merged = Array.from({ length: width }, () => new QuantileSketch());
  for (const total of totals) total[which]?.forEach((state, j) => merged[j].merge(QuantileSketch.fromState(state)));
  return merged;
}

function emptyExecution(): Execution {
  return { workers: 0, pieces: 0, piecesPerWorker: [], piecesOnMainThread: 0 };
}

/**
 * Runs `finish` (which writes the other outputs: --save-params, --stats, the
 * summary), then commits the table. It is renamed into place last, so that if
 * any output fails, every previous file is left untouched.
 */
export async function commitLast(output: TableOutput, finish: () => Promise<void>): Promise<void> {
  try {
    await finish();
    await output.close();
  } catch (error) {
    await output.abort();
    throw error;
  }
}
