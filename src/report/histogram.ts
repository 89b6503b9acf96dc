// A column's distribution at a glance: a one-line Unicode histogram (▁▂▃▅▇)
// of 20 bins between its min and max, counted from the buckets of its
// streaming quantile sketch (so it needs only the sketch, never the data).
// A bin that holds any value shows at least ▁: an outlier is what a reader
// looks for. Columns of positive values spanning three or more orders of
// magnitude (market caps, volumes) get logarithmic bins, where their shape is
// visible.

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
export const HISTOGRAM_BINS = 20;

export interface Histogram {
  /** One character per bin; a space for an empty bin. */
  bars: string;
  /** Bins evenly spaced in log10 rather than linearly. */
  log: boolean;
}

/** Values with counts: a quantile sketch's buckets (core/quantiles.ts), or any other tally. */
export interface Tally {
  forEachBucket(visit: (value: number, count: number) => void): void;
}

/**
 * The histogram of the values tallied by `tally`, whose min and max are
 * `min` and `max`. Undefined when there is nothing to draw.
 */
export function histogram(tally: Tally, min: number, max: number): Histogram | undefined {
  if (!(min <= max) || !Number.isFinite(min) || !Number.isFinite(max)) return undefined;
  if (min === max) return { bars: BARS[BARS.length - 1].padEnd(HISTOGRAM_BINS, ' '), log: false };
  const log = min > 0 && max / min >= 1000;
  const scale = (x: number): number => (log ? Math.log10(x) : x);
  const low = scale(min);
  const span = scale(max) - low;
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  const binOf = (x: number): number => Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor(((scale(x) - low) / span) * HISTOGRAM_BINS)));
  tally.forEachBucket((value, count) => {
    if (!Number.isNaN(value)) counts[binOf(value)] += count;
  });
  // min and max are values of the column, exactly: their bins hold something, whatever a bucket's rounding did.
  counts[0] ||= 1;
  counts[HISTOGRAM_BINS - 1] ||= 1;
  const most = Math.max(...counts);
  // Heights in sevenths of the fullest bin above the lowest block, which any value at all shows.
  const bars = counts.map((c) => (c === 0 ? ' ' : BARS[Math.round((c / most) * (BARS.length - 1))])).join('');
  return { bars, log };
}
