// The multi-threaded path for large inputs: the main thread reads the files
// (or stdin) and cuts them into pieces of whole records; worker threads
// tokenize and decode each piece, then normalize and render it (layer, batch
// with known statistics, per group too) or gather its statistics (fit, stats,
// batch's first pass, per group too); the
// main thread takes the results in input order, writes them, and merges the
// statistics. Output, errors and the summary are those of the
// single-threaded path: each piece knows the line it starts on, bad rows reach
// the same policy in line order, and moments and sketches merge (Chan et al.;
// sketches exactly).

import { availableParallelism } from 'node:os';
import { promises as fs } from 'node:fs';
import { ColumnMoments } from '../core/moments.js';
import { QuantileSketch } from '../core/quantiles.js';
import { DataError, FinormError, RowError, overflowError } from '../errors.js';
import { checkSameHeader } from '../io/read-table.js';
import { formatFromName, replayedStdin, reusedChunksOf, sharedStdin } from '../io/sources.js';
import type { TableWriter } from '../io/write-table.js';
import type { GroupFit } from '../groups.js';
import type { FeatureInput } from '../pipeline.js';
import { progress } from '../report/progress.js';
import type { Piece, PieceJob, PieceResult, PieceSetup, ProcessorTotals } from './piece.js';
import { PieceBuffers, piecesOf } from './piece-reader.js';
import type { RowTransform, RowTransformSpec } from './row-transform.js';
import { WorkerPool } from './worker-pool.js';

/** Below this much input, starting worker threads costs more than it saves. */
const MIN_PARALLEL_BYTES = 4_000_000;
/**
 * Pieces of about this size go to the workers (FINORM_PIECE_BYTES overrides
 * it, for tests): measured as fast as 1 MB, with every buffer that holds a
 * piece or its output half as big.
 */
const PIECE_BYTES = Number(process.env.FINORM_PIECE_BYTES) || 1 << 19;
const MAX_DEFAULT_THREADS = 4;
/** How long stdin may take to show that it holds MIN_PARALLEL_BYTES (a piped file does in a few ms). */
const STDIN_WAIT_MS = 200;

/**
 * How many worker threads to use for `input`, or 0 for the single-threaded
 * path: that path stays for NDJSON input, --histogram, one core, a small
 * input (unless --threads asks for workers), stdin that a two-pass command
 * spools, and a file whose format is only known by sniffing.
 */
export async function workerCount(input: FeatureInput, requested: number | undefined, histogram: boolean): Promise<number> {
  const count = await decideWorkers(input, requested, histogram);
  // Whoever reads stdin from here on, it is read once: the single-threaded reader needs no replay.
  if (count === 0 && input.sources.some((source) => source.path === undefined)) sharedStdin.forget();
  return count;
}

async function decideWorkers(input: FeatureInput, requested: number | undefined, histogram: boolean): Promise<number> {
  const threads = requested ?? Math.min(availableParallelism(), MAX_DEFAULT_THREADS);
  if (threads < 2 || histogram || input.selection.features.length === 0) return 0;
  const { format, delimiter } = input.table;
  if (format === 'ndjson' || delimiter.charCodeAt(0) > 127) return 0;
  let bytes = 0;
  for (const [i, source] of input.sources.entries()) {
    if (source.path === undefined) {
      // stdin: its format is the table's if it comes first; the size is known by reading ahead.
      if (input.spooled || (i > 0 && input.settings.format === undefined)) return 0;
      if (!(await sharedStdin.readAhead(requested === undefined ? MIN_PARALLEL_BYTES : 0, STDIN_WAIT_MS))) return 0;
      bytes += MIN_PARALLEL_BYTES; // at least: it was read ahead
      continue;
    }
    if ((input.settings.format ?? formatFromName(source.path)) !== format) return 0;
    // A pipe or FIFO (`<(cat a.csv)`, /dev/stdin) cannot be read a second time.
    const stats = await fs.stat(source.path);
    if (!stats.isFile()) return 0;
    bytes += stats.size;
  }
  if (requested === undefined && bytes < MIN_PARALLEL_BYTES) return 0;
  return threads;
}

/** What a transforming command offers to run on worker threads, and where their facts are merged. */
export interface ParallelPlan {
  spec: RowTransformSpec;
  /** The command's own transform: its clipping counts and row facts receive the workers'. */
  transform: RowTransform;
  /** --threads, if given. */
  threads: number | undefined;
}

/** Transforms every row of `input` (read again from its start) on `threads` workers; returns the rows written. */
export async function transformInParallel(
  input: FeatureInput,
  writer: TableWriter,
  plan: ParallelPlan,
  threads: number,
  moments: { input: ColumnMoments; output: ColumnMoments } | undefined,
): Promise<number> {
  let rowsWritten = 0;
  const job: PieceJob = { kind: 'transform', transform: plan.spec, writer: writer.options, summarize: moments !== undefined };
  await runPieces(input, job, threads, async (result, recycle) => {
    if (moments && result.inputMoments && result.outputMoments) {
      moments.input.merge(ColumnMoments.fromState(result.inputMoments));
      moments.output.merge(ColumnMoments.fromState(result.outputMoments));
    }
    const counts = plan.transform.clipping.counts;
    if (result.clipped) for (let j = 0; j < counts.length; j++) counts[j] += result.clipped[j];
    if (result.rowStats && plan.transform.rowStats) {
      const { zeroVarianceRows, emptyRows, sigma } = result.rowStats;
      plan.transform.rowStats.merge({ zeroVarianceRows, emptyRows, sigma: ColumnMoments.fromState(sigma) });
    }
    rowsWritten += result.rows;
    const { output } = result;
    // Once written, the output's buffer goes round again (to hold a piece or an output).
    await writer.writeRendered(output, () => recycle(output.buffer as ArrayBuffer));
  });
  return rowsWritten;
}

/**
 * The moments of every feature column of `input`, gathered on `threads`
 * workers: also quantile sketches if asked, and moments per group (in order of
 * first appearance) given the group columns.
 */
export async function statisticsInParallel(
  input: FeatureInput,
  threads: number,
  withSketches: boolean,
  groupColumns?: number[],
): Promise<{ moments: ColumnMoments; sketches: QuantileSketch[]; groups: Map<string, GroupFit> }> {
  const width = input.selection.features.length;
  const moments = new ColumnMoments(width);
  const sketches = withSketches ? Array.from({ length: width }, () => new QuantileSketch()) : [];
  const groups = new Map<string, GroupFit>();
  const job: PieceJob = { kind: 'statistics', sketches: withSketches, ...(groupColumns ? { groupColumns } : {}) };
  await runPieces(input, job, threads, async (result) => {
    if (result.inputMoments) moments.merge(ColumnMoments.fromState(result.inputMoments));
    const parts = result.groups;
    if (parts === undefined) return;
    const packed = ColumnMoments.fromState(parts.moments);
    parts.keys.forEach((key, g) => {
      let group = groups.get(key);
      if (group === undefined) {
        group = { moments: new ColumnMoments(width), rows: 0 };
        groups.set(key, group);
      }
      group.rows += parts.rows[g];
      for (let j = 0; j < width; j++) group.moments.mergeColumn(j, packed, g * width + j);
    });
  }, withSketches ? (totals) => totals.sketches?.forEach((state, j) => sketches[j].merge(QuantileSketch.fromState(state))) : undefined);
  return { moments, sketches, groups };
}

/** Where each source stands while its pieces are handled in order. */
interface SourceState {
  name: string;
  headerSeen: boolean;
}

/**
 * Reads every source of `input` again from its start, has `threads` workers
 * do `job` on its pieces, and gives `use` each result in input order, after
 * the checks every result needs (header, bad rows, failures); then, if
 * asked, gives `useTotals` what each thread gathered over its pieces.
 */
async function runPieces(
  input: FeatureInput,
  job: PieceJob,
  threads: number,
  use: (result: PieceResult, recycle: (buffer: ArrayBuffer) => void) => Promise<void>,
  useTotals?: (totals: ProcessorTotals) => void,
): Promise<void> {
  const { table, selection } = input;
  const setup: PieceSetup = {
    format: table.format,
    delimiter: table.delimiter,
    header: input.settings.header,
    width: table.columns.length,
    features: [...selection.features],
    names: [...selection.names],
    slotOf: selection.slotOf,
    na: [...input.settings.na],
    onError: input.settings.onError,
    job,
  };
  // The single-threaded reader that found the header and features is done with.
  await input.table.close();
  // A piece bigger than two holds a record longer than a piece: the main thread takes it.
  const pool = new WorkerPool(setup, threads, 2 * PIECE_BYTES);
  // Enough for the pieces in flight, their outputs and what is being written; none
  // kept that a long record made big.
  const buffers = new PieceBuffers(threads * 4 + 4, 8 * PIECE_BYTES);
  const recycle = (buffer: ArrayBuffer): void => buffers.give(buffer);
  const inFlight: { result: Promise<PieceResult>; source: SourceState }[] = [];
  const firstName = table.headerSource;
  let nextId = 0;

  const handle = async (result: PieceResult, source: SourceState): Promise<void> => {
    buffers.give(result.input);
    if (result.spare !== undefined) buffers.give(result.spare);
    if (result.header !== undefined) {
      checkSameHeader(table.columns, result.header, source.name, firstName);
      source.headerSeen = true;
    }
    if (result.skippedCount > 0) {
      input.badRows.handleMany(
        result.skippedExamples.map((e) => new RowError(e.detail, e.location)),
        result.skippedCount,
      );
    }
    input.rowsKept += result.rows;
    progress.advance(result.rows);
    // The rows before a failure are used (written) first, as on one thread.
    await use(result, recycle);
    const { failure } = result;
    switch (failure?.kind) {
      case undefined:
        break;
      case 'row': // the first bad row under --on-error stop: the policy throws it
        input.badRows.handle(new RowError(failure.detail, failure.location));
        break;
      case 'overflow':
        throw overflowError(failure.location);
      case 'data':
        throw new DataError(failure.message);
      case 'crash':
        throw new Error(`a worker thread failed: ${failure.message}`);
    }
  };

  const settleOldest = async (): Promise<void> => {
    const oldest = inFlight.shift();
    if (oldest) await handle(await oldest.result, oldest.source);
  };

  try {
    for (const source of input.sources) {
      const state: SourceState = { name: source.name, headerSeen: false };
      let atStart = true;
      const chunks = source.path === undefined ? replayedStdin() : reusedChunksOf({ ...source, path: source.path });
      for await (const { bytes, firstLine } of piecesOf(chunks, table.delimiter, PIECE_BYTES, buffers)) {
        const piece: Piece = { id: nextId++, source: source.name, bytes, firstLine, atStart, expectHeader: !state.headerSeen };
        if (job.kind === 'transform') piece.spare = buffers.takeBiggest();
        atStart = false;
        const result = pool.process(piece);
        // A worker that dies rejects every piece it holds: those are handled in turn, or dropped.
        result.catch(() => undefined);
        inFlight.push({ result, source: state });
        // Until the header has been seen, later pieces cannot be read (it sets the field count).
        if (!state.headerSeen) while (inFlight.length > 0) await settleOldest();
        while (inFlight.length >= threads * 2) await settleOldest();
      }
    }
    while (inFlight.length > 0) await settleOldest();
    if (useTotals) for (const totals of await pool.totals()) useTotals(totals);
  } catch (error) {
    throw workerFailure(error);
  } finally {
    await pool.close();
  }
  input.checkExpectedRows();
}

/** A worker that ran out of memory or crashed, as one readable error. */
function workerFailure(error: unknown): unknown {
  if (error instanceof FinormError) return error;
  if ((error as NodeJS.ErrnoException)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new DataError('a worker thread ran out of memory (is one record many megabytes long?); run with --threads 1');
  }
  return error;
}
