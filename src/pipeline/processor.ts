// The one row loop. A piece of whole records goes through the same stages on
// any thread: bytes → records (CSV field offsets, or NDJSON cells) → decoded
// rows (a Float64Array of feature values) → the job (transform.ts, or
// statistics.ts) → rendered bytes. The in-process driver and every worker
// thread run this code; the driver only puts the results back in input order.

import { isUtf8 } from 'node:buffer';
import { FinormError, type InputLocation, RowError } from '../errors.js';
import { BadRowPolicy } from '../io/bad-rows.js';
import { tokenizeCsv } from '../io/csv.js';
import { readNdjson } from '../io/ndjson.js';
import { OutputBytes } from '../io/output-bytes.js';
import { countLineFeeds } from '../io/pieces.js';
import { firstInvalidUtf8, notUtf8 } from '../io/sources.js';
import { Block, type Work } from './block.js';
import { RowDecoder } from './decode.js';
import type { Piece, PieceFailure, PieceResult, PieceSetup, ProcessorTotals } from './job.js';
import { StatisticsWork } from './statistics.js';
import { TransformWork } from './transform.js';

export interface PieceProcessor {
  process(piece: Piece): PieceResult;
  /** At the end of the input: what a sequential job still holds (--sorted's last group), if anything. */
  finish(): PieceResult | undefined;
  totals(): ProcessorTotals;
}

const EMPTY = new Uint8Array(0);

export function pieceProcessor(setup: PieceSetup): PieceProcessor {
  const { table, job } = setup;
  const block = new Block(table);
  const decoder = new RowDecoder(table);
  const output = new OutputBytes();
  const work: Work = job.kind === 'transform' ? new TransformWork(job, table, output) : new StatisticsWork(job, table);

  /** A text piece's records into the block's rows: the bad row that stops the run, and text that is not UTF-8 (which ends it at its line). */
  const decodeText = (piece: Piece, badRows: BadRowPolicy): { stop: RowError | undefined; encoding: PieceFailure | undefined } => {
    const { bytes } = piece;
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
    const stop = decoder.decode(block.csv ? { bytes, records: block.csvRecords } : block.ndjsonRecords, records, block.rows, badRows, piece.source);
    return { stop, encoding };
  };

  const process = (piece: Piece): PieceResult => {
    const result: PieceResult = { id: piece.id, input: piece.bytes.buffer as ArrayBuffer, rows: 0, output: EMPTY, skippedExamples: [], skippedCount: 0, missingExamples: [], missingCount: 0 };
    const spare = output.start(piece.spare);
    if (spare !== undefined) result.spare = spare;
    const badRows = new BadRowPolicy(table.onError);
    try {
      const { bytes } = piece;
      block.piece = piece;
      block.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      block.columns = piece.block;
      block.csv = table.format !== 'ndjson' && piece.block === undefined;
      // Parquet: the rows are decoded already; only the features are read out of them.
      const { stop, encoding } =
        piece.block !== undefined ? { stop: decoder.decodeBlock(piece.block, block.rows, badRows, piece.source), encoding: undefined } : decodeText(piece, badRows);
      const done = work.take(block);
      result.rows = done.rows;
      result.failure = done.failure ?? (stop ? { kind: 'row', detail: stop.detail, location: stop.location as InputLocation } : encoding);
      work.finishPiece(result);
      // --sorted holds rows of the blocks until their group ends: those blocks are not handed back.
      if (piece.block !== undefined && !(job.kind === 'transform' && job.transform.kind === 'sorted')) result.block = piece.block;
    } catch (error) {
      result.failure = failureOf(error);
    }
    result.output = output.take();
    result.skippedCount = badRows.skipped;
    result.skippedExamples = badRows.examples.map((error) => ({ detail: error.detail, location: error.location as InputLocation }));
    result.missingCount = badRows.madeMissing;
    result.missingExamples = badRows.missingExamples.map((error) => ({ detail: error.detail, location: error.location as InputLocation }));
    return result;
  };

  const finish = (): PieceResult | undefined => {
    if (!work.finishInput) return undefined;
    const result: PieceResult = { id: -1, input: new ArrayBuffer(0), rows: 0, output: EMPTY, skippedExamples: [], skippedCount: 0, missingExamples: [], missingCount: 0 };
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

function failureOf(error: unknown): PieceFailure {
  if (error instanceof RowError) return { kind: 'row', detail: error.detail, location: error.location as InputLocation };
  if (error instanceof FinormError) return { kind: 'data', message: error.message };
  return { kind: 'crash', message: error instanceof Error ? (error.stack ?? error.message) : String(error) };
}

