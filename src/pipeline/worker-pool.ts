// A few worker threads that process pieces; answers come back in the order
// the pieces were given to each worker.

import { serialize } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { resetHeapFlagsForWorkers } from '../memory.js';
import type { Piece, PieceResult, PieceSetup, ProcessorTotals } from './job.js';
import { GROUP_TABLE_MOST_BYTES } from './statistics.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);

// A worker holds a piece (half a megabyte of text) and what it renders at a
// time. Small heap limits keep the process's peak memory down at no cost in
// speed: a small young generation, and an old generation of a few times what
// a worker keeps: its code and a piece's state, the setup, a quantile sketch
// per column, a piece's rows, and a per-group job's table of groups (up to
// its budget: beyond it the table goes to the main thread). V8 collects in
// proportion to the limit, so the limit keeps a worker small rather than
// being a ceiling it nears; without one, a worker grows to hundreds of
// megabytes before its first full collection. A per-group transform's
// constants for every group are in shared memory, outside the heaps.
const WORKER_YOUNG_GENERATION_MB = 4;
const WORKER_OLD_GENERATION_MB = 24;
/** Room for a column's quantile sketch and its state (a few hundred buckets), generously. */
const SKETCH_BYTES = 1 << 13;

/** What a worker keeps besides a piece, for its heap limit and for the message if it runs out of memory anyway. */
export function workerLoad(setup: PieceSetup): { bytes: number; holds: string } {
  const { job, table } = setup;
  // Shared memory (a per-group transform's constants) is in no heap: sizing the rest.
  const transform = job.kind === 'transform' ? job.transform : undefined;
  const own = transform?.kind === 'batch-groups' ? { ...setup, job: { ...job, transform: { ...transform, index: undefined, scalings: undefined } } } : setup;
  let bytes = 4 * serialize(own).length;
  const holds: string[] = [];
  const grouped = job.kind === 'statistics' ? job.groups !== undefined : transform?.kind !== 'layer' && transform?.kind !== 'batch';
  if (grouped) {
    // The table of groups (its typed arrays are outside the heap) and the copy it is sent as.
    bytes += 2 * GROUP_TABLE_MOST_BYTES;
    holds.push('a table of the groups it met');
  }
  const sketches = job.kind === 'statistics' ? job.sketches : job.histogram;
  if (sketches) {
    bytes += 2 * table.features.length * SKETCH_BYTES;
    holds.push(`quantile sketches of ${table.features.length.toLocaleString('en-US')} columns`);
  }
  return { bytes, holds: holds.length === 0 ? 'a piece of the input' : holds.join(' and ') };
}

interface Waiting {
  resolve: (answer: PieceResult & ProcessorTotals) => void;
  reject: (error: Error) => void;
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly waiting: Waiting[][] = [];
  private failure: Error | undefined;

  /** `size` workers for `setup` (pieces beyond a worker's heap are the caller's to process elsewhere). */
  constructor(setup: PieceSetup, size: number) {
    const maxOldGenerationSizeMb = WORKER_OLD_GENERATION_MB + Math.ceil(workerLoad(setup).bytes / (1 << 20));
    // A user's NODE_OPTIONS=--max-old-space-size is for the main thread: the workers get these limits.
    resetHeapFlagsForWorkers();
    for (let i = 0; i < size; i++) {
      const worker = new Worker(WORKER_URL, {
        workerData: setup,
        resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB, maxOldGenerationSizeMb },
        stdout: false,
        stderr: false,
      });
      const queue: Waiting[] = [];
      worker.on('message', (answer: PieceResult & ProcessorTotals) => queue.shift()?.resolve(answer));
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => {
        if (queue.length > 0) this.fail(new Error(`a worker thread stopped (exit code ${code})`));
      });
      this.workers.push(worker);
      this.waiting.push(queue);
    }
  }

  /** Hands `piece` to the least busy worker, its bytes (and spare buffer) moving there without a copy. */
  process(piece: Piece): { result: Promise<PieceResult>; worker: number } {
    if (this.failure) return { result: Promise.reject(this.failure), worker: 0 };
    let best = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.waiting[i].length < this.waiting[best].length) best = i;
    const result = new Promise<PieceResult>((resolve, reject) => {
      this.waiting[best].push({ resolve, reject });
      const transfer = [piece.bytes.buffer as ArrayBuffer];
      if (piece.spare !== undefined) transfer.push(piece.spare);
      // A Parquet block's columns move too (each array has a buffer of its own).
      for (const column of piece.block?.columns ?? []) {
        for (const array of [column.valid, column.values, column.offsets, column.data]) if (array !== undefined) transfer.push(array.buffer as ArrayBuffer);
      }
      this.workers[best].postMessage(piece, transfer);
    });
    return { result, worker: best };
  }

  /** What each worker gathered over its pieces (asked once all pieces are answered). */
  totals(): Promise<ProcessorTotals[]> {
    return Promise.all(
      this.workers.map(
        (worker, i) =>
          new Promise<ProcessorTotals>((resolve, reject) => {
            if (this.failure) return reject(this.failure);
            this.waiting[i].push({ resolve, reject });
            worker.postMessage('totals');
          }),
      ),
    );
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const queue of this.waiting) for (const waiting of queue.splice(0)) waiting.reject(error);
  }
}
