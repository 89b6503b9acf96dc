// A few worker threads that process pieces of input; answers come back in
// the order the pieces were given to each worker. A piece far bigger than
// the others (a record of many megabytes) is processed on the main thread.

import { serialize } from 'node:v8';
import { Worker } from 'node:worker_threads';
import { type Piece, type PieceResult, type PieceSetup, pieceProcessor } from './piece.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);

// A worker holds one piece (half a megabyte of text) and what it renders at a
// time. Small heap limits keep the process's peak memory down at no cost in
// speed: a small young generation, and an old generation of a few times what
// a worker keeps (its code and a piece's state, about 5 MB, and the setup: a
// per-group transform holds every group's statistics). V8 collects in
// proportion to the limit, so the limit keeps a worker small rather than
// being a ceiling it nears (`layer`, 1M rows: 137 → 123 MB for the process;
// 16 MB gave 114 MB, but less room for a piece of long records).
const WORKER_YOUNG_GENERATION_MB = 4;
const WORKER_OLD_GENERATION_MB = 24;

/**
 * The old generation a worker is given: the base, and room for its copy of
 * the setup (a few times its serialized size, for the objects it becomes).
 */
export function workerOldGenerationMb(setup: PieceSetup): number {
  return WORKER_OLD_GENERATION_MB + Math.ceil((4 * serialize(setup).length) / (1 << 20));
}

interface Waiting {
  resolve: (result: PieceResult) => void;
  reject: (error: Error) => void;
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly waiting: Waiting[][] = [];
  private processHere: ((piece: Piece) => PieceResult) | undefined;
  private failure: Error | undefined;

  /**
   * `size` workers for `setup`. A piece of more than `largePiece` bytes is
   * processed on the main thread, whose heap has no such limit.
   */
  constructor(
    private readonly setup: PieceSetup,
    size: number,
    private readonly largePiece: number,
  ) {
    const maxOldGenerationSizeMb = workerOldGenerationMb(setup);
    for (let i = 0; i < size; i++) {
      const worker = new Worker(WORKER_URL, {
        workerData: setup,
        resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB, maxOldGenerationSizeMb },
        stdout: false,
        stderr: false,
      });
      const queue: Waiting[] = [];
      worker.on('message', (result: PieceResult) => queue.shift()?.resolve(result));
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => {
        if (queue.length > 0) this.fail(new Error(`a worker thread stopped (exit code ${code})`));
      });
      this.workers.push(worker);
      this.waiting.push(queue);
    }
  }

  /**
   * Hands `piece` to the least busy worker, its bytes (and spare buffer)
   * moving there without a copy; or, if it is large, processes it here and now.
   */
  process(piece: Piece): Promise<PieceResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (piece.bytes.length > this.largePiece) {
      this.processHere ??= pieceProcessor(this.setup);
      try {
        return Promise.resolve(this.processHere(piece));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    let best = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.waiting[i].length < this.waiting[best].length) best = i;
    return new Promise((resolve, reject) => {
      this.waiting[best].push({ resolve, reject });
      const transfer = [piece.bytes.buffer as ArrayBuffer];
      if (piece.spare !== undefined) transfer.push(piece.spare);
      this.workers[best].postMessage(piece, transfer);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const queue of this.waiting) for (const waiting of queue.splice(0)) waiting.reject(error);
  }
}
