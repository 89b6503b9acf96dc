// Batch normalization, one column at a time, with fitted (or given) statistics:
//   y = γ_j·(x − mean_j)/√(var_j + ε) + β_j.

import type { ColumnMoments } from './moments.js';

/** What the transform needs per column, precomputed once. */
export interface ColumnScaling {
  mean: Float64Array;
  /**
   * The rounding error of `mean` (mean + meanLo is the fitted mean to about
   * 1e-16 of the column's spread). Subtracting it too makes x − mean accurate to the last bit of
   * the result even when |mean| is far larger than the spread (prices near
   * 1e9 with noise of 1e-3), where the last bit of a rounded mean would show.
   */
  meanLo: Float64Array;
  /** √(var + ε), or 1 where var + ε = 0 (a constant column with ε = 0, as scikit-learn does). */
  denominator: Float64Array;
  gamma: Float64Array;
  beta: Float64Array;
  /**
   * Winsorizing bounds: raw values are clamped to [lower, upper] before they
   * are normalized (−∞ and +∞ when not winsorizing).
   */
  lower: Float64Array;
  upper: Float64Array;
}

/**
 * Clipping of the normalized value, before γ and β: z is clamped to
 * [−limit, limit], and `counts[j]` counts the values of column j that were.
 */
export class Clipping {
  readonly limit: number;
  readonly counts: Float64Array;

  constructor(limit: number, width: number) {
    this.limit = limit;
    this.counts = new Float64Array(width);
  }

  /** z clamped to [−limit, limit], counted in column j's count if it was. */
  clamp(z: number, j: number): number {
    if (z > this.limit) {
      this.counts[j]++;
      return this.limit;
    }
    if (z < -this.limit) {
      this.counts[j]++;
      return -this.limit;
    }
    return z;
  }

  /** No clipping: a limit no finite z reaches. */
  static none(width: number): Clipping {
    return new Clipping(Infinity, width);
  }
}

export function columnScaling(
  mean: ArrayLike<number>,
  meanLo: ArrayLike<number>,
  variance: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  epsilon: number,
  bounds?: { lower: ArrayLike<number>; upper: ArrayLike<number> },
): ColumnScaling {
  const width = mean.length;
  const denominator = new Float64Array(width);
  for (let j = 0; j < width; j++) {
    const v = variance[j] + epsilon;
    denominator[j] = v === 0 ? 1 : Math.sqrt(v);
  }
  return {
    mean: Float64Array.from(mean),
    meanLo: Float64Array.from(meanLo),
    denominator,
    gamma: Float64Array.from(gamma),
    beta: Float64Array.from(beta),
    lower: bounds ? Float64Array.from(bounds.lower) : new Float64Array(width).fill(-Infinity),
    upper: bounds ? Float64Array.from(bounds.upper) : new Float64Array(width).fill(Infinity),
  };
}

/**
 * Normalizes `rows` rows of the row-major block `input` (`rows × width`,
 * NaN = missing) into `output`. Returns the index into `output` of the first
 * result that is not finite (an overflow the caller must report), or −1.
 */
export function batchNormalizeRows(
  input: Float64Array,
  rows: number,
  width: number,
  scaling: ColumnScaling,
  output: Float64Array,
  clipping: Clipping = Clipping.none(width),
): number {
  let firstOverflow = -1;
  for (let r = 0, base = 0; r < rows; r++, base += width) {
    const overflow = batchNormalizeRow(input, base, width, scaling, output, clipping);
    if (firstOverflow < 0) firstOverflow = overflow;
  }
  return firstOverflow;
}

/**
 * Normalizes the one row that starts at `base` in `input` into the same place
 * in `output` (how grouped data is done: each row with its group's scaling).
 * Returns the index of a result that is not finite, or −1.
 */
export function batchNormalizeRow(
  input: Float64Array,
  base: number,
  width: number,
  scaling: ColumnScaling,
  output: Float64Array,
  clipping: Clipping,
): number {
  const { mean, meanLo, denominator, gamma, beta, lower, upper } = scaling;
  let firstOverflow = -1;
  for (let j = 0; j < width; j++) {
    let x = input[base + j];
    if (x !== x) {
      output[base + j] = NaN;
      continue;
    }
    if (x < lower[j]) x = lower[j];
    else if (x > upper[j]) x = upper[j];
    const z = clipping.clamp((x - mean[j] - meanLo[j]) / denominator[j], j);
    const y = gamma[j] * z + beta[j];
    output[base + j] = y;
    if (firstOverflow < 0 && (y === Infinity || y === -Infinity || y !== y)) firstOverflow = base + j;
  }
  return firstOverflow;
}

/** The transform's constants for fitted moments, with γ = 1 and β = 0. */
export function scalingOfMoments(moments: ColumnMoments, epsilon: number, ddof: 0 | 1, bounds?: { lower: ArrayLike<number>; upper: ArrayLike<number> }): ColumnScaling {
  const width = moments.width;
  const means = Array.from({ length: width }, (_, j) => moments.meanParts(j));
  return columnScaling(
    means.map(([hi]) => hi),
    means.map(([, lo]) => lo),
    Array.from({ length: width }, (_, j) => moments.variance(j, ddof)),
    new Array<number>(width).fill(1),
    new Array<number>(width).fill(0),
    epsilon,
    bounds,
  );
}

/**
 * The transform that undoes `scaling`: x = (y − β)/γ·√(var + ε) + mean, in
 * the same shape, so the row loop is the one above (z = (y − β)/γ, then
 * x = √(var + ε)·z + mean). γ must not be 0 in any column (the caller names
 * the column). A column with no statistics (NaN mean) stays without. Bounds
 * do not apply: they clamp raw values, which are what comes out here.
 */
export function inverseScaling(scaling: ColumnScaling): ColumnScaling {
  const width = scaling.mean.length;
  const mean = new Float64Array(width);
  for (let j = 0; j < width; j++) mean[j] = Number.isNaN(scaling.mean[j]) ? NaN : scaling.beta[j];
  return {
    mean,
    meanLo: new Float64Array(width),
    denominator: Float64Array.from(scaling.gamma),
    gamma: Float64Array.from(scaling.denominator),
    beta: Float64Array.from(scaling.mean, (m, j) => m + scaling.meanLo[j]),
    lower: new Float64Array(width).fill(-Infinity),
    upper: new Float64Array(width).fill(Infinity),
  };
}

/**
 * The same constants for arithmetic in float32 (an exported model served in
 * float32): each rounded to the nearest float32, except the mean, which is
 * split into a float32 and the float32 of what it left over, so that
 * subtracting both keeps the mean to about 1e-14 of its size, as meanLo does
 * in float64 (a column of prices near 100 with a spread of 1 would otherwise
 * be shifted by up to 3e-6 of a standard deviation).
 */
export function float32Scaling(scaling: ColumnScaling): ColumnScaling {
  const mean = Float64Array.from(scaling.mean, Math.fround);
  return {
    mean,
    meanLo: Float64Array.from(scaling.mean, (m, j) => Math.fround(m - mean[j] + scaling.meanLo[j])),
    denominator: Float64Array.from(scaling.denominator, Math.fround),
    gamma: Float64Array.from(scaling.gamma, Math.fround),
    beta: Float64Array.from(scaling.beta, Math.fround),
    lower: Float64Array.from(scaling.lower, Math.fround),
    upper: Float64Array.from(scaling.upper, Math.fround),
  };
}
