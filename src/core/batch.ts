// Batch normalization, one column at a time, with fitted (or given) statistics:
//   y = γ_j·(x − mean_j)/√(var_j + ε) + β_j.
// A column whose var + ε is beyond the double range (values near 1e308, or a
// spread below 1e-154 with ε = 0) is normalized in units of a power of two,
// 2^k: x, the mean and √(var + ε) all divided by 2^k (exact), so that neither
// x − mean nor the square root overflows or underflows, and the z-score is the
// same number. Every other column has k = 0, and the same bits as without.

import type { ColumnMoments } from './moments.js';
import { type WideNumber, fitsDouble, timesPowerOfTwo, wide, wideAdd, wideToNumber } from './wide.js';

/** What the transform needs per column, precomputed once. */
export interface ColumnScaling {
  /** The mean, in units of the column's scale 2^k (as meanLo and the denominator). */
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
  /** 2^−k: what x is multiplied by to be in the units of mean and denominator (1 for all but extreme columns). */
  inputScale: Float64Array;
  gamma: Float64Array;
  beta: Float64Array;
  /** What γ·z + β is multiplied by (1, but 2^k for the inverse transform of an extreme column). */
  outputScale: Float64Array;
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

/** var + ε within these powers of two needs no scale: √ and x − mean cannot leave the double range. */
const PLAIN_EXPONENT = 1000;

export function columnScaling(
  mean: ArrayLike<number>,
  meanLo: ArrayLike<number>,
  variance: ArrayLike<number | WideNumber>,
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  epsilon: number,
  bounds?: { lower: ArrayLike<number>; upper: ArrayLike<number> },
): ColumnScaling {
  const width = mean.length;
  const scaled: ScaledColumns = {
    mean: Float64Array.from(mean),
    meanLo: Float64Array.from(meanLo),
    denominator: new Float64Array(width),
    inputScale: new Float64Array(width),
  };
  for (let j = 0; j < width; j++) scaleColumn(scaled, j, variance[j], epsilon);
  return {
    ...scaled,
    gamma: Float64Array.from(gamma),
    beta: Float64Array.from(beta),
    outputScale: new Float64Array(width).fill(1),
    lower: bounds ? Float64Array.from(bounds.lower) : new Float64Array(width).fill(-Infinity),
    upper: bounds ? Float64Array.from(bounds.upper) : new Float64Array(width).fill(Infinity),
  };
}

/** The constants of a column that come from its fit: one column's, or per group one per group and column. */
interface ScaledColumns {
  mean: Float64Array;
  meanLo: Float64Array;
  denominator: Float64Array;
  inputScale: Float64Array;
}

/**
 * Sets column `at`'s denominator √(var + ε) and scale, given its mean and
 * meanLo (in place, scaled along if the column needs a scale).
 */
function scaleColumn(c: ScaledColumns, at: number, variance: number | WideNumber, epsilon: number): void {
  c.inputScale[at] = 1;
  let sum: WideNumber;
  if (typeof variance === 'number') {
    const v = variance + epsilon;
    // The plain case, and NaN (a group's column without values) or Infinity as they are.
    if (v === 0 || !Number.isFinite(v) || (v >= 2 ** -PLAIN_EXPONENT && v <= 2 ** PLAIN_EXPONENT)) {
      c.denominator[at] = v === 0 ? 1 : Math.sqrt(v);
      return;
    }
    sum = wide(v);
  } else {
    sum = wideAdd(variance, wide(epsilon));
  }
  if (sum.significand === 0 || Math.abs(sum.exponent) <= PLAIN_EXPONENT) {
    c.denominator[at] = sum.significand === 0 ? 1 : Math.sqrt(timesPowerOfTwo(sum.significand, sum.exponent));
    return;
  }
  // Units of 2^k, k half of var + ε's exponent: the denominator is about 1.
  const k = Math.floor(sum.exponent / 2);
  c.denominator[at] = Math.sqrt(timesPowerOfTwo(sum.significand, sum.exponent - 2 * k));
  c.mean[at] = timesPowerOfTwo(c.mean[at], -k);
  c.meanLo[at] = timesPowerOfTwo(c.meanLo[at], -k);
  c.inputScale[at] = timesPowerOfTwo(1, -k);
}

/**
 * Every group's constants (--group-by), packed in segments of a fixed number
 * of groups (group g's column j at (g mod groupsPerSegment)·width + j of
 * segments[⌊g / groupsPerSegment⌋]), in shared memory so that every thread
 * reads the one copy: 32 bytes a group and column, and room made a segment
 * at a time, never by copying it all. γ, β and bounds are every group's: the
 * file's top-level ones. `inverse`: map normalized values back (the inverse
 * of each group's transform, as inverseScaling).
 */
export interface GroupScalings {
  width: number;
  count: number;
  groupsPerSegment: number;
  segments: ScaledColumns[];
  gamma: Float64Array;
  beta: Float64Array;
  lower: Float64Array;
  upper: Float64Array;
  inverse: boolean;
}

/** Columns (groups × width) a segment of GroupScalings holds, about. */
const SEGMENT_COLUMNS = 1 << 16;

/** Whether group g has a fitted mean in column j (a group may have had no value of a column). */
export function groupHasColumn(groups: GroupScalings, g: number, j: number): boolean {
  const { groupsPerSegment, width } = groups;
  const mean = groups.segments[Math.floor(g / groupsPerSegment)].mean[(g % groupsPerSegment) * width + j];
  return mean === mean;
}

/** Builds GroupScalings a group at a time (groups in index order), the denominators made at the end (when ε is known). */
export class GroupScalingsBuilder {
  private readonly groupsPerSegment: number;
  private readonly segments: ScaledColumns[] = [];
  /** Each group's variance per column, as a double (Infinity or 0 beyond the range), by segment: for the ε warning. */
  private readonly variance: Float64Array[] = [];
  /** Variances no double holds, by group and column (g·width + j; rare). */
  private readonly wideVariances = new Map<number, WideNumber>();
  private count = 0;

  constructor(private readonly width: number) {
    this.groupsPerSegment = Math.max(1, Math.floor(SEGMENT_COLUMNS / Math.max(1, width)));
  }

  /** The next group's mean, its low part and variance per column (NaN for a column it had no value of). */
  add(mean: ArrayLike<number>, meanLo: ArrayLike<number>, variance: ArrayLike<number | WideNumber>): void {
    const { width, groupsPerSegment } = this;
    const g = this.count;
    if (g % groupsPerSegment === 0) {
      this.segments.push(sharedColumns(groupsPerSegment * width));
      this.variance.push(new Float64Array(groupsPerSegment * width));
    }
    const segment = this.segments[this.segments.length - 1];
    const variances = this.variance[this.variance.length - 1];
    const at = (g % groupsPerSegment) * width;
    for (let j = 0; j < width; j++) {
      segment.mean[at + j] = mean[j];
      segment.meanLo[at + j] = meanLo[j];
      const v = variance[j];
      if (typeof v === 'number') variances[at + j] = v;
      else {
        variances[at + j] = wideToNumber(v);
        if (!fitsDouble(v)) this.wideVariances.set(g * width + j, v);
      }
    }
    this.count++;
  }

  /** Every group's variances, a row of `width` per group, in order, as often as they are iterated. */
  variances(): Iterable<Float64Array> {
    const { width, groupsPerSegment, variance } = this;
    const count = this.count;
    return {
      *[Symbol.iterator]() {
        for (let g = 0; g < count; g++) {
          const at = (g % groupsPerSegment) * width;
          yield variance[Math.floor(g / groupsPerSegment)].subarray(at, at + width);
        }
      },
    };
  }

  /**
   * The scalings with `epsilon`, γ, β and bounds of `affine`; a column a group
   * had no value of takes `fallback`'s constants if given (else stays NaN).
   * `order`: column j of the result is column order[j] as added (a file's
   * columns in the input's order).
   */
  finish(epsilon: number, affine: ColumnScaling, fallback: ColumnScaling | undefined, inverse: boolean, order?: readonly number[]): GroupScalings {
    const { width, groupsPerSegment, segments } = this;
    if (order !== undefined && order.some((k, j) => k !== j)) this.reorder(order);
    for (let g = 0; g < this.count; g++) {
      const segment = segments[Math.floor(g / groupsPerSegment)];
      const variances = this.variance[Math.floor(g / groupsPerSegment)];
      for (let j = 0; j < width; j++) {
        const at = (g % groupsPerSegment) * width + j;
        if (Number.isNaN(segment.mean[at]) && fallback !== undefined) {
          segment.mean[at] = fallback.mean[j];
          segment.meanLo[at] = fallback.meanLo[j];
          segment.denominator[at] = fallback.denominator[j];
          segment.inputScale[at] = fallback.inputScale[j];
        } else {
          scaleColumn(segment, at, this.wideVariances.get(g * width + j) ?? variances[at], epsilon);
        }
      }
    }
    const { gamma, beta, lower, upper } = affine;
    return { width, count: this.count, groupsPerSegment, segments, gamma, beta, lower, upper, inverse };
  }

  /** Each group's columns put in `order`, in place. */
  private reorder(order: readonly number[]): void {
    const { width, groupsPerSegment } = this;
    const held = new Float64Array(width);
    for (let g = 0; g < this.count; g++) {
      const s = Math.floor(g / groupsPerSegment);
      const at = (g % groupsPerSegment) * width;
      for (const values of [this.segments[s].mean, this.segments[s].meanLo, this.variance[s]]) {
        held.set(values.subarray(at, at + width));
        for (let j = 0; j < width; j++) values[at + j] = held[order[j]];
      }
    }
    const wide = [...this.wideVariances];
    this.wideVariances.clear();
    for (const [slot, v] of wide) {
      const g = Math.floor(slot / width);
      this.wideVariances.set(g * width + order.indexOf(slot - g * width), v);
    }
  }
}

function sharedColumns(length: number): ScaledColumns {
  const array = () => new Float64Array(new SharedArrayBuffer(8 * length));
  return { mean: array(), meanLo: array(), denominator: array(), inputScale: array() };
}

/**
 * Normalizes the row at `base` with group g's constants, as
 * batchNormalizeRow does with a ColumnScaling (the same operations, so the
 * same bits); with `inverse`, maps it back as inverseScaling's would.
 * Returns the index of a result that is not finite, or −1.
 */
export function groupNormalizeRow(
  input: Float64Array,
  base: number,
  width: number,
  groups: GroupScalings,
  g: number,
  output: Float64Array,
  clipping: Clipping,
): number {
  const { gamma, beta, lower, upper, groupsPerSegment } = groups;
  const { mean, meanLo, denominator, inputScale } = groups.segments[Math.floor(g / groupsPerSegment)];
  const at = (g % groupsPerSegment) * width;
  let firstOverflow = -1;
  for (let j = 0; j < width; j++) {
    let x = input[base + j];
    if (x !== x) {
      output[base + j] = NaN;
      continue;
    }
    let y: number;
    if (groups.inverse) {
      // z = (y − β)/γ, x = √(var + ε)·z + mean, in the group's units of 2^k.
      const z = clipping.clamp((x - beta[j] - 0) / gamma[j], j);
      y = (denominator[at + j] * z + (mean[at + j] + meanLo[at + j])) * (1 / inputScale[at + j]);
    } else {
      if (x < lower[j]) x = lower[j];
      else if (x > upper[j]) x = upper[j];
      const z = clipping.clamp((x * inputScale[at + j] - mean[at + j] - meanLo[at + j]) / denominator[at + j], j);
      y = (gamma[j] * z + beta[j]) * 1;
    }
    output[base + j] = y;
    if (firstOverflow < 0 && (y === Infinity || y === -Infinity || y !== y)) firstOverflow = base + j;
  }
  return firstOverflow;
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
  const { mean, meanLo, denominator, inputScale, gamma, beta, outputScale, lower, upper } = scaling;
  let firstOverflow = -1;
  for (let j = 0; j < width; j++) {
    let x = input[base + j];
    if (x !== x) {
      output[base + j] = NaN;
      continue;
    }
    if (x < lower[j]) x = lower[j];
    else if (x > upper[j]) x = upper[j];
    const z = clipping.clamp((x * inputScale[j] - mean[j] - meanLo[j]) / denominator[j], j);
    const y = (gamma[j] * z + beta[j]) * outputScale[j];
    output[base + j] = y;
    if (firstOverflow < 0 && (y === Infinity || y === -Infinity || y !== y)) firstOverflow = base + j;
  }
  return firstOverflow;
}

/**
 * The transform's constants for fitted moments (columns first … first +
 * width − 1 of them: one group's, of per-group moments), with γ = 1 and β = 0.
 */
export function scalingOfMoments(
  moments: ColumnMoments,
  epsilon: number,
  ddof: 0 | 1,
  bounds?: { lower: ArrayLike<number>; upper: ArrayLike<number> },
  first = 0,
  width = moments.width,
): ColumnScaling {
  const means = Array.from({ length: width }, (_, j) => moments.meanParts(first + j));
  return columnScaling(
    means.map(([hi]) => hi),
    means.map(([, lo]) => lo),
    Array.from({ length: width }, (_, j) => moments.varianceWide(first + j, ddof) ?? NaN),
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
    inputScale: new Float64Array(width).fill(1),
    gamma: Float64Array.from(scaling.denominator),
    beta: Float64Array.from(scaling.mean, (m, j) => m + scaling.meanLo[j]),
    // An extreme column's mean and √(var + ε) are in units of 2^k: so is what they give.
    outputScale: Float64Array.from(scaling.inputScale, (s) => 1 / s),
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
    inputScale: scaling.inputScale,
    outputScale: scaling.outputScale,
    gamma: Float64Array.from(scaling.gamma, Math.fround),
    beta: Float64Array.from(scaling.beta, Math.fround),
    lower: Float64Array.from(scaling.lower, Math.fround),
    upper: Float64Array.from(scaling.upper, Math.fround),
  };
}
