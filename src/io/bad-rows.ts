// What to do with a bad row (a malformed record, a wrong field count, a value
// that is not a number): stop at the first one, or skip it and report it.

import { RowError } from '../errors.js';

export type OnError = 'stop' | 'skip';

/** How many skipped rows the summary reports one by one. */
const EXAMPLES_KEPT = 5;

export class BadRowPolicy {
  readonly mode: OnError;
  skipped = 0;
  readonly examples: RowError[] = [];

  constructor(mode: OnError) {
    this.mode = mode;
  }

  /** Throws the error under `stop`; counts it under `skip`. */
  handle(error: RowError): void {
    if (this.mode === 'stop') throw error;
    this.skipped++;
    if (this.examples.length < EXAMPLES_KEPT) this.examples.push(error);
  }

  /**
   * Takes the bad rows of one part of the input, found elsewhere (a worker
   * thread): its first few errors, in line order, and how many there were.
   */
  handleMany(examples: readonly RowError[], count: number): void {
    for (const error of examples) this.handle(error);
    this.skipped += count - examples.length;
  }
}
