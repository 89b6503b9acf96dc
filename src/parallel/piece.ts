// What a worker thread does with one piece of a CSV/TSV source: the same
// stages as the single-threaded pipeline (tokenize, decode features, then
// transform and render, or only gather statistics), on whole records whose
// line numbers continue from where the piece starts. The main thread puts the
// results back in order (see parallel-run.ts).

import type { LayerRowStats } from '../core/layer.js';
import { ColumnMoments, type ColumnMomentsState } from '../core/moments.js';
import { QuantileSketch, type QuantileSketchState } from '../core/quantiles.js';
import { FinormError, type InputLocation, RowError } from '../errors.js';
import { BadRowPolicy, type OnError } from '../io/bad-rows.js';
import { CsvTokenizer } from '../io/csv-tokenizer.js';
import { FeatureDecoder } from '../io/features.js';
import { parseDecimal } from '../io/numbers.js';
import { DelimitedRecords } from '../io/read-table.js';
import { groupKey, textOf } from '../groups.js';
import { isEncodingError, notUtf8, utf8ProblemIn } from '../io/sources.js';
import type { Format } from '../io/sources.js';
import { type WriterOptions, rendererFor } from '../io/write-table.js';
import { FastLane, type PlainRows } from './fast-piece.js';
import { OutputBytes } from './output-bytes.js';
import { type RowTransformSpec, buildRowTransform } from './row-transform.js';

/** What the workers make of the rows. */
export type PieceJob =
  /** Transform and render the rows; `summarize` keeps input and output moments. */
  | { kind: 'transform'; transform: RowTransformSpec; writer: WriterOptions; summarize: boolean }
  /** Only the input's moments (fit), and quantile sketches too (stats), and per group with `groupColumns`. */
  | { kind: 'statistics'; sketches: boolean; groupColumns?: number[] };

/** Everything a worker needs to know, sent once. */
export interface PieceSetup {
  format: Format;
  delimiter: string;
  header: boolean;
  /** Fields per record (the table's column count). */
  width: number;
  features: number[];
  names: string[];
  /** For each column: its feature slot, or −1. */
  slotOf: Int32Array;
  na: string[];
  onError: OnError;
  job: PieceJob;
}

export interface Piece {
  id: number;
  /** The source's name, for messages. */
  source: string;
  bytes: Uint8Array;
  /** The physical line of the source on which the piece starts. */
  firstLine: number;
  /** The piece starts at the source's first byte (where a byte-order mark may be). */
  atStart: boolean;
  /** The source's header (or, with --no-header, its first record) is still to come. */
  expectHeader: boolean;
  /** A written output's buffer, to hold this piece's output if it is big enough. */
  spare?: ArrayBuffer;
}

/** A problem that ends the run. */
export type PieceFailure =
  | { kind: 'row'; detail: string; location: InputLocation }
  | { kind: 'overflow'; location: InputLocation }
  | { kind: 'data'; message: string }
  | { kind: 'crash'; message: string };

export interface PieceResult {
  id: number;
  /** The piece's buffer, handed back to be filled again. */
  input: ArrayBuffer;
  /** The piece's spare buffer, handed back if the worker had a bigger one for the output (a spare the output outgrows is dropped there). */
  spare?: ArrayBuffer;
  /** The header (or generated column names), when the piece had it. */
  header?: string[];
  rows: number;
  /** The rendered rows, UTF-8 (empty for a statistics job). */
  output: Uint8Array;
  failure?: PieceFailure;
  /** Bad rows skipped under --on-error skip: the first few, and how many. */
  skippedExamples: { detail: string; location: InputLocation }[];
  skippedCount: number;
  inputMoments?: ColumnMomentsState;
  outputMoments?: ColumnMomentsState;
  /**
   * Per group, in order of first appearance: its key and rows, and its
   * moments as columns g·width … g·width + width − 1 of one set (one message, few arrays).
   */
  groups?: { keys: string[]; rows: number[]; moments: ColumnMomentsState };
  clipped?: Float64Array;
  rowStats?: { zeroVarianceRows: number; emptyRows: number; sigma: ColumnMomentsState };
}

const EMPTY = new Uint8Array(0);

/** Text the general path reads at a time: what the single-threaded reader does, so strings die young. */
const BLOCK_CHARS = 1 << 16;

/** Some of a piece's rows as read, by either lane, before the job makes something of them. */
interface ReadRows {
  rows: number;
  values: Float64Array;
  /** Appends the first `rows` rows, with new feature values, to `output`. */
  render(out: Float64Array, rows: number, output: OutputBytes): void;
  /** Line and column of the value at `index` in `values`. */
  locate(index: number): InputLocation;
  /** Row r's group key (the texts of the group columns). */
  groupOf(row: number): string;
}

/**
 * One array for a block's transformed values, kept from block to block and
 * piece to piece rather than a new one per block for the collector to find.
 */
class ScratchValues {
  private array = new Float64Array(0);

  /** An array of `length` values, valid until the next call. */
  take(length: number): Float64Array {
    if (this.array.length < length) this.array = new Float64Array(Math.max(length, this.array.length * 2));
    return this.array.subarray(0, length);
  }
}

/** What a job has made of a piece so far. */
class PieceWork {
  private readonly width: number;
  private readonly transform;
  private readonly inputMoments: ColumnMoments;
  private readonly outputMoments: ColumnMoments | undefined;
  private readonly groups: Map<string, { rows: number; moments: ColumnMoments }> | undefined;
  rows = 0;

  constructor(
    private readonly job: PieceJob,
    width: number,
    private readonly output: OutputBytes,
    private readonly scratch: ScratchValues,
    private readonly sketches: QuantileSketch[] | undefined,
  ) {
    this.width = width;
    this.transform = job.kind === 'transform' ? buildRowTransform(job.transform, width) : undefined;
    this.inputMoments = new ColumnMoments(width);
    this.outputMoments = job.kind === 'transform' && job.summarize ? new ColumnMoments(width) : undefined;
    this.groups = job.kind === 'statistics' && job.groupColumns ? new Map() : undefined;
  }

  /** Takes a block of rows; returns where a result overflowed, if one did. */
  add(read: ReadRows): InputLocation | undefined {
    const { rows, values } = read;
    const width = this.width;
    if (this.transform) {
      const out = this.scratch.take(rows * width);
      const overflow = this.transform.apply(values, rows, out, read.groupOf);
      if (overflow >= 0) {
        // The rows before the one that overflowed are written, as on one thread.
        const before = Math.floor(overflow / width);
        if (before > 0) read.render(out, before, this.output);
        return read.locate(overflow);
      }
      if (this.outputMoments) {
        this.inputMoments.addRows(values, rows);
        this.outputMoments.addRows(out, rows);
      }
      read.render(out, rows, this.output);
    } else {
      this.inputMoments.addRows(values, rows);
      if (this.sketches) {
        for (let r = 0, base = 0; r < rows; r++, base += width) {
          for (let j = 0; j < width; j++) this.sketches[j].add(values[base + j]);
        }
      }
      if (this.groups) this.addToGroups(read, this.groups);
    }
    this.rows += rows;
    return undefined;
  }

  private addToGroups(read: ReadRows, groups: Map<string, { rows: number; moments: ColumnMoments }>): void {
    const width = this.width;
    for (let r = 0, base = 0; r < read.rows; r++, base += width) {
      const key = read.groupOf(r);
      let group = groups.get(key);
      if (group === undefined) {
        group = { rows: 0, moments: new ColumnMoments(width) };
        groups.set(key, group);
      }
      group.rows++;
      for (let j = 0; j < width; j++) group.moments.add(j, read.values[base + j]);
    }
  }

  finish(result: PieceResult): void {
    result.rows = this.rows;
    result.output = this.output.take();
    if (this.job.kind === 'statistics' || this.outputMoments) result.inputMoments = this.inputMoments.state();
    if (this.outputMoments) result.outputMoments = this.outputMoments.state();
    if (this.groups) {
      const groups = [...this.groups];
      const packed = new ColumnMoments(groups.length * this.width);
      groups.forEach(([, group], g) => {
        for (let j = 0; j < this.width; j++) packed.mergeColumn(g * this.width + j, group.moments, j);
      });
      result.groups = { keys: groups.map(([key]) => key), rows: groups.map(([, g]) => g.rows), moments: packed.state() };
    }
    if (this.transform) {
      result.clipped = this.transform.clipping.counts;
      if (this.transform.rowStats) result.rowStats = rowStatsOf(this.transform.rowStats);
    }
  }
}

/**
 * What a processor gathered over all the pieces it handled, asked for once at
 * the end: the quantile sketches of the columns. Their bucket counts merge
 * exactly, in any order, so they need not travel with each piece (for a wide
 * table a piece's sketches outweighed its text: 2,000 columns took 119 s and
 * 4.4 GB with workers against 6 s on one thread).
 */
export interface ProcessorTotals {
  sketches?: QuantileSketchState[];
}

export interface PieceProcessor {
  process(piece: Piece): PieceResult;
  totals(): ProcessorTotals;
}

/**
 * Prepares a worker's state once; returns what handles each piece and, at
 * the end, the totals. `fastLane: false` sends every piece down the general
 * path (tests compare the two).
 */
export function pieceProcessor(setup: PieceSetup, { fastLane: useFastLane = true } = {}): PieceProcessor {
  const width = setup.features.length;
  const na = new Set(setup.na);
  const job = setup.job;
  const renderer = job.kind === 'transform' ? rendererFor(job.writer) : undefined;
  const fastLane = useFastLane ? fastLaneOf(setup, na) : undefined;
  const output = new OutputBytes();
  const scratch = new ScratchValues();
  // Rows go into the sketches as they are read, so a piece must not be read twice: the
  // fast lane declines a statistics job only before it adds rows (it has nothing to render).
  const sketches = job.kind === 'statistics' && job.sketches ? Array.from({ length: width }, () => new QuantileSketch()) : undefined;
  const groupColumns = job.kind === 'statistics' ? (job.groupColumns ?? []) : job.transform.kind === 'batch-groups' ? job.transform.groupColumns : [];

  /**
   * The general path: everything the single-threaded reader accepts or
   * rejects, block by block. A failure that ends the piece goes in `result`.
   */
  const readGeneral = (piece: Piece, result: PieceResult, work: PieceWork, badRows: BadRowPolicy): void => {
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: !piece.atStart }).decode(piece.bytes);
    } catch (error) {
      if (isEncodingError(error)) throw notUtf8(piece.source, utf8ProblemIn(piece.bytes, piece.firstLine));
      throw error;
    }
    const tokenizer = new CsvTokenizer(setup.delimiter, piece.firstLine);
    const records = new DelimitedRecords(piece.source, setup.format, setup.delimiter, setup.header, piece.expectHeader ? -1 : setup.width);
    const decoder = new FeatureDecoder(setup.features, setup.names, na, badRows, false);
    /** Decodes, transforms and renders what the tokenizer has found; false after an overflow. */
    const drain = (): boolean => {
      for (const event of records.queue.drain()) {
        if (event.kind === 'header') {
          result.header = event.columns;
          continue;
        }
        const { block: kept, values, stop } = decoder.decode(event.block);
        const overflow = work.add({
          rows: kept.records.length,
          values,
          render: (out, rows, output) => output.appendText(renderer?.rows(rows === kept.records.length ? kept.records : kept.records.slice(0, rows), out) ?? ''),
          locate: (index) => ({ file: piece.source, line: kept.lines[Math.floor(index / width)], column: setup.names[index % width] }),
          groupOf: (row) =>
            groupColumns.length === 1
              ? textOf(kept.records[row][groupColumns[0]])
              : groupKey(groupColumns.length, (i) => textOf(kept.records[row][groupColumns[i]])),
        });
        if (overflow) {
          result.failure = { kind: 'overflow', location: overflow };
          return false;
        }
        if (stop) {
          // The first bad row under --on-error stop: the rows before it are done.
          result.failure = { kind: 'row', detail: stop.detail, location: stop.location as InputLocation };
          return false;
        }
      }
      return true;
    };
    for (let start = 0; start < text.length; start += BLOCK_CHARS) {
      tokenizer.push(text.slice(start, start + BLOCK_CHARS), records.onRecord);
      if (!drain()) return;
    }
    tokenizer.end(records.onRecord);
    drain();
  };

  /** The fast lane: the whole piece at once, or FastLaneDeclined. */
  const readFast = (piece: Piece, lane: FastLane, work: PieceWork): void => {
    const bytes = Buffer.from(piece.bytes.buffer, piece.bytes.byteOffset, piece.bytes.byteLength);
    const read: PlainRows | undefined = lane.read(bytes);
    if (read === undefined) throw new FastLaneDeclined();
    work.add({
      rows: read.rows,
      values: read.values,
      render: (out, rows, output) => {
        if (rows !== read.rows) throw new FastLaneDeclined();
        if (!lane.write(piece.bytes, read, out, output)) throw new FastLaneDeclined();
      },
      // The fast lane keeps no line numbers: the general path reads the piece again and finds the place.
      locate: () => {
        throw new FastLaneDeclined();
      },
      groupOf: (row) =>
        groupColumns.length === 1
          ? lane.fieldText(bytes, row, groupColumns[0])
          : groupKey(groupColumns.length, (i) => lane.fieldText(bytes, row, groupColumns[i])),
    });
  };

  const run = (piece: Piece, lane: FastLane | undefined, spare: ArrayBuffer | undefined): PieceResult => {
    const result: PieceResult = {
      id: piece.id,
      input: piece.bytes.buffer as ArrayBuffer,
      spare,
      rows: 0,
      output: EMPTY,
      skippedExamples: [],
      skippedCount: 0,
    };
    const badRows = new BadRowPolicy(setup.onError);
    output.clear();
    const work = new PieceWork(job, width, output, scratch, sketches);
    try {
      if (lane) readFast(piece, lane, work);
      else readGeneral(piece, result, work, badRows);
      // After a failure, the rows before it still go out (the main thread writes them, then stops).
      work.finish(result);
      result.skippedCount = badRows.skipped;
      result.skippedExamples = badRows.examples.map((error) => ({ detail: error.detail, location: error.location as InputLocation }));
    } catch (error) {
      if (error instanceof FastLaneDeclined) throw error;
      result.failure = failureOf(error);
    }
    return result;
  };

  const process = (piece: Piece): PieceResult => {
    // The output goes into the piece's spare buffer if it brought one; one it does not need goes back.
    const spare = output.start(piece.spare);
    if (fastLane && !piece.expectHeader) {
      try {
        return run(piece, fastLane, spare);
      } catch (error) {
        if (!(error instanceof FastLaneDeclined)) throw error;
      }
    }
    return run(piece, undefined, spare);
  };
  return { process, totals: () => (sketches ? { sketches: sketches.map((sketch) => sketch.state()) } : {}) };
}

/** The fast lane gives the piece back to the general path. */
class FastLaneDeclined extends Error {}

/**
 * The fast lane, or undefined when it cannot apply: a missing token that is a
 * number, or delimited output other than the input's own format.
 */
function fastLaneOf(setup: PieceSetup, na: ReadonlySet<string>): FastLane | undefined {
  if (setup.format === 'ndjson' || setup.delimiter.charCodeAt(0) > 127) return undefined;
  // A missing token that is a number (-999) must be looked up before parsing.
  if (setup.na.some((token) => !Number.isNaN(parseDecimal(token)))) return undefined;
  let precision: number | undefined;
  let jsonKeys: Uint8Array[] | undefined;
  if (setup.job.kind === 'transform') {
    const { writer } = setup.job;
    precision = writer.precision;
    if (writer.format === 'ndjson') {
      const encoder = new TextEncoder();
      jsonKeys = writer.columns.map((name) => encoder.encode(JSON.stringify(name) + ':'));
    } else {
      const outputDelimiter = writer.format === 'tsv' ? '\t' : writer.delimiter;
      if (outputDelimiter !== setup.delimiter) return undefined;
      // A lone empty field is written as "" so that it does not read back as a blank line.
      if (setup.width < 2) return undefined;
    }
  }
  return new FastLane({
    delimiter: setup.delimiter.charCodeAt(0),
    width: setup.width,
    slotOf: setup.slotOf,
    features: setup.features.length,
    na,
    precision,
    jsonKeys,
  });
}

function rowStatsOf(stats: LayerRowStats): PieceResult['rowStats'] {
  return { zeroVarianceRows: stats.zeroVarianceRows, emptyRows: stats.emptyRows, sigma: stats.sigma.state() };
}

function failureOf(error: unknown): PieceFailure {
  if (error instanceof RowError) return { kind: 'row', detail: error.detail, location: error.location as InputLocation };
  if (error instanceof FinormError) return { kind: 'data', message: error.message };
  return { kind: 'crash', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}
