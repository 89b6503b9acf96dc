// How much memory a run may still take, asked where the input decides how
// much must be held (per-group tables, causal windows, a fit's groups): a run
// that would outgrow the JavaScript heap, or the machine, stops with one line
// naming what to change, instead of V8 aborting the process (exit 134 and a
// native stack) or the kernel killing it.

import { constrainedMemory, memoryUsage } from 'node:process';
import { totalmem } from 'node:os';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { DataError } from './errors.js';

/** Beyond this share of the heap limit, a structure that grows with the input stops the run. */
const HEAP_SHARE = 0.8;
/** Beyond this share of the memory the process may have (the machine's, or its cgroup's), likewise. */
const MEMORY_SHARE = 0.85;
/** Growth steps between checks (a check costs microseconds; a step, at most kilobytes). */
const CHECK_EVERY = 4096;

/**
 * What grew, for the message: `2,000,000 groups of 4 columns`, and what would
 * hold less: `group by fewer or coarser columns`; `next`: bytes the structure
 * may take at once on its next step (a hash table doubling), kept free too.
 */
export interface Growth {
  what: string;
  instead: string;
  next?: number;
}

/**
 * Counts steps of a growing structure and, every few thousand, checks that
 * memory is left; `growth` says what grew, for the message.
 */
export class MemoryGuard {
  private steps = 0;

  constructor(private readonly growth: () => Growth) {}

  step(): void {
    if (++this.steps % CHECK_EVERY === 0) checkMemory(this.growth);
  }
}

/** Throws a one-line DataError if the heap or the process's memory is nearly used up. */
export function checkMemory(growth: () => Growth): void {
  const heap = getHeapStatistics();
  const next = growth().next ?? 0;
  const heapFull = heap.used_heap_size + next > HEAP_SHARE * heap.heap_size_limit;
  const available = availableMemory();
  const processFull = memoryUsage.rss() > MEMORY_SHARE * available;
  if (!heapFull && !processFull) return;
  const limit = heapFull ? heap.heap_size_limit : available;
  const mb = Math.round(limit / 2 ** 20).toLocaleString('en-US');
  const raise = heapFull
    ? `raise the JavaScript heap limit (${mb} MB${heapLimitFromUser() ? ', as NODE_OPTIONS or node options set it' : ''}) with NODE_OPTIONS=--max-old-space-size=${Math.round((2 * limit) / 2 ** 20)}`
    : `use a machine with more than ${mb} MB of memory`;
  const { what, instead } = growth();
  throw new DataError(`${what} need more memory than this process has: ${instead}, or ${raise}`);
}

/** The memory the process may use: its cgroup's limit, else the machine's. */
function availableMemory(): number {
  const constrained = typeof constrainedMemory === 'function' ? constrainedMemory() : undefined;
  const total = totalmem();
  return constrained !== undefined && constrained > 0 && constrained < total ? constrained : total;
}

/** Whether the user set the heap's size (NODE_OPTIONS or a node option) rather than V8's default. */
function heapLimitFromUser(): boolean {
  const options = `${process.env.NODE_OPTIONS ?? ''} ${process.execArgv.join(' ')}`;
  return /--max-old-space-size|--max-heap-size/.test(options);
}

/**
 * V8 applies --max-old-space-size, --max-semi-space-size and --max-heap-size
 * (from NODE_OPTIONS too) to every isolate created after them, over a worker's
 * own resourceLimits: a user's NODE_OPTIONS=--max-old-space-size=8192 meant
 * for the main thread would let each worker grow to 8 GB, one of 30 would
 * starve them. Reset before workers are made, they get the limits finorm
 * sizes for them; the main thread keeps the user's.
 */
export function resetHeapFlagsForWorkers(): void {
  setFlagsFromString('--max-old-space-size=0');
  setFlagsFromString('--max-semi-space-size=0');
  setFlagsFromString('--max-heap-size=0');
}
