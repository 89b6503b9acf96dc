// A column's distribution at a glance: a one-line Unicode histogram (▁▂▃▅▇)
// of 20 bins between its min and max, drawn from 200 of its quantiles (so it
// needs only the streaming sketch, never the data). Columns of positive
// values spanning three or more orders of magnitude (market caps, volumes)
// get logarithmic bins, where their shape is visible.

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
const POINTS = 200;
export const HISTOGRAM_BINS = 20;

export interface Histogram {
  /** One character per bin; a space for an empty bin. */
  bars: string;
  /** Bins evenly spaced in log10 rather than linearly. */
  log: boolean;
}

/**
 * The histogram of a distribution given by its quantile function (NaN where
 * unknown), its min and max. Undefined when there is nothing to draw.
 */
export function histogram(quantile: (q: number) => number, min: number, max: number): Histogram | undefined {
  if (!(min <= max) || !Number.isFinite(min) || !Number.isFinite(max)) return undefined;
  if (min === max) return { bars: BARS[BARS.length - 1].padEnd(HISTOGRAM_BINS, ' '), log: false };
  const log = min > 0 && max / min >= 1000;
  const scale = (x: number): number => (log ? Math.log10(x) : x);
  const low = scale(min);
  const span = scale(max) - low;
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (let k = 0; k < POINTS; k++) {
    const x = quantile((k + 0.5) / POINTS);
    if (Number.isNaN(x)) continue;
    const bin = Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor(((scale(x) - low) / span) * HISTOGRAM_BINS)));
    counts[bin]++;
  }
  const most = Math.max(...counts);
  if (most === 0) return undefined;
  const bars = counts.map((c) => (c === 0 ? ' ' : BARS[Math.min(BARS.length - 1, Math.floor((c / most) * (BARS.length - 1) + 0.5))])).join('');
  return { bars, log };
}
