// Batch normalization, one column at a time, with fitted (or given) statistics:
//   y = γ_j·(x − mean_j)/√(var_j + ε) + β_j.

/** What the transform needs per column, precomputed once. */
export interface ColumnScaling {
  mean: Float64Array;
  /**
   * The rounding error of `mean` (mean + meanLo is the fitted mean to about
   * 32 digits). Subtracting it too makes x − mean accurate to the last bit of
   * the result even when |mean| is far larger than the spread (prices near
   * 1e9 with noise of 1e-3), where the last bit of a rounded mean would show.
   */
  meanLo: Float64Array;
  /** √(var + ε), or 1 where var + ε = 0 (a constant column with ε = 0, as scikit-learn does). */
  denominator: Float64Array;
  gamma: Float64Array;
  beta: Float64Array;
}

export function columnScaling(
  mean: ArrayLike<number>,
  meanLo: ArrayLike<number>,
  variance: ArrayLike<number>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  epsilon: number,
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
): number {
  const { mean, meanLo, denominator, gamma, beta } = scaling;
  let firstOverflow = -1;
  for (let r = 0, base = 0; r < rows; r++, base += width) {
    for (let j = 0; j < width; j++) {
      const x = input[base + j];
      if (x !== x) {
        output[base + j] = NaN;
        continue;
      }
      const y = gamma[j] * ((x - mean[j] - meanLo[j]) / denominator[j]) + beta[j];
      output[base + j] = y;
      if (firstOverflow < 0 && (y === Infinity || y === -Infinity || y !== y)) firstOverflow = base + j;
    }
  }
  return firstOverflow;
}
