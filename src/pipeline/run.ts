// The two drivers of the one pipeline. Zero workers: the main thread runs the
// piece processor on each piece in turn. N workers: the main thread reads and
// cuts the input, the workers run the same processor, and the main thread
// takes the results back in input order. Either way every result goes through
// the same checks here (bad rows in line order, failures, progress) before the
// command consumes it (writes its rows, merges its statistics); the result of
// a run does not depend on the driver, the number of threads or the pieces.

import { availableParallelism } from 'node:os';
import { promises as fs } from 'node:fs';
import { DataError, FinormError, RowError, overflowError } from '../errors.js';
import { PIECE_BYTES } from '../io/pieces.js';
import { progress } from '../report/progress.js';
import type { Input, InputPiece } from './input.js';
import type { JobSpec, Piece, PieceResult, PieceSetup, ProcessorTotals } from './job.js';
import { type PieceProcessor, pieceProcessor } from './processor.js';
import { WorkerPool, workerLoad } from './worker-pool.js';

/** Below this much input, starting worker threads costs more than it saves. */
const MIN_PARALLEL_BYTES = 4_000_000;
const MAX_DEFAULT_THREADS = 4;
/** How long stdin may take to show that it holds MIN_PARALLEL_BYTES (a piped file does in a few ms). */
const STDIN_WAIT_MS = 200;
/** A piece more than this is processed on the main thread (a record of megabytes), outside the workers' small heaps. */
const LARGE_PIECE = Math.max(2 * PIECE_BYTES, 4 << 20);

/** How a run was carried out: reported in --stats, so tests (and users) can see which path ran. */
export interface Execution {
  /** Worker threads started (0: all pieces on the main thread). */
  workers: number;
  pieces: number;
  piecesPerWorker: number[];
  piecesOnMainThread: number;
}

export interface RunPlan {
  job: JobSpec;
  /** --threads, if given (1 = none). */
  threads: number | undefined;
  /** The job carries state from piece to piece (causal windows, --sorted): the main thread, in order. */
  sequential: boolean;
}

/**
 * Runs `plan.job` over every piece of `input`, giving `consume` each result
 * in input order, after the checks every result needs; returns how it ran
 * and what each thread gathered over its pieces.
 */
export async function runPipeline(
  input: Input,
  plan: RunPlan,
  consume: (result: PieceResult, recycle: (buffer: ArrayBuffer) => void) => Promise<void>,
): Promise<{ execution: Execution; totals: ProcessorTotals[] }> {
  const workers = await workerCount(input, plan);
  const setup: PieceSetup = { table: input.layout, job: plan.job };
  const pool = workers > 0 ? new WorkerPool(setup, workers) : undefined;
  let local: PieceProcessor | undefined;
  const here = (): PieceProcessor => (local ??= pieceProcessor(setup));
  const execution: Execution = { workers, pieces: 0, piecesPerWorker: new Array<number>(workers).fill(0), piecesOnMainThread: 0 };
  const buffers = input.buffers;
  const recycle = (buffer: ArrayBuffer): void => buffers.give(buffer);
  const inFlight: Promise<PieceResult>[] = [];

  const handle = async (result: PieceResult): Promise<void> => {
    if (result.input.byteLength > 0) buffers.give(result.input);
    if (result.block !== undefined) input.recycleBlock(result.block);
    if (result.spare !== undefined) buffers.give(result.spare);
    if (result.skippedCount > 0 || result.missingCount > 0) {
      input.badRows.handleMany(
        result.skippedExamples.map((e) => new RowError(e.detail, e.location)),
        result.skippedCount,
        result.missingExamples.map((e) => new RowError(e.detail, e.location)),
        result.missingCount,
      );
    }
    input.rowsKept += result.rows;
    if (input.selection.features.length === 0 && (result.rows > 0 || result.skippedCount > 0 || result.failure?.kind === 'row')) {
      throw input.noFeatures();
    }
    progress.advance(result.rows, plan.job.kind === 'transform');
    // The rows before a failure are consumed (written) first.
    await consume(result, recycle);
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
        throw new DataError(failure.message, failure.location);
      case 'crash':
        throw new Error(`a worker thread failed: ${failure.message}`);
    }
  };

  const settleOldest = async (): Promise<void> => {
    const oldest = inFlight.shift();
    if (oldest) await handle(await oldest);
  };

  try {
    const pieces = input.pieces();
    for (;;) {
      let next: IteratorResult<InputPiece>;
      try {
        next = await pieces.next();
      } catch (error) {
        // The input failed further on (a read error, a later file's header): what came before it goes out first.
        while (inFlight.length > 0) await settleOldest();
        throw error;
      }
      if (next.done) break;
      const { source, bytes, firstLine, block } = next.value;
      const piece: Piece = { id: execution.pieces++, source, bytes, firstLine };
      if (block !== undefined) piece.block = block;
      if (plan.job.kind === 'transform') {
        const spare = buffers.takeBiggest();
        if (spare !== undefined) piece.spare = spare;
      }
      if (pool === undefined || bytes.length > LARGE_PIECE) {
        execution.piecesOnMainThread++;
        // In order: what is in flight goes first.
        while (inFlight.length > 0) await settleOldest();
        await handle(here().process(piece));
        continue;
      }
      const { result, worker } = pool.process(piece);
      execution.piecesPerWorker[worker]++;
      // A worker that dies rejects every piece it holds: those are handled in turn.
      result.catch(() => undefined);
      inFlight.push(result);
      while (inFlight.length >= workers * 2) await settleOldest();
    }
    while (inFlight.length > 0) await settleOldest();
    const last = local?.finish();
    if (last) await handle(last);
    const totals = pool ? await pool.totals() : [];
    if (local) totals.push(local.totals());
    input.checkExpectedRows();
    return { execution, totals };
  } catch (error) {
    throw workerFailure(error, setup);
  } finally {
    await pool?.close();
    await input.close();
  }
}

/**
 * How many worker threads to use, or 0 for the main thread alone: for a
 * sequential job, one core, --threads 1, no features, or (unless --threads
 * asks for workers) a small input. stdin's size is known by reading ahead.
 */
async function workerCount(input: Input, plan: RunPlan): Promise<number> {
  if (plan.sequential || input.selection.features.length === 0) return 0;
  const threads = plan.threads ?? Math.min(availableParallelism(), MAX_DEFAULT_THREADS);
  if (threads < 2) return 0;
  if (plan.threads !== undefined) return threads;
  let bytes = 0;
  let streams = false;
  for (const source of input.sources) {
    const stats = source.path === undefined ? undefined : await fs.stat(source.path).catch(() => undefined);
    if (stats?.isFile()) bytes += stats.size;
    else streams = true;
  }
  if (bytes >= MIN_PARALLEL_BYTES) return threads;
  if (streams && (await input.readAhead(MIN_PARALLEL_BYTES, STDIN_WAIT_MS))) return threads;
  return 0;
}

/**
 * A worker that ran out of memory or crashed, as one readable error. Records
 * of megabytes are processed on the main thread, and a worker's table of
 * groups goes there beyond its budget: what remains is what the worker holds
 * for the job, which the message names.
 */
function workerFailure(error: unknown, setup: PieceSetup): unknown {
  if (error instanceof FinormError) return error;
  if ((error as NodeJS.ErrnoException)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new DataError(`a worker thread ran out of memory holding ${workerLoad(setup).holds}; run with --threads 1, which works on the main thread's larger heap`);
  }
  return error;
}
