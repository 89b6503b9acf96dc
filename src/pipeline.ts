// The wiring every command shares: open the inputs, decide the feature
// columns, stream decoded blocks, and write transformed blocks out. Commands
// (src/commands/*.ts) combine these with the math in src/core/.

import { DataError, UsageError } from './errors.js';
import { progress } from './report/progress.js';
import { BadRowPolicy, type OnError } from './io/bad-rows.js';
import { type DecodedBlock, FeatureDecoder } from './io/features.js';
import { checkOutputTargets, openOutput } from './io/output.js';
import { type RowBlock, type Table, readTable } from './io/read-table.js';
import { type ByteTap, type Format, type Source, checkSourcesReadable, sourcesFrom } from './io/sources.js';
import { type TableWriter, createTableWriter } from './io/write-table.js';
import { type FeatureSelection, INFERENCE_ROWS, resolveColumns, selectFeatures, selectionOf } from './selection.js';

/** The parsed values of the shared input and column options. */
export interface InputSettings {
  format?: Format | undefined;
  delimiter?: string | undefined;
  header: boolean;
  na: ReadonlySet<string>;
  onError: OnError;
  columns?: string[] | undefined;
  exclude?: string[] | undefined;
  /** --group-by: columns kept out of the features. */
  groupBy?: string[] | undefined;
}

export interface OutputSettings {
  output?: string | undefined;
  outputFormat?: Format | undefined;
  precision?: number | undefined;
}

/** An opened input whose feature columns are decided, ready to stream. */
export class FeatureInput {
  readonly sources: Source[];
  readonly table: Table;
  readonly selection: FeatureSelection;
  readonly badRows: BadRowPolicy;
  /** The input options it was opened with (worker threads read the sources again with them). */
  readonly settings: InputSettings;
  /** stdin is copied to a spool as it is read (the first pass of a two-pass command). */
  readonly spooled: boolean;
  /** Data rows delivered so far (bad rows excluded). */
  rowsKept = 0;
  private readonly decoder: FeatureDecoder;
  private readonly lookahead: RowBlock[];
  private expectedRows: number | undefined;

  private constructor(
    sources: Source[],
    table: Table,
    selection: FeatureSelection,
    badRows: BadRowPolicy,
    settings: InputSettings,
    lookahead: RowBlock[],
    spooled: boolean,
  ) {
    this.sources = sources;
    this.settings = settings;
    this.spooled = spooled;
    this.table = table;
    this.selection = selection;
    this.badRows = badRows;
    this.lookahead = lookahead;
    this.decoder = new FeatureDecoder(selection.features, selection.names, settings.na, badRows, table.format === 'ndjson');
  }

  /**
   * Opens the sources and reads up to INFERENCE_ROWS rows ahead when the
   * features must be inferred. `required` names the features a parameter
   * file fixes (they must exist, and must equal --columns if both are given).
   */
  static async open(
    sources: Source[],
    settings: InputSettings,
    required?: { names: string[]; file: string },
    stdinTap?: ByteTap,
  ): Promise<FeatureInput> {
    const badRows = new BadRowPolicy(settings.onError);
    const table = await readTable(sources, {
      format: settings.format,
      delimiter: settings.delimiter,
      header: settings.header,
      badRows,
      stdinTap,
    });
    const lookahead: RowBlock[] = [];
    let selection: FeatureSelection;
    if (required && settings.columns === undefined) {
      const features = resolveRequired(required.names, table.columns, required.file);
      const excluded = settings.exclude ? new Set(resolveColumns(settings.exclude, table.columns, '--exclude')) : new Set();
      const clash = features.find((i) => excluded.has(i));
      if (clash !== undefined) {
        throw new UsageError(`--exclude ${JSON.stringify(table.columns[clash])} conflicts with ${required.file}, which has parameters for it`);
      }
      selection = selectionOf(table.columns, features);
    } else {
      const sample: unknown[][] = [];
      if (settings.columns === undefined) {
        while (sample.length < INFERENCE_ROWS) {
          const next = await table.blocks.next();
          if (next.done) break;
          lookahead.push(next.value);
          const { records, errors } = next.value;
          for (let r = 0; r < records.length; r++) {
            const error = errors?.[r];
            // An unreadable row says nothing about column types; stopping at it
            // now keeps "first bad row first" (skip counts it when decoding).
            if (error === undefined) sample.push(records[r]);
            else if (settings.onError === 'stop') badRows.handle(error);
          }
        }
      }
      selection = selectFeatures(table.columns, settings, sample, settings.na, table.format === 'ndjson');
      if (required) checkSameFeatures(selection, required.names, required.file);
    }
    const input = new FeatureInput(sources, table, selection, badRows, settings, lookahead, stdinTap !== undefined);
    return input;
  }

  /**
   * The records of all sources with their feature values, block by block.
   * Under --on-error stop, a bad row ends it: the rows before it come first,
   * so that a command writes all of them before the error is thrown.
   */
  async *blocks(): AsyncGenerator<DecodedBlock> {
    while (this.lookahead.length > 0) yield* this.decodeBlock(this.lookahead.shift() as RowBlock);
    for await (const block of this.table.blocks) yield* this.decodeBlock(block);
    this.checkExpectedRows();
  }

  /** One block decoded; under stop, its rows before a bad one, then the bad row's error. */
  private *decodeBlock(block: RowBlock): Generator<DecodedBlock> {
    if (this.selection.features.length === 0) throw this.noFeatures();
    const decoded = this.decoder.decode(block);
    this.rowsKept += decoded.block.records.length;
    progress.advance(decoded.block.records.length);
    if (decoded.block.records.length > 0 || decoded.stop === undefined) yield decoded;
    if (decoded.stop) this.badRows.handle(decoded.stop);
  }

  /** After a second pass: it must have seen as many rows as the first. */
  checkExpectedRows(): void {
    if (this.expectedRows !== undefined && this.rowsRead !== this.expectedRows) {
      throw new DataError(
        `the input changed between the two passes (${this.expectedRows} rows in the first, ${this.rowsRead} in the second); do not write to a file while finorm reads it`,
      );
    }
  }

  /** The error for an input without feature columns. */
  noFeatures(): UsageError {
    return new UsageError(
      `no feature columns: none of the columns (${this.table.columns.join(', ')}) holds only numbers in its first ${INFERENCE_ROWS} rows; name them with --columns`,
    );
  }

  /** A second pass over the same input must see as many rows as the first. */
  expectRows(rows: number): void {
    this.expectedRows = rows;
  }

  /** Bad rows skipped under --on-error skip. */
  get rowsSkipped(): number {
    return this.badRows.skipped;
  }

  /** Data rows read so far, good and bad. */
  get rowsRead(): number {
    return this.rowsKept + this.badRows.skipped;
  }
}

/** The input and output files named on the command line, checked before any work. */
export async function prepareFiles(
  files: string[],
  outputs: { option: string; path: string | undefined }[],
): Promise<Source[]> {
  const sources = sourcesFrom(files);
  await checkSourcesReadable(sources);
  await checkOutputTargets(outputs, sources);
  return sources;
}

/** Opens the output (stdout or an atomic file) and the writer for the input's columns. */
export async function openTableWriter(input: FeatureInput, settings: OutputSettings, header: boolean): Promise<TableWriter> {
  const sink = await openOutput(settings.output);
  return createTableWriter(sink, {
    format: settings.outputFormat ?? input.table.format,
    delimiter: input.table.delimiter,
    header,
    columns: input.table.columns,
    slotOf: input.selection.slotOf,
    precision: settings.precision,
  });
}

function resolveRequired(names: string[], columns: string[], file: string): number[] {
  const index = new Map(columns.map((name, i) => [name, i]));
  const missing = names.filter((name) => !index.has(name));
  if (missing.length > 0) {
    throw new DataError(
      `${file} has parameters for ${missing.map((n) => JSON.stringify(n)).join(', ')}, which the input does not have; the input's columns are: ${columns.join(', ')}`,
    );
  }
  return names.map((name) => index.get(name) as number);
}

function checkSameFeatures(selection: FeatureSelection, names: string[], file: string): void {
  const wanted = new Set(names);
  const chosen = new Set(selection.names);
  const extra = selection.names.filter((n) => !wanted.has(n));
  const absent = names.filter((n) => !chosen.has(n));
  if (extra.length === 0 && absent.length === 0) return;
  const parts: string[] = [];
  if (extra.length > 0) parts.push(`${file} has no parameters for ${extra.map((n) => JSON.stringify(n)).join(', ')}`);
  if (absent.length > 0) parts.push(`--columns leaves out ${absent.map((n) => JSON.stringify(n)).join(', ')}, which ${file} has`);
  throw new UsageError(`the selected features do not match the parameter file: ${parts.join('; ')}`);
}
