// What to do with a bad row (a malformed record, a wrong field count, a value
// that is not a number): stop at the first one, skip it and report it, or
// (`null`) make a bad value missing and keep its row, so that a panel keeps
// every date; a record that is malformed as a whole is still skipped.

import { RowError } from '../errors.js';

export type OnError = 'stop' | 'skip' | 'null';

/** How many skipped rows (and missing-made values) the summary reports one by one. */
const EXAMPLES_KEPT = 5;

export class BadRowPolicy {
  readonly mode: OnError;
  skipped = 0;
  readonly examples: RowError[] = [];
  /** --on-error null: values that were not numbers, made missing. */
  madeMissing = 0;
  readonly missingExamples: RowError[] = [];

  constructor(mode: OnError) {
    this.mode = mode;
  }

  /** Rows were skipped or values made missing (what --fail-on-skip reports with exit 3). */
  get any(): boolean {
    return this.skipped + this.madeMissing > 0;
  }

  /** Throws the error under `stop`; counts it otherwise. */
  handle(error: RowError): void {
    if (this.mode === 'stop') throw error;
    this.skipped++;
    if (this.examples.length < EXAMPLES_KEPT) this.examples.push(error);
  }

  /** --on-error null: a value was made missing, its row kept. */
  makeMissing(error: RowError): void {
    this.madeMissing++;
    if (this.missingExamples.length < EXAMPLES_KEPT) this.missingExamples.push(error);
  }

  /**
   * Takes the bad rows and values of one part of the input, found elsewhere
   * (a worker thread): the first few of each, in line order, and how many.
   */
  handleMany(examples: readonly RowError[], count: number, missing: readonly RowError[] = [], missingCount = 0): void {
    for (const error of examples) this.handle(error);
    this.skipped += count - examples.length;
    for (const error of missing) this.makeMissing(error);
    this.madeMissing += missingCount - missing.length;
  }
}
