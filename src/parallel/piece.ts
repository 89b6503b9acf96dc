// What a worker thread does with one piece of a CSV/TSV source: the same
// stages as the single-threaded pipeline (tokenize, decode features,
// transform, render), on whole records whose line numbers continue from where
// the piece starts. The main thread puts the results back in order (see
// parallel-transform.ts).

import { ColumnMoments, type ColumnMomentsState } from '../core/moments.js';
import { DataError, FinormError, type InputLocation, RowError } from '../errors.js';
import { BadRowPolicy, type OnError } from '../io/bad-rows.js';
import { CsvTokenizer } from '../io/csv-tokenizer.js';
import { FeatureDecoder } from '../io/features.js';
import { DelimitedRecords } from '../io/read-table.js';
import type { Format } from '../io/sources.js';
import { type WriterOptions, rendererFor } from '../io/write-table.js';
import { FastLane } from './fast-piece.js';
import { type RowTransformSpec, buildRowTransform } from './row-transform.js';
import type { LayerRowStats } from '../core/layer.js';
import { parseDecimal } from '../io/numbers.js';

/** Everything a worker needs to know, sent once. */
export interface PieceSetup {
  format: Format;
  delimiter: string;
  header: boolean;
  /** Fields per record (the table's column count). */
  width: number;
  features: number[];
  names: string[];
  na: string[];
  onError: OnError;
  writer: WriterOptions;
  transform: RowTransformSpec;
  /** Keep input and output moments for the summary. */
  summarize: boolean;
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
  /** The header (or generated column names), when the piece had it. */
  header?: string[];
  rows: number;
  /** The rendered rows, UTF-8. */
  output: Uint8Array;
  failure?: PieceFailure;
  /** Bad rows skipped under --on-error skip: the first few, and how many. */
  skippedExamples: { detail: string; location: InputLocation }[];
  skippedCount: number;
  inputMoments?: ColumnMomentsState;
  outputMoments?: ColumnMomentsState;
  clipped: Float64Array;
  rowStats?: { zeroVarianceRows: number; emptyRows: number; sigma: ColumnMomentsState };
}

const EMPTY = new Uint8Array(0);

/**
 * Prepares a worker's state once; returns the function that handles each
 * piece. `fastLane: false` sends every piece down the general path (tests
 * compare the two).
 */
export function pieceProcessor(setup: PieceSetup, { fastLane: useFastLane = true } = {}): (piece: Piece) => PieceResult {
  const width = setup.features.length;
  const na = new Set(setup.na);
  const renderer = rendererFor(setup.writer);
  const encoder = new TextEncoder();

  const fastLane = useFastLane ? fastLaneOf(setup, na) : undefined;

  return (piece) => {
    if (fastLane && !piece.expectHeader) {
      const result = fastPiece(piece, fastLane, setup);
      if (result !== undefined) return result;
    }
    const badRows = new BadRowPolicy(setup.onError);
    const transform = buildRowTransform(setup.transform, width);
    const tokenizer = new CsvTokenizer(setup.delimiter, piece.firstLine);
    const result: PieceResult = { id: piece.id, input: piece.bytes.buffer as ArrayBuffer, rows: 0, output: EMPTY, skippedExamples: [], skippedCount: 0, clipped: transform.clipping.counts };
    try {
      const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: !piece.atStart }).decode(piece.bytes);
      const records = new DelimitedRecords(piece.source, setup.format, setup.delimiter, setup.header, piece.expectHeader ? -1 : setup.width);
      tokenizer.push(text, records.onRecord);
      tokenizer.end(records.onRecord);
      let block;
      for (const event of records.queue.drain()) {
        if (event.kind === 'header') result.header = event.columns;
        else block = event.block;
      }
      if (block !== undefined) {
        const decoder = new FeatureDecoder(setup.features, setup.names, na, badRows, false);
        const { block: kept, values } = decoder.decode(block);
        const rows = kept.records.length;
        const out = new Float64Array(values.length);
        const overflow = transform.apply(values, rows, out);
        if (overflow >= 0) {
          result.failure = { kind: 'overflow', location: { file: piece.source, line: kept.lines[Math.floor(overflow / width)], column: setup.names[overflow % width] } };
          return result;
        }
        if (setup.summarize) summarizeInto(result, values, out, rows, width);
        result.rows = rows;
        result.output = encoder.encode(renderer.rows(kept.records, out));
      }
      if (transform.rowStats) result.rowStats = rowStatsOf(transform.rowStats);
      result.skippedCount = badRows.skipped;
      result.skippedExamples = badRows.examples.map((error) => ({ detail: error.detail, location: error.location as InputLocation }));
    } catch (error) {
      result.failure = failureOf(error, piece.source);
    }
    return result;
  };
}

/** The fast lane, or undefined when the output is not the input's own delimited format. */
function fastLaneOf(setup: PieceSetup, na: ReadonlySet<string>): FastLane | undefined {
  const { writer } = setup;
  if (writer.format === 'ndjson' || setup.format === 'ndjson') return undefined;
  const outputDelimiter = writer.format === 'tsv' ? '\t' : writer.delimiter;
  if (outputDelimiter !== setup.delimiter || setup.delimiter.charCodeAt(0) > 127) return undefined;
  // A lone empty field is written as "" so that it does not read back as a blank line.
  if (setup.width < 2) return undefined;
  // A missing token that is a number (-999) must be looked up before parsing.
  if (setup.na.some((token) => !Number.isNaN(parseDecimal(token)))) return undefined;
  return new FastLane({
    delimiter: setup.delimiter.charCodeAt(0),
    width: setup.width,
    slotOf: writer.slotOf,
    features: setup.features.length,
    na,
    precision: writer.precision,
  });
}

/** A plain piece through the fast lane, or undefined if it is not plain. */
function fastPiece(piece: Piece, lane: FastLane, setup: PieceSetup): PieceResult | undefined {
  const bytes = Buffer.from(piece.bytes.buffer, piece.bytes.byteOffset, piece.bytes.byteLength);
  const read = lane.read(bytes);
  if (read === undefined) return undefined;
  const width = setup.features.length;
  const transform = buildRowTransform(setup.transform, width);
  // An overflow is rare: the general path finds and locates it.
  if (transform.apply(read.values, read.rows, read.results) >= 0) return undefined;
  const result: PieceResult = {
    id: piece.id,
    input: piece.bytes.buffer as ArrayBuffer,
    rows: read.rows,
    output: lane.write(piece.bytes, read),
    skippedExamples: [],
    skippedCount: 0,
    clipped: transform.clipping.counts,
  };
  if (setup.summarize) summarizeInto(result, read.values, read.results, read.rows, width);
  if (transform.rowStats) result.rowStats = rowStatsOf(transform.rowStats);
  return result;
}

/** The summary's moments of one piece's input and output. */
function summarizeInto(result: PieceResult, values: Float64Array, out: Float64Array, rows: number, width: number): void {
  const inputMoments = new ColumnMoments(width);
  const outputMoments = new ColumnMoments(width);
  inputMoments.addRows(values, rows);
  outputMoments.addRows(out, rows);
  result.inputMoments = inputMoments.state();
  result.outputMoments = outputMoments.state();
}

function rowStatsOf(stats: LayerRowStats): PieceResult['rowStats'] {
  return { zeroVarianceRows: stats.zeroVarianceRows, emptyRows: stats.emptyRows, sigma: stats.sigma.state() };
}

function failureOf(error: unknown, source: string): PieceFailure {
  if (error instanceof RowError) return { kind: 'row', detail: error.detail, location: error.location as InputLocation };
  if (error instanceof TypeError && (error as NodeJS.ErrnoException).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') {
    return { kind: 'data', message: `${source}: not valid UTF-8 text (if it is Latin-1, convert it first: iconv -f latin1 -t utf-8)` };
  }
  if (error instanceof DataError || error instanceof FinormError) return { kind: 'data', message: error.message };
  return { kind: 'crash', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}
