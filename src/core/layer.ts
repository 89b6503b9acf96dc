// Layer normalization (Ba, Kiros & Hinton 2016), one row at a time:
//   μ = mean of the row's H present values, σ² = Σ(a − μ)²/H,
//   y_i = γ_i·(a_i − μ)/√(σ² + ε) + β_i.
// Missing values (NaN) are left out of μ and σ² and stay NaN in the output.

import { Clipping } from './batch.js';
import { ColumnMoments } from './moments.js';

/** Per-run facts about the rows, for the summary. */
export class LayerRowStats {
  /** Rows with at least one present value whose values were all equal (σ = 0). */
  zeroVarianceRows = 0;
  /** Rows with no present feature value at all (passed through unchanged). */
  emptyRows = 0;
  /** Distribution of the per-row σ over rows with at least one present value. */
  readonly sigma = new ColumnMoments(1);

  /** Per column: the rows whose spread that one column makes (dominantColumn); counted when a summary is wanted. */
  dominatedBy: number[] = [];

  /** Adds the facts of another part of the same input (rows normalized elsewhere). */
  merge(other: { zeroVarianceRows: number; emptyRows: number; sigma: ColumnMoments; dominatedBy: readonly number[] }): void {
    this.zeroVarianceRows += other.zeroVarianceRows;
    this.emptyRows += other.emptyRows;
    this.sigma.merge(other.sigma);
    other.dominatedBy.forEach((rows, j) => (this.dominatedBy[j] = (this.dominatedBy[j] ?? 0) + rows));
  }

  /** Counts, for each of `rows` rows, the column that dominates it, if one does. */
  countDominated(input: Float64Array, rows: number, width: number): void {
    for (let r = 0, base = 0; r < rows; r++, base += width) {
      const j = dominantColumn(input, base, width);
      if (j >= 0) this.dominatedBy[j] = (this.dominatedBy[j] ?? 0) + 1;
    }
  }
}

/** The others' spread below this share of the row's: one column makes the row's σ. */
const DOMINANCE_SHARE = 0.01;

/**
 * The column that makes a row's spread by itself, or −1: the one farthest
 * from the row's mean, when the other values, about their own mean, hold
 * less than 1% of the row's sum of squared deviations (at least 3 values).
 * Then the layer-normalized row says little but which side of the others
 * that column is on (a market cap among ratios). Values are divided by the
 * largest magnitude first, so squares neither overflow nor underflow.
 */
export function dominantColumn(input: Float64Array, base: number, width: number): number {
  let present = 0;
  let largest = 0;
  for (let j = 0; j < width; j++) {
    const a = input[base + j];
    if (a !== a) continue;
    present++;
    if (Math.abs(a) > largest) largest = Math.abs(a);
  }
  if (present < 3 || largest === 0) return -1;
  let sum = 0;
  for (let j = 0; j < width; j++) {
    const a = input[base + j];
    if (a === a) sum += a / largest;
  }
  const mean = sum / present;
  let far = -1;
  let farthest = -1;
  let squares = 0;
  for (let j = 0; j < width; j++) {
    const a = input[base + j];
    if (a !== a) continue;
    const d = a / largest - mean;
    squares += d * d;
    if (Math.abs(d) > farthest) {
      farthest = Math.abs(d);
      far = j;
    }
  }
  if (squares === 0) return -1;
  const othersMean = (sum - input[base + far] / largest) / (present - 1);
  let others = 0;
  for (let j = 0; j < width; j++) {
    const a = input[base + j];
    if (a !== a || j === far) continue;
    const d = a / largest - othersMean;
    others += d * d;
  }
  return others < DOMINANCE_SHARE * squares ? far : -1;
}

// Rows whose largest magnitude is outside [2^-500, 2^500] are scaled by a
// power of two (exact) before squaring, so that σ² neither overflows nor
// underflows. The normalized value does not depend on the scale, except
// through ε, which is scaled along with it.
const HUGE = 2 ** 500;
const TINY = 2 ** -500;
const SCALE_DOWN = 2 ** -600;
const SCALE_UP = 2 ** 600;

/**
 * Normalizes `rows` rows of the row-major block `input` (`rows × width`,
 * NaN = missing) into `output`. `gamma` and `beta` have one entry per column.
 * Returns the index into `output` of the first result that is not finite (γ or
 * β so large that the result overflows), or −1.
 */
export function layerNormalizeRows(
  input: Float64Array,
  rows: number,
  width: number,
  gamma: Float64Array,
  beta: Float64Array,
  epsilon: number,
  output: Float64Array,
  stats: LayerRowStats,
  clipping: Clipping = Clipping.none(width),
): number {
  let firstOverflow = -1;
  for (let r = 0, base = 0; r < rows; r++, base += width) {
    // Pass 1: count, compensated sum (Neumaier), min and max of present values.
    let present = 0;
    let sum = 0;
    let compensation = 0;
    let min = Infinity;
    let max = -Infinity;
    for (let j = 0; j < width; j++) {
      const a = input[base + j];
      if (a !== a) continue;
      present++;
      const t = sum + a;
      compensation += Math.abs(sum) >= Math.abs(a) ? sum - t + a : a - t + sum;
      sum = t;
      if (a < min) min = a;
      if (a > max) max = a;
    }

    if (present === 0) {
      stats.emptyRows++;
      for (let j = 0; j < width; j++) output[base + j] = NaN;
      continue;
    }
    if (min === max) {
      // All present values are equal: σ = 0 exactly, and a − μ = 0 exactly.
      stats.zeroVarianceRows++;
      stats.sigma.add(0, 0);
      for (let j = 0; j < width; j++) {
        output[base + j] = input[base + j] !== input[base + j] ? NaN : beta[j];
      }
      continue;
    }

    const largest = Math.max(Math.abs(min), Math.abs(max));
    const scale = largest > HUGE ? SCALE_DOWN : largest < TINY ? SCALE_UP : 1;
    if (scale !== 1) {
      sum = 0;
      compensation = 0;
      for (let j = 0; j < width; j++) {
        const a = input[base + j] * scale;
        if (a !== a) continue;
        const t = sum + a;
        compensation += Math.abs(sum) >= Math.abs(a) ? sum - t + a : a - t + sum;
        sum = t;
      }
    }
    const mean = (sum + compensation) / present;

    // Pass 2: corrected two-pass variance, Σd² − (Σd)²/H with d = a − μ.
    // The second term removes the error left by rounding μ.
    let sumSquares = 0;
    let sumDeviations = 0;
    for (let j = 0; j < width; j++) {
      const a = input[base + j];
      if (a !== a) continue;
      const d = a * scale - mean;
      sumSquares += d * d;
      sumDeviations += d;
    }
    const variance = Math.max(0, (sumSquares - (sumDeviations * sumDeviations) / present) / present);
    stats.sigma.add(0, Math.sqrt(variance) / scale);

    const scaledEpsilon = epsilon * scale * scale;
    let denominator: number;
    let unscale = 1;
    if (scaledEpsilon === Infinity) {
      // Tiny values with a comparatively huge ε: σ² is negligible next to ε,
      // so divide the unscaled deviation by √ε directly.
      denominator = Math.sqrt(epsilon);
      unscale = 1 / scale;
    } else {
      denominator = Math.sqrt(variance + scaledEpsilon);
      if (denominator === 0) denominator = 1;
    }
    for (let j = 0; j < width; j++) {
      const a = input[base + j];
      if (a !== a) {
        output[base + j] = NaN;
        continue;
      }
      const z = clipping.clamp(((a * scale - mean) * unscale) / denominator, j);
      const y = gamma[j] * z + beta[j];
      output[base + j] = y;
      if (firstOverflow < 0 && (y === Infinity || y === -Infinity || y !== y)) firstOverflow = base + j;
    }
  }
  return firstOverflow;
}
