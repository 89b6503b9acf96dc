// The summary's --histogram: every feature value a pass sees goes into a
// quantile sketch per column (constant memory, so the run still streams),
// the input's and the output's apart, and the summary draws one histogram of
// each at the end.
//
// Process-wide, like the progress line: the passes that gather the sketches
// (pipeline/passes.ts) and the summary that draws them (report.ts) are far
// apart, and the commands in between need not carry them. cli.ts switches it
// on once per run; nothing is sketched unless it is on.

import { QuantileSketch } from '../core/quantiles.js';
import { type Histogram, histogram } from './histogram.js';

/** One sketch per feature column, fed row-major blocks of values (NaN = missing). */
export class ColumnSketches {
  constructor(readonly sketches: QuantileSketch[]) {}

  /** Column j's histogram, undefined when it has no value. */
  histogramOf(j: number): Histogram | undefined {
    const sketch = this.sketches[j];
    if (sketch === undefined || sketch.count === 0) return undefined;
    return histogram(sketch, sketch.min, sketch.max);
  }
}

/** What the summary shows per column with --histogram. */
export interface ColumnHistograms {
  input?: Histogram;
  output?: Histogram;
}

class SummaryDistributions {
  private wanted = false;
  private input: ColumnSketches | undefined;
  private output: ColumnSketches | undefined;

  /** Once per run: whether histograms were asked for (--histogram with a summary or --stats). */
  configure(wanted: boolean): void {
    this.wanted = wanted;
    this.input = undefined;
    this.output = undefined;
  }

  /** Whether a pass should gather sketches of what it sees. */
  get enabled(): boolean {
    return this.wanted;
  }

  /**
   * The sketches of one pass over the input (and of its output, if it writes
   * one). A later pass replaces an earlier one: batch's transforming pass
   * sees the same input as its fit.
   */
  record(input: QuantileSketch[], output?: QuantileSketch[]): void {
    if (!this.wanted) return;
    this.input = new ColumnSketches(input);
    this.output = output ? new ColumnSketches(output) : undefined;
  }

  /** The histograms of `width` columns, or undefined when nothing was sketched. */
  histograms(width: number): ColumnHistograms[] | undefined {
    const { input, output } = this;
    if (input === undefined || input.sketches.length !== width) return undefined;
    return Array.from({ length: width }, (_, j) => {
      const before = input.histogramOf(j);
      const after = output?.histogramOf(j);
      return { ...(before ? { input: before } : {}), ...(after ? { output: after } : {}) };
    });
  }
}

/** The one set of summary sketches of this process. */
export const summaryDistributions = new SummaryDistributions();
