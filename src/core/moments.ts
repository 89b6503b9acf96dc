// Running count, mean, M2 (sum of squared deviations), min and max for a set
// of columns, updated one value at a time (Welford) and merged pairwise
// (Chan, Golub & LeVeque). Never Σx² − (Σx)²/n.
//
// Why double-double: a column of market caps near 1e15 with unit spread has a
// mean whose rounding error (ulp/2 = 0.0625) is comparable to the spread, and
// plain Welford compounds that error into the variance. Here the mean and M2
// are each kept as an unevaluated sum hi + lo of two doubles, and every
// increment is computed from the deviation x − mean, so rounding errors scale
// with the spread of the data, not with its magnitude. The result is within a
// few ulps of the exact (rational) mean and variance even at a 1e15 offset.

/** Fields of one column, as plain numbers: what a parameter file stores. */
export interface MomentsSnapshot {
  count: number;
  mean: number;
  /** The low part of the mean: mean + meanLo errs by ~1e-16 of the spread, not of the level. */
  meanLo: number;
  m2: number;
  min: number;
  max: number;
}

const STATE_ARRAYS = ['count', 'missing', 'meanHi', 'meanLo', 'm2Hi', 'm2Lo', 'min', 'max'] as const;

export type ColumnMomentsState = { width: number } & Record<(typeof STATE_ARRAYS)[number], Float64Array>;

/** Moments of `width` columns, stored as parallel typed arrays (no object per column). */
export class ColumnMoments {
  readonly width: number;
  readonly count: Float64Array;
  /** Values that were missing (NaN), which the moments leave out. */
  readonly missing: Float64Array;
  readonly meanHi: Float64Array;
  readonly meanLo: Float64Array;
  readonly m2Hi: Float64Array;
  readonly m2Lo: Float64Array;
  readonly min: Float64Array;
  readonly max: Float64Array;

  constructor(width: number) {
    this.width = width;
    this.count = new Float64Array(width);
    this.missing = new Float64Array(width);
    this.meanHi = new Float64Array(width);
    this.meanLo = new Float64Array(width);
    this.m2Hi = new Float64Array(width);
    this.m2Lo = new Float64Array(width);
    this.min = new Float64Array(width).fill(Infinity);
    this.max = new Float64Array(width).fill(-Infinity);
  }

  /** Adds one value to column j; NaN counts as missing. */
  add(j: number, x: number): void {
    if (x !== x) {
      this.missing[j]++;
      return;
    }
    const n = ++this.count[j];
    if (x < this.min[j]) this.min[j] = x;
    if (x > this.max[j]) this.max[j] = x;

    // delta = x − mean, evaluated from the double-double mean and rounded once.
    let hi = this.meanHi[j];
    let lo = this.meanLo[j];
    let s = x - hi;
    let bb = s - x;
    let e = x - (s - bb) - (hi + bb);
    const delta = s + (e - lo);

    // mean += delta / n, accumulated exactly into hi + lo.
    const q = delta / n;
    s = hi + q;
    bb = s - hi;
    e = hi - (s - bb) + (q - bb);
    lo += e;
    hi = s + lo;
    lo -= hi - s;
    this.meanHi[j] = hi;
    this.meanLo[j] = lo;

    // M2 += delta · (x − new mean), again with the deviation taken from hi + lo.
    s = x - hi;
    bb = s - x;
    e = x - (s - bb) - (hi + bb);
    const term = delta * (s + (e - lo));
    addToM2(this, j, term);
  }

  /** Adds `rows` rows of a row-major `rows × width` block. */
  addRows(values: Float64Array, rows: number): void {
    const width = this.width;
    for (let r = 0, base = 0; r < rows; r++, base += width) {
      for (let j = 0; j < width; j++) this.add(j, values[base + j]);
    }
  }

  /** Merges column `k` of `other` into column `j` of this (Chan et al.'s pairwise update). */
  mergeColumn(j: number, other: ColumnMoments, k: number): void {
    this.missing[j] += other.missing[k];
    const nb = other.count[k];
    if (nb === 0) return;
    const na = this.count[j];
    if (na === 0) {
      this.count[j] = nb;
      this.meanHi[j] = other.meanHi[k];
      this.meanLo[j] = other.meanLo[k];
      this.m2Hi[j] = other.m2Hi[k];
      this.m2Lo[j] = other.m2Lo[k];
      this.min[j] = other.min[k];
      this.max[j] = other.max[k];
      return;
    }
    const n = na + nb;
    // delta = mean_b − mean_a in double-double, rounded once.
    const delta = ddDifference(other.meanHi[k], other.meanLo[k], this.meanHi[j], this.meanLo[j]);
    // mean = mean_a + delta · n_b / n
    const q = delta * (nb / n);
    let hi = this.meanHi[j];
    let lo = this.meanLo[j];
    const s = hi + q;
    const bb = s - hi;
    const e = hi - (s - bb) + (q - bb);
    lo += e;
    hi = s + lo;
    lo -= hi - s;
    this.meanHi[j] = hi;
    this.meanLo[j] = lo;
    // M2 = M2_a + M2_b + delta² · n_a · n_b / n
    addToM2(this, j, other.m2Hi[k]);
    addToM2(this, j, other.m2Lo[k]);
    addToM2(this, j, delta * delta * ((na * nb) / n));
    this.count[j] = n;
    if (other.min[k] < this.min[j]) this.min[j] = other.min[k];
    if (other.max[k] > this.max[j]) this.max[j] = other.max[k];
  }

  /** The typed arrays that hold the state: what a worker thread sends back (structured-cloneable). */
  state(): ColumnMomentsState {
    const { width, count, missing, meanHi, meanLo, m2Hi, m2Lo, min, max } = this;
    return { width, count, missing, meanHi, meanLo, m2Hi, m2Lo, min, max };
  }

  /** Moments rebuilt from state(), as received from a worker thread. */
  static fromState(state: ColumnMomentsState): ColumnMoments {
    const moments = new ColumnMoments(state.width);
    for (const key of STATE_ARRAYS) moments[key].set(state[key]);
    return moments;
  }

  /** Merges every column of `other` (same width) into this. */
  merge(other: ColumnMoments): void {
    for (let j = 0; j < this.width; j++) this.mergeColumn(j, other, j);
  }

  mean(j: number): number {
    return this.count[j] === 0 ? NaN : this.meanHi[j] + this.meanLo[j];
  }

  m2(j: number): number {
    return this.m2Hi[j] + this.m2Lo[j];
  }

  /**
   * M2 / (n − ddof). With no more values than ddof (one value and ddof 1)
   * there is no spread to measure, and the variance is 0 so that
   * normalization gives β rather than NaN.
   */
  variance(j: number, ddof: number): number {
    const n = this.count[j];
    if (n === 0) return NaN;
    if (n <= ddof) return 0;
    // (hi + lo)/d with the residual of the first division taken exactly
    // (Dekker's product), so the result is rounded about once, not twice.
    const d = n - ddof;
    const hi = this.m2Hi[j];
    const q = hi / d;
    const residual = productResidual(hi, q, d) + this.m2Lo[j];
    return q + residual / d;
  }

  std(j: number, ddof: number): number {
    return Math.sqrt(this.variance(j, ddof));
  }

  snapshot(j: number): MomentsSnapshot {
    return {
      count: this.count[j],
      mean: this.meanHi[j],
      meanLo: this.meanLo[j],
      m2: this.m2(j),
      min: this.min[j],
      max: this.max[j],
    };
  }

  /** Restores column j from a snapshot (a parameter file); the inverse of snapshot(). */
  restore(j: number, s: MomentsSnapshot): void {
    this.count[j] = s.count;
    this.meanHi[j] = s.mean + s.meanLo;
    this.meanLo[j] = s.meanLo - (this.meanHi[j] - s.mean);
    this.m2Hi[j] = s.m2;
    this.m2Lo[j] = 0;
    this.min[j] = s.count > 0 ? s.min : Infinity;
    this.max[j] = s.count > 0 ? s.max : -Infinity;
  }
}

/** Adds a non-negative term to column j's M2 with a compensated (two-sum) update. */
function addToM2(m: ColumnMoments, j: number, term: number): void {
  const hi = m.m2Hi[j];
  const s = hi + term;
  const bb = s - hi;
  const e = hi - (s - bb) + (term - bb);
  const lo = m.m2Lo[j] + e;
  const h = s + lo;
  m.m2Lo[j] = lo - (h - s);
  m.m2Hi[j] = h;
}

/** a − q·d exactly (for a quotient q ≈ a/d), by Dekker's split of q and d. */
function productResidual(a: number, q: number, d: number): number {
  const SPLIT = 134217729; // 2^27 + 1
  let t = SPLIT * q;
  const qh = t - (t - q);
  const ql = q - qh;
  t = SPLIT * d;
  const dh = t - (t - d);
  const dl = d - dh;
  const p = q * d;
  const e = qh * dh - p + qh * dl + ql * dh + ql * dl;
  return a - p - e;
}

/** (aHi + aLo) − (bHi + bLo), rounded once to a double. */
function ddDifference(aHi: number, aLo: number, bHi: number, bLo: number): number {
  const s = aHi - bHi;
  const bb = s - aHi;
  const e = aHi - (s - bb) + (-bHi - bb);
  return s + (e + (aLo - bLo));
}
