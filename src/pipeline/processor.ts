// The one row loop. A piece of whole records goes through the same stages on
// any thread: bytes → records (CSV field offsets, or NDJSON cells) → decoded
// rows (a Float64Array of feature values) → the job (a transform, or
// statistics) → rendered bytes. The in-process driver and every worker thread
// run this code; the driver only puts the results back in input order.

import { isUtf8 } from 'node:buffer';
import { type ColumnScaling, Clipping, batchNormalizeRow, batchNormalizeRows, columnScaling } from '../core/batch.js';
import { LayerRowStats, layerNormalizeRows } from '../core/layer.js';
import { ColumnMoments } from '../core/moments.js';
import { QuantileSketch } from '../core/quantiles.js';
import { ExpandingStatistics, type RunningStatistics, WindowStatistics, runningNormalizeRow } from '../core/rolling.js';
import { FinormError, type InputLocation, RowError } from '../errors.js';
import { KEY_SEPARATOR, describeGroup, textOf } from '../groups.js';
import { BadRowPolicy } from '../io/bad-rows.js';
import { CsvRecords, fieldText, tokenizeCsv } from '../io/csv.js';
import { NdjsonRecords, readNdjson } from '../io/ndjson.js';
import { OutputBytes } from '../io/output-bytes.js';
import { countLineFeeds } from '../io/pieces.js';
import { RowWriter } from '../io/render.js';
import { firstInvalidUtf8, notUtf8 } from '../io/sources.js';
import { DecodedRows, RowDecoder } from './decode.js';
import type { GroupParts, JobSpec, Piece, PieceFailure, PieceResult, PieceSetup, ProcessorTotals, TableLayout, TransformSpec } from './job.js';

export interface PieceProcessor {
  process(piece: Piece): PieceResult;
  /** At the end of the input: what a sequential job still holds (--sorted's last group), if anything. */
  finish(): PieceResult | undefined;
  totals(): ProcessorTotals;
}

const EMPTY = new Uint8Array(0);

/** A piece's records and decoded rows, as the job sees them. */
class Block {
  piece!: Piece;
  /** The piece's bytes as a Buffer, for text. */
  text!: Buffer;
  csv = true;
  readonly csvRecords = new CsvRecords();
  readonly ndjsonRecords: NdjsonRecords;
  readonly rows: DecodedRows;

  constructor(readonly table: TableLayout) {
    this.ndjsonRecords = new NdjsonRecords(table.columns);
    this.rows = new DecodedRows(table.features.length);
  }

  /** The physical line of row i. */
  line(i: number): number {
    const r = this.rows.record[i];
    return this.csv ? this.csvRecords.line[r] : this.ndjsonRecords.line[r];
  }

  /** Where row i's value of feature slot j is, for messages. */
  locate(i: number, j?: number): InputLocation {
    const at: InputLocation = { file: this.piece.source, line: this.line(i) };
    if (j !== undefined) at.column = this.table.names[j];
    return at;
  }

  /** Row i's group: the texts of its group columns, joined. */
  groupKey(i: number, columns: readonly number[]): string {
    const r = this.rows.record[i];
    let key = '';
    for (let c = 0; c < columns.length; c++) {
      if (c > 0) key += KEY_SEPARATOR;
      if (this.csv) key += fieldText(this.text, this.csvRecords, this.csvRecords.firstField[r] + columns[c]);
      else key += textOf(this.ndjsonRecords.cells[r * this.table.columns.length + columns[c]]);
    }
    return key;
  }

  /** The raw bytes of row i's record (its line break included). */
  recordBytes(i: number): Uint8Array {
    const r = this.rows.record[i];
    const records = this.csv ? this.csvRecords : this.ndjsonRecords;
    return this.piece.bytes.subarray(records.recordStart[r], records.recordEnd[r]);
  }
}

export function pieceProcessor(setup: PieceSetup): PieceProcessor {
  const { table, job } = setup;
  const block = new Block(table);
  const decoder = new RowDecoder(table);
  const output = new OutputBytes();
  const work: Work = job.kind === 'transform' ? new TransformWork(job, table, output) : new StatisticsWork(job, table);

  const process = (piece: Piece): PieceResult => {
    const result: PieceResult = { id: piece.id, input: piece.bytes.buffer as ArrayBuffer, rows: 0, output: EMPTY, skippedExamples: [], skippedCount: 0 };
    const spare = output.start(piece.spare);
    if (spare !== undefined) result.spare = spare;
    const badRows = new BadRowPolicy(table.onError);
    try {
      const { bytes } = piece;
      block.piece = piece;
      block.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      block.csv = table.format !== 'ndjson';
      // Text that is not UTF-8 ends the run at its line; the records before it are still rows.
      let valid = bytes.length;
      let encoding: PieceFailure | undefined;
      if (!isUtf8(bytes)) {
        valid = firstInvalidUtf8(bytes, true);
        const line = piece.firstLine + countLineFeeds(bytes, valid);
        encoding = { kind: 'data', message: notUtf8(piece.source, { line, byte: bytes[valid] }).message };
      }
      let records: number;
      let recordEnd: Int32Array;
      if (block.csv) {
        tokenizeCsv(bytes, 0, bytes.length, table.delimiter, piece.firstLine, block.csvRecords, Infinity, decoder.numberSlots, table.features.length);
        records = block.csvRecords.count;
        recordEnd = block.csvRecords.recordEnd;
      } else {
        readNdjson(bytes, 0, bytes.length, piece.firstLine, block.ndjsonRecords);
        records = block.ndjsonRecords.count;
        recordEnd = block.ndjsonRecords.recordEnd;
      }
      if (encoding) while (records > 0 && recordEnd[records - 1] > valid) records--;
      const stop = block.csv
        ? decoder.decodeCsv(bytes, block.csvRecords, records, block.rows, badRows, piece.source)
        : decoder.decodeNdjson(block.ndjsonRecords, records, block.rows, badRows, piece.source);
      const done = work.take(block);
      result.rows = done.rows;
      result.failure = done.failure ?? (stop ? { kind: 'row', detail: stop.detail, location: stop.location as InputLocation } : encoding);
      work.finishPiece(result);
    } catch (error) {
      result.failure = failureOf(error);
    }
    result.output = output.take();
    result.skippedCount = badRows.skipped;
    result.skippedExamples = badRows.examples.map((error) => ({ detail: error.detail, location: error.location as InputLocation }));
    return result;
  };

  const finish = (): PieceResult | undefined => {
    if (!work.finishInput) return undefined;
    const result: PieceResult = { id: -1, input: new ArrayBuffer(0), rows: 0, output: EMPTY, skippedExamples: [], skippedCount: 0 };
    output.start(undefined);
    try {
      result.failure = work.finishInput();
      work.finishPiece(result);
    } catch (error) {
      result.failure = failureOf(error);
    }
    result.output = output.take();
    return result;
  };

  return { process, finish, totals: () => work.totals() };
}

/** What a job does with the rows of a piece. */
interface Work {
  /** Takes the block's rows in order; returns how many it processed, and the failure that stopped it, if one did. */
  take(block: Block): { rows: number; failure?: PieceFailure };
  /** Puts what the piece added into its result, and starts afresh for the next piece. */
  finishPiece(result: PieceResult): void;
  /** A sequential job's end of input (writes what it holds); returns a failure, if any. */
  finishInput?: () => PieceFailure | undefined;
  totals(): ProcessorTotals;
}

/** Statistics of a piece: moments of every feature (of clamped values when winsorizing), per group, sketches. */
class StatisticsWork implements Work {
  private moments: ColumnMoments;
  private readonly width: number;
  private readonly sketches: QuantileSketch[] | undefined;
  private readonly groups: GroupTable | undefined;

  constructor(
    private readonly job: JobSpec & { kind: 'statistics' },
    table: TableLayout,
  ) {
    this.width = table.features.length;
    this.moments = new ColumnMoments(this.width);
    this.sketches = job.sketches ? Array.from({ length: this.width }, () => new QuantileSketch()) : undefined;
    this.groups = job.groups ? new GroupTable(this.width, true) : undefined;
  }

  take(block: Block): { rows: number } {
    const { rows } = block;
    const { width, moments, sketches, groups } = this;
    const values = rows.values;
    const clamp = this.job.clamp;
    if (clamp) {
      for (let i = 0; i < rows.count * width; i++) {
        const j = i % width;
        if (values[i] < clamp.lower[j]) values[i] = clamp.lower[j];
        else if (values[i] > clamp.upper[j]) values[i] = clamp.upper[j];
      }
    }
    // Per group, the moments of all rows are the groups' merged (exactly): not kept twice.
    if (!groups) moments.addRows(values, rows.count);
    if (sketches) {
      for (let i = 0, base = 0; i < rows.count; i++, base += width) for (let j = 0; j < width; j++) sketches[j].add(values[base + j]);
    }
    if (groups && this.job.groups) {
      const columns = this.job.groups.indexes;
      for (let i = 0, base = 0; i < rows.count; i++, base += width) groups.addRow(block.groupKey(i, columns), values, base);
    }
    return { rows: rows.count };
  }

  finishPiece(result: PieceResult): void {
    if (this.groups) result.newGroups = this.groups.takeNew();
    else {
      result.moments = this.moments.state();
      this.moments = new ColumnMoments(this.width);
    }
  }

  totals(): ProcessorTotals {
    const totals: ProcessorTotals = {};
    if (this.sketches) totals.sketches = this.sketches.map((s) => s.state());
    if (this.groups) totals.groups = this.groups.parts();
    return totals;
  }
}

/**
 * Rows and (optionally) moments per group, in order of first appearance,
 * kept by a thread over all its pieces; the groups new in each piece are
 * reported with it.
 */
class GroupTable {
  private readonly index = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly rows: number[] = [];
  private readonly moments: ColumnMoments | undefined;
  /** Index of the first group not yet reported as new. */
  private reported = 0;

  constructor(
    private readonly width: number,
    withMoments: boolean,
  ) {
    this.moments = withMoments ? new ColumnMoments(0) : undefined;
  }

  /** Group `key`'s index, the group added if new. */
  private groupOf(key: string): number {
    let g = this.index.get(key);
    if (g === undefined) {
      g = this.keys.length;
      this.index.set(key, g);
      this.keys.push(key);
      this.rows.push(0);
      this.moments?.grow((g + 1) * this.width);
    }
    return g;
  }

  /** Counts a row of group `key`, and adds its values (values[base …]) if moments are kept. */
  addRow(key: string, values: Float64Array | undefined, base: number): void {
    const g = this.groupOf(key);
    this.rows[g]++;
    const moments = this.moments;
    if (moments && values) {
      const at = g * this.width;
      for (let j = 0; j < this.width; j++) moments.add(at + j, values[base + j]);
    }
  }

  /** Adds a whole group's rows and moments. */
  addGroup(key: string, rows: number, moments: ColumnMoments): void {
    const g = this.groupOf(key);
    this.rows[g] += rows;
    for (let j = 0; j < this.width; j++) this.moments?.mergeColumn(g * this.width + j, moments, j);
  }

  /** The groups added since the last call, in order. */
  takeNew(): string[] {
    const added = this.keys.slice(this.reported);
    this.reported = this.keys.length;
    return added;
  }

  /** Every group's rows and moments. */
  parts(): GroupParts {
    const parts: GroupParts = { keys: this.keys, rows: this.rows };
    if (this.moments) parts.moments = this.moments.state();
    return parts;
  }
}

/** A transform of a piece's rows, rendered; with moments, clipping counts and row facts for the summary. */
class TransformWork implements Work {
  private readonly width: number;
  private readonly writer: RowWriter;
  private transformed = new Float64Array(0);
  private clipping: Clipping;
  private rowStats: LayerRowStats | undefined;
  private inputMoments: ColumnMoments | undefined;
  private outputMoments: ColumnMoments | undefined;
  private readonly sketches: QuantileSketch[] | undefined;
  private readonly outputSketches: QuantileSketch[] | undefined;
  /** Rows per group (grouped and causal transforms), and each group's fit (--sorted): kept over all pieces. */
  private readonly groups: GroupTable | undefined;
  private readonly transform: TransformSpec;
  /** Causal: each group's running statistics (they cross pieces). */
  private readonly running = new Map<string, RunningStatistics>();
  /** --sorted: the group being read, its rows held until it ends. */
  private held: HeldGroup | undefined;
  private readonly seenGroups = new Set<string>();
  private readonly heldRecords = new CsvRecords();
  private readonly heldBlock: Block;

  finishInput?: () => PieceFailure | undefined;

  constructor(
    private readonly job: JobSpec & { kind: 'transform' },
    private readonly table: TableLayout,
    private readonly output: OutputBytes,
  ) {
    this.width = table.features.length;
    this.transform = job.transform;
    this.writer = new RowWriter(job.output, table.delimiter);
    this.clipping = new Clipping(job.transform.clip, this.width);
    this.heldBlock = new Block(table);
    const kind = this.transform.kind;
    this.groups = kind === 'layer' || kind === 'batch' ? undefined : new GroupTable(this.width, kind === 'sorted');
    this.startPiece();
    if (job.histogram) {
      this.sketches = Array.from({ length: this.width }, () => new QuantileSketch());
      this.outputSketches = Array.from({ length: this.width }, () => new QuantileSketch());
    }
    if (this.transform.kind === 'sorted') this.finishInput = () => this.flushHeld();
  }

  private startPiece(): void {
    this.clipping = new Clipping(this.transform.clip, this.width);
    this.rowStats = this.transform.kind === 'layer' ? new LayerRowStats() : undefined;
    this.inputMoments = this.job.summarize ? new ColumnMoments(this.width) : undefined;
    this.outputMoments = this.job.summarize ? new ColumnMoments(this.width) : undefined;
  }

  take(block: Block): { rows: number; failure?: PieceFailure } {
    const count = block.rows.count;
    const width = this.width;
    if (this.transformed.length < count * width) this.transformed = new Float64Array(Math.max(count * width, 2 * this.transformed.length));
    const out = this.transformed;
    const values = block.rows.values;
    const spec = this.transform;
    let processed = count;
    let failure: PieceFailure | undefined;
    switch (spec.kind) {
      case 'layer': {
        const overflow = layerNormalizeRows(values, count, width, spec.gamma, spec.beta, spec.epsilon, out, this.rowStats as LayerRowStats, this.clipping);
        if (overflow >= 0) {
          processed = Math.floor(overflow / width);
          failure = { kind: 'overflow', location: block.locate(processed, overflow % width) };
        }
        break;
      }
      case 'batch': {
        const overflow = batchNormalizeRows(values, count, width, spec.scaling, out, this.clipping);
        if (overflow >= 0) {
          processed = Math.floor(overflow / width);
          failure = { kind: 'overflow', location: block.locate(processed, overflow % width) };
        }
        break;
      }
      case 'batch-groups': {
        ({ processed, failure } = this.groupedRows(block, spec, out));
        break;
      }
      case 'causal': {
        ({ processed, failure } = this.causalRows(block, spec, out));
        break;
      }
      case 'sorted':
        return this.sortedRows(block, spec);
    }
    this.summarize(values, out, processed);
    this.writeRows(block, processed, out);
    return failure ? { rows: processed, failure } : { rows: processed };
  }

  private summarize(values: Float64Array, out: Float64Array, rows: number): void {
    this.inputMoments?.addRows(values, rows);
    this.outputMoments?.addRows(out, rows);
    const { sketches, outputSketches, width } = this;
    if (sketches && outputSketches) {
      for (let i = 0, base = 0; i < rows; i++, base += width) {
        for (let j = 0; j < width; j++) {
          sketches[j].add(values[base + j]);
          outputSketches[j].add(out[base + j]);
        }
      }
    }
  }

  private writeRows(block: Block, rows: number, out: Float64Array): void {
    if (block.csv) this.writer.writeCsvRows(this.output, block.piece.bytes, block.csvRecords, block.rows.record, rows, out);
    else this.writer.writeNdjsonRows(this.output, block.ndjsonRecords, block.rows.record, rows, out);
  }

  /** Each row with its group's scaling, or the fallback; a group (or a column of one) the file has no statistics for is an error. */
  private groupedRows(block: Block, spec: TransformSpec & { kind: 'batch-groups' }, out: Float64Array): { processed: number; failure?: PieceFailure } {
    const width = this.width;
    const values = block.rows.values;
    const columns = spec.groups.indexes;
    for (let i = 0; i < block.rows.count; i++) {
      const key = block.groupKey(i, columns);
      const base = i * width;
      let scaling = spec.scalings.get(key);
      if (scaling === undefined) {
        if (spec.fallback === undefined) {
          const message = `group ${describeGroup(spec.groups.names, key)} is not in ${spec.paramsFile}, which has ${spec.scalings.size} groups; use --unseen global to normalize unseen groups with its global statistics`;
          return { processed: i, failure: { kind: 'data', message, location: block.locate(i) } };
        }
        scaling = spec.fallback;
      }
      for (let j = 0; j < width; j++) {
        if (scaling.mean[j] !== scaling.mean[j] && values[base + j] === values[base + j]) {
          const message = `group ${describeGroup(spec.groups.names, key)} had no values in this column when ${spec.paramsFile} was fitted; use --unseen global to normalize it with the global statistics`;
          return { processed: i, failure: { kind: 'data', message, location: block.locate(i, j) } };
        }
      }
      const overflow = batchNormalizeRow(values, base, width, scaling, out, this.clipping);
      if (overflow >= 0) return { processed: i, failure: { kind: 'overflow', location: block.locate(i, overflow - base) } };
      this.groups?.addRow(key, undefined, 0);
    }
    return { processed: block.rows.count };
  }

  /** Each row with its group's running statistics, which it then joins (or joins first). */
  private causalRows(block: Block, spec: TransformSpec & { kind: 'causal' }, out: Float64Array): { processed: number; failure?: PieceFailure } {
    const width = this.width;
    const values = block.rows.values;
    const how = { epsilon: spec.epsilon, ddof: spec.ddof, minPeriods: spec.minPeriods, excludeCurrent: spec.excludeCurrent, clipping: this.clipping };
    for (let i = 0; i < block.rows.count; i++) {
      const key = spec.groups ? block.groupKey(i, spec.groups.indexes) : '';
      let statistics = this.running.get(key);
      if (statistics === undefined) {
        statistics = spec.window !== undefined ? new WindowStatistics(width, spec.window) : new ExpandingStatistics(width);
        this.running.set(key, statistics);
      }
      const base = i * width;
      const overflow = runningNormalizeRow(statistics, values, base, width, how, out);
      if (overflow >= 0) return { processed: i, failure: { kind: 'overflow', location: block.locate(i, overflow - base) } };
      this.groups?.addRow(key, undefined, 0);
    }
    return { processed: block.rows.count };
  }

  /** --sorted: rows are held until their group ends, then fitted and written together. */
  private sortedRows(block: Block, spec: TransformSpec & { kind: 'sorted' }): { rows: number; failure?: PieceFailure } {
    const width = this.width;
    const values = block.rows.values;
    let written = 0;
    for (let i = 0; i < block.rows.count; i++) {
      const key = block.groupKey(i, spec.groups.indexes);
      if (this.held === undefined || key !== this.held.key) {
        if (this.held !== undefined) {
          const failure = this.flushHeld();
          if (failure) return { rows: written, failure };
        }
        if (this.seenGroups.has(key)) {
          const message = `--sorted: the rows of ${describeGroup(spec.groups.names, key)} are not together (it appeared before, then other groups); sort the input by ${spec.groups.names.join(', ')} or leave out --sorted`;
          return { rows: written, failure: { kind: 'data', message, location: block.locate(i) } };
        }
        this.seenGroups.add(key);
        this.held = new HeldGroup(key, width);
      }
      this.held.hold(block, i, values, i * width);
      written++;
    }
    return { rows: written };
  }

  /** Fits the held group, normalizes its rows and writes them. */
  private flushHeld(): PieceFailure | undefined {
    const held = this.held;
    if (held === undefined) return undefined;
    this.held = undefined;
    const spec = this.transform as TransformSpec & { kind: 'sorted' };
    const width = this.width;
    const count = held.count;
    const scaling = scalingOfMoments(held.moments, spec.epsilon, spec.ddof);
    if (this.transformed.length < count * width) this.transformed = new Float64Array(count * width);
    const out = this.transformed;
    const values = held.values.subarray(0, count * width);
    for (let i = 0; i < count; i++) {
      const overflow = batchNormalizeRow(values, i * width, width, scaling, out, this.clipping);
      if (overflow >= 0) {
        return { kind: 'overflow', location: { file: held.source, line: held.lines[i], column: this.table.names[overflow - i * width] } };
      }
    }
    // The held records are whole records again: read them as a piece of their own, and write them.
    const heldBlock = this.heldBlock;
    const bytes = held.bytes.subarray(0, held.length);
    heldBlock.piece = { id: -1, source: held.source, bytes, firstLine: 1 };
    heldBlock.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    heldBlock.csv = this.table.format !== 'ndjson';
    const rows = heldBlock.rows;
    rows.reserve(count);
    for (let i = 0; i < count; i++) rows.record[i] = i;
    rows.count = count;
    if (heldBlock.csv) tokenizeCsv(bytes, 0, bytes.length, this.table.delimiter, 1, heldBlock.csvRecords);
    else readNdjson(bytes, 0, bytes.length, 1, heldBlock.ndjsonRecords);
    this.summarize(values, out, count);
    this.writeRows(heldBlock, count, out);
    this.groups?.addGroup(held.key, count, held.moments);
    return undefined;
  }

  finishPiece(result: PieceResult): void {
    result.clipped = this.clipping.counts;
    if (this.rowStats) result.rowStats = { zeroVarianceRows: this.rowStats.zeroVarianceRows, emptyRows: this.rowStats.emptyRows, sigma: this.rowStats.sigma.state() };
    if (this.inputMoments) result.moments = this.inputMoments.state();
    if (this.outputMoments) result.outputMoments = this.outputMoments.state();
    if (this.groups) result.newGroups = this.groups.takeNew();
    this.startPiece();
  }

  totals(): ProcessorTotals {
    const totals: ProcessorTotals = {};
    if (this.sketches && this.outputSketches) {
      totals.sketches = this.sketches.map((s) => s.state());
      totals.outputSketches = this.outputSketches.map((s) => s.state());
    }
    if (this.groups) totals.groups = this.groups.parts();
    return totals;
  }
}

/** --sorted: the rows of the group being read: their bytes, lines and values, and the group's moments. */
class HeldGroup {
  count = 0;
  bytes = new Uint8Array(1 << 12);
  length = 0;
  lines: number[] = [];
  values: Float64Array;
  readonly moments: ColumnMoments;
  source = '';

  constructor(
    readonly key: string,
    private readonly width: number,
  ) {
    this.values = new Float64Array(64 * Math.max(1, width));
    this.moments = new ColumnMoments(width);
  }

  hold(block: Block, i: number, values: Float64Array, base: number): void {
    const record = block.recordBytes(i);
    // A last record without its line break gets one, so that held records stay apart.
    const needsBreak = record.length === 0 || record[record.length - 1] !== 10;
    const size = record.length + (needsBreak ? 1 : 0);
    if (this.length + size > this.bytes.length) {
      const bigger = new Uint8Array(Math.max(this.length + size, this.bytes.length * 2));
      bigger.set(this.bytes.subarray(0, this.length));
      this.bytes = bigger;
    }
    this.bytes.set(record, this.length);
    this.length += record.length;
    if (needsBreak) this.bytes[this.length++] = 10;
    const width = this.width;
    if ((this.count + 1) * width > this.values.length) {
      const bigger = new Float64Array(Math.max((this.count + 1) * width, this.values.length * 2));
      bigger.set(this.values);
      this.values = bigger;
    }
    for (let j = 0; j < width; j++) {
      const x = values[base + j];
      this.values[this.count * width + j] = x;
      this.moments.add(j, x);
    }
    this.lines.push(block.line(i));
    this.source = block.piece.source;
    this.count++;
  }
}

/** The transform's constants for fitted moments, with γ = 1 and β = 0. */
export function scalingOfMoments(moments: ColumnMoments, epsilon: number, ddof: 0 | 1, bounds?: { lower: ArrayLike<number>; upper: ArrayLike<number> }): ColumnScaling {
  const width = moments.width;
  const means = Array.from({ length: width }, (_, j) => moments.meanParts(j));
  return columnScaling(
    means.map(([hi]) => hi),
    means.map(([, lo]) => lo),
    Array.from({ length: width }, (_, j) => moments.variance(j, ddof)),
    new Array<number>(width).fill(1),
    new Array<number>(width).fill(0),
    epsilon,
    bounds,
  );
}

function failureOf(error: unknown): PieceFailure {
  if (error instanceof RowError) return { kind: 'row', detail: error.detail, location: error.location as InputLocation };
  if (error instanceof FinormError) return { kind: 'data', message: error.message };
  return { kind: 'crash', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}

