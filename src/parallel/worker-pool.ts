// A few worker threads that process pieces of input; answers come back in
// the order the pieces were given to each worker.

import { Worker } from 'node:worker_threads';
import type { Piece, PieceResult, PieceSetup } from './piece.js';

const WORKER_URL = new URL('./worker.js', import.meta.url);

// A worker holds one piece (about a megabyte of text) and what it renders at a
// time: a small young generation (measured: 4 MB against the default) keeps
// the process's peak memory down at no cost in speed. The old generation keeps
// the default limit, so that a record of many megabytes fits as it does on one thread.
const WORKER_YOUNG_GENERATION_MB = 4;

interface Waiting {
  resolve: (result: PieceResult) => void;
  reject: (error: Error) => void;
}

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly waiting: Waiting[][] = [];
  private failure: Error | undefined;

  constructor(setup: PieceSetup, size: number) {
    for (let i = 0; i < size; i++) {
      const worker = new Worker(WORKER_URL, {
        workerData: setup,
        resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
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

  /** Hands `piece` to the least busy worker; its bytes (and spare buffer) move there without a copy. */
  process(piece: Piece): Promise<PieceResult> {
    if (this.failure) return Promise.reject(this.failure);
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
