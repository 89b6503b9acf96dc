// Causal statistics: the mean and variance of each column over the rows seen
// so far (expanding) or over the N most recent rows (trailing window), updated
// one row at a time, so that a row is normalized only with what was known at
// its time.
//
// Why the window recomputes: removing a value from a running mean and M2
// (Welford's update run backwards) leaves a rounding error behind each time,
// and over millions of rows those errors add up (drift). Each column's
// statistics are therefore rebuilt from the values in the window every N
// rows, which bounds the drift to what N updates can accumulate, at an
// amortized cost of one more pass over each value.

import type { Clipping } from './batch.js';

/**
 * A column whose values pass this magnitude is kept in units of a power of
 * two (its statistics scaled exactly), so that squares of values near 1e308
 * cannot overflow: every column of finite values gets finite statistics.
 */
const HUGE = 2 ** 500;

/** The power of two that brings |x| below HUGE. */
function unitFor(x: number): number {
  let unit = 1;
  while (Math.abs(x) / unit > HUGE) unit *= 2 ** 64;
  return unit;
}

/** What normalization needs from running statistics, per column. */
export interface RunningStatistics {
  /** Adds the row that starts at `base` in `values` (NaN = missing). */
  push(values: Float64Array, base: number): void;
  /** Present values of column j in the statistics. */
  count(j: number): number;
  mean(j: number): number;
  /** The small part of the mean: mean(j) + meanLo(j) is the mean, split so x − mean(j) − meanLo(j) keeps its digits. */
  meanLo(j: number): number;
  variance(j: number, ddof: number): number;
  /** The power of two column j's mean and variance are in units of (1 but for values beyond HUGE). */
  unit(j: number): number;
}

/**
 * All rows so far, by Welford's update with the running mean and M2 each
 * kept as a double-double, so that rounding errors scale with the spread of
 * a column rather than its level. Sequential by nature (each row is
 * normalized with the rows before it), so it needs no merge.
 */
export class ExpandingStatistics implements RunningStatistics {
  private readonly counts: Float64Array;
  private readonly meanHi: Float64Array;
  private readonly meanLow: Float64Array;
  private readonly m2Hi: Float64Array;
  private readonly m2Lo: Float64Array;
  private readonly units: Float64Array;

  constructor(width: number) {
    this.counts = new Float64Array(width);
    this.meanHi = new Float64Array(width);
    this.meanLow = new Float64Array(width);
    this.m2Hi = new Float64Array(width);
    this.m2Lo = new Float64Array(width);
    this.units = new Float64Array(width).fill(1);
  }

  push(values: Float64Array, base: number): void {
    const { counts, meanHi, meanLow, m2Hi, m2Lo, units } = this;
    for (let j = 0; j < counts.length; j++) {
      let x = values[base + j];
      if (x !== x) continue;
      if (Math.abs(x) > HUGE * units[j]) {
        // Into larger units: the statistics scaled by a power of two, exactly.
        const unit = unitFor(x);
        const f = units[j] / unit;
        meanHi[j] *= f;
        meanLow[j] *= f;
        m2Hi[j] *= f * f;
        m2Lo[j] *= f * f;
        units[j] = unit;
      }
      x /= units[j];
      const n = ++counts[j];
      // delta = x − mean, from the double-double mean, rounded once.
      let hi = meanHi[j];
      let lo = meanLow[j];
      let s = x - hi;
      let bb = s - x;
      let e = x - (s - bb) - (hi + bb);
      const delta = s + (e - lo);
      // mean += delta / n, accumulated into hi + lo.
      const q = delta / n;
      s = hi + q;
      bb = s - hi;
      e = hi - (s - bb) + (q - bb);
      lo += e;
      hi = s + lo;
      lo -= hi - s;
      meanHi[j] = hi;
      meanLow[j] = lo;
      // M2 += delta · (x − new mean), with a compensated sum.
      s = x - hi;
      bb = s - x;
      e = x - (s - bb) - (hi + bb);
      const term = delta * (s + (e - lo));
      const m = m2Hi[j];
      const sum = m + term;
      bb = sum - m;
      const low = m2Lo[j] + (m - (sum - bb) + (term - bb));
      m2Hi[j] = sum + low;
      m2Lo[j] = low - (m2Hi[j] - sum);
    }
  }

  count(j: number): number {
    return this.counts[j];
  }

  mean(j: number): number {
    return this.meanHi[j];
  }

  meanLo(j: number): number {
    return this.meanLow[j];
  }

  variance(j: number, ddof: number): number {
    const n = this.counts[j];
    if (n === 0) return NaN;
    if (n <= ddof) return 0;
    return (this.m2Hi[j] + this.m2Lo[j]) / (n - ddof);
  }

  unit(j: number): number {
    return this.units[j];
  }
}

/** The `size` most recent rows, kept in a ring buffer. */
export class WindowStatistics implements RunningStatistics {
  private readonly width: number;
  private readonly size: number;
  /** size × width, row-major; the row at `next` is the oldest once full. */
  private readonly ring: Float64Array;
  private rowsHeld = 0;
  private next = 0;
  private readonly counts: Float64Array;
  /**
   * Values enter the updates as x − shift, with shift a recent value of the
   * column (exact when x is near it), so that rounding errors scale with the
   * spread of the window rather than its level: prices near 1e9 moving by
   * 1e-3 keep their digits.
   */
  private readonly shifts: Float64Array;
  /** Mean of x − shift. */
  private readonly means: Float64Array;
  private readonly m2s: Float64Array;
  /** The ring holds values as they are; shift, mean and M2 are in these units (see HUGE). */
  private readonly units: Float64Array;

  constructor(width: number, size: number) {
    this.width = width;
    this.size = size;
    this.ring = new Float64Array(width * size).fill(NaN);
    this.counts = new Float64Array(width);
    this.shifts = new Float64Array(width);
    this.means = new Float64Array(width);
    this.m2s = new Float64Array(width);
    this.units = new Float64Array(width).fill(1);
  }

  push(values: Float64Array, base: number): void {
    const { width, ring, counts, shifts, means, m2s, units } = this;
    const slot = this.next * width;
    const full = this.rowsHeld === this.size;
    for (let j = 0; j < width; j++) {
      const incoming = values[base + j];
      if (Math.abs(incoming) > HUGE * units[j]) {
        // Into larger units: the statistics scaled by a power of two, exactly.
        const unit = unitFor(incoming);
        const f = units[j] / unit;
        shifts[j] *= f;
        means[j] *= f;
        m2s[j] *= f * f;
        units[j] = unit;
      }
      if (full) {
        // Remove the oldest value: Welford's update in reverse.
        const old = ring[slot + j] / units[j];
        if (old === old) {
          const n = --counts[j];
          if (n === 0) {
            means[j] = 0;
            m2s[j] = 0;
          } else {
            const d = old - shifts[j];
            const delta = d - means[j];
            means[j] -= delta / n;
            m2s[j] = Math.max(0, m2s[j] - delta * (d - means[j]));
          }
        }
      }
      ring[slot + j] = incoming;
      const x = incoming / units[j];
      if (x !== x) continue;
      const n = ++counts[j];
      if (n === 1) {
        shifts[j] = x;
        means[j] = 0;
        m2s[j] = 0;
        continue;
      }
      const d = x - shifts[j];
      const delta = d - means[j];
      means[j] += delta / n;
      m2s[j] += delta * (d - means[j]);
    }
    if (!full) this.rowsHeld++;
    this.next++;
    if (this.next === this.size) {
      this.next = 0;
      // Every `size` rows, forget the accumulated rounding of the updates.
      if (full) this.recompute();
    }
  }

  /** Rebuilds every column's count, shift, mean and M2 from the window (corrected two-pass). */
  private recompute(): void {
    const { width, ring, counts, shifts, means, m2s, units } = this;
    const rows = this.rowsHeld;
    for (let j = 0; j < width; j++) {
      let n = 0;
      let sum = 0;
      let compensation = 0;
      const unit = units[j];
      for (let r = 0; r < rows; r++) {
        const x = ring[r * width + j] / unit;
        if (x !== x) continue;
        n++;
        const t = sum + x;
        compensation += Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum;
        sum = t;
      }
      counts[j] = n;
      if (n === 0) {
        means[j] = 0;
        m2s[j] = 0;
        continue;
      }
      const mean = (sum + compensation) / n;
      let squares = 0;
      let deviations = 0;
      for (let r = 0; r < rows; r++) {
        const x = ring[r * width + j] / unit;
        if (x !== x) continue;
        const d = x - mean;
        squares += d * d;
        deviations += d;
      }
      shifts[j] = mean;
      means[j] = deviations / n;
      m2s[j] = Math.max(0, squares - (deviations * deviations) / n);
    }
  }

  count(j: number): number {
    return this.counts[j];
  }

  /** The shift; meanLo(j) is the rest of the mean, so x − mean − meanLo keeps its digits. */
  mean(j: number): number {
    return this.counts[j] === 0 ? NaN : this.shifts[j];
  }

  meanLo(j: number): number {
    return this.means[j];
  }

  variance(j: number, ddof: number): number {
    const n = this.counts[j];
    if (n === 0) return NaN;
    if (n <= ddof) return 0;
    return this.m2s[j] / (n - ddof);
  }

  unit(j: number): number {
    return this.units[j];
  }
}

/** How a row is normalized with running statistics. */
export interface RunningNormalization {
  epsilon: number;
  ddof: number;
  /** Fewer present values than this in the statistics: the output is missing. */
  minPeriods: number;
  /** Normalize with the rows strictly before this one (it is added afterwards). */
  excludeCurrent: boolean;
  clipping: Clipping;
}

/**
 * Normalizes the row at `base` of `input` into `output` with `stats`, and adds
 * the row to `stats` (before normalizing it, unless excludeCurrent). γ = 1,
 * β = 0. Returns the index of a result that is not finite, or −1.
 */
export function runningNormalizeRow(
  stats: RunningStatistics,
  input: Float64Array,
  base: number,
  width: number,
  how: RunningNormalization,
  output: Float64Array,
): number {
  if (!how.excludeCurrent) stats.push(input, base);
  const { clipping } = how;
  let firstOverflow = -1;
  for (let j = 0; j < width; j++) {
    const x = input[base + j];
    if (x !== x || stats.count(j) < how.minPeriods) {
      output[base + j] = NaN;
      continue;
    }
    // In the column's units (1 unless its values pass HUGE): ε scaled along, x too.
    const unit = stats.unit(j);
    const v = stats.variance(j, how.ddof) + how.epsilon / unit / unit;
    const denominator = v === 0 ? 1 : Math.sqrt(v);
    const z = clipping.clamp((x / unit - stats.mean(j) - stats.meanLo(j)) / denominator, j);
    output[base + j] = z;
    if (firstOverflow < 0 && (z === Infinity || z === -Infinity)) firstOverflow = base + j;
  }
  if (how.excludeCurrent) stats.push(input, base);
  return firstOverflow;
}
