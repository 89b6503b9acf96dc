// Streaming quantiles with a relative-accuracy guarantee (DDSketch, Masson,
// Rim & Lee 2019): values are counted in logarithmic buckets (γ^(i−1), γ^i]
// with γ = (1 + α)/(1 − α), and a quantile is answered with its bucket's
// representative 2γ^i/(γ + 1). The answer for quantile q is within α·|v| of v,
// the exact value at rank ⌊q·(n − 1)⌋ of the sorted data (numpy's
// method="lower"). Memory is bounded by the range of magnitudes, not by the
// number of values, and two sketches merge exactly (counts add), so a merged
// sketch answers exactly as one built over all the data.

/** α: every quantile is within 0.1 % (relative) of the exact one. */
export const RELATIVE_ACCURACY = 0.001;

const GAMMA = (1 + RELATIVE_ACCURACY) / (1 - RELATIVE_ACCURACY);
const LOG_GAMMA = Math.log(GAMMA);
/** Magnitudes below this are counted as zero (reported as 0). */
const SMALLEST = 2 ** -1000;
/**
 * Buckets kept per sign (1 MB): about 114 decades of magnitude at α = 0.1 %.
 * Real columns span ~20. A column spanning more collapses its smallest
 * magnitudes into its lowest bucket, and quantiles that fall in that bucket
 * are reported as unknown (NaN) rather than wrong.
 */
const MAX_BUCKETS = 1 << 17;

/** Bucket counts over a contiguous range of indexes, grown as values arrive. */
class BucketStore {
  counts = new Float64Array(0);
  /** Index of counts[0]. */
  offset = 0;
  total = 0;
  /** counts[0] also holds values of smaller magnitude than its own bucket. */
  collapsed = false;

  add(index: number, count = 1): void {
    if (this.counts.length === 0) {
      this.counts = new Float64Array(64);
      this.offset = index - 32;
    }
    let k = index - this.offset;
    if (k < 0 || k >= this.counts.length) {
      this.extendTo(index);
      k = Math.max(0, index - this.offset); // below the kept range: the collapsed bucket
    }
    this.counts[k] += count;
    this.total += count;
  }

  /**
   * Grows the range to include `index`, collapsing the smallest magnitudes
   * past MAX_BUCKETS. The range is measured over buckets that hold values,
   * not the empty slack around them: otherwise slack could collapse real
   * values, and in a different place for a sketch built in one go than for
   * merged parts.
   */
  private extendTo(index: number): void {
    let first = -1;
    let last = -1;
    for (let k = 0; k < this.counts.length; k++) {
      if (this.counts[k] === 0) continue;
      if (first < 0) first = k;
      last = k;
    }
    const oldLow = first < 0 ? index : this.offset + first;
    const low = Math.min(index, oldLow);
    const high = Math.max(index, first < 0 ? index : this.offset + last);
    const needed = high - low + 1;
    // Grow only when the values' range does not fit with room to spare; then
    // centre it, so that values on either side come in without another copy.
    let size = this.counts.length;
    if (needed + 64 > size) size = Math.min(MAX_BUCKETS, Math.max(needed + 64, 2 * size));
    let start = low - Math.floor((size - needed) / 2);
    // Beyond MAX_BUCKETS, the smallest magnitudes collapse into the lowest bucket.
    if (needed > size) start = high - size + 1;
    if (start > low) this.collapsed = true;
    const counts = new Float64Array(size);
    for (let k = 0; k < this.counts.length; k++) {
      const c = this.counts[k];
      if (c !== 0) counts[Math.max(this.offset + k, start) - start] += c;
    }
    this.counts = counts;
    this.offset = start;
  }

  merge(other: BucketStore): void {
    if (other.collapsed) this.collapsed = true;
    for (let k = 0; k < other.counts.length; k++) {
      if (other.counts[k] !== 0) this.add(other.offset + k, other.counts[k]);
    }
  }

  /** The bucket index holding 0-based rank `rank` (ascending index), or NaN if it is the collapsed bucket. */
  indexAt(rank: number): number {
    let seen = 0;
    const counts = this.counts;
    for (let k = 0; k < counts.length; k++) {
      seen += counts[k];
      if (seen > rank) return k === 0 && this.collapsed ? NaN : this.offset + k;
    }
    return this.offset + counts.length - 1;
  }
}

/** A sketch as plain data (what a worker thread sends back). */
export interface QuantileSketchState {
  positive: BucketStoreState;
  negative: BucketStoreState;
  zeros: number;
  count: number;
  min: number;
  max: number;
}

type BucketStoreState = Pick<BucketStore, 'counts' | 'offset' | 'total' | 'collapsed'>;

export class QuantileSketch {
  private readonly positive = new BucketStore();
  /** Negative values, by magnitude. */
  private readonly negative = new BucketStore();
  private zeros = 0;
  count = 0;
  min = Infinity;
  max = -Infinity;

  add(x: number): void {
    if (x !== x) return;
    this.count++;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    if (x > SMALLEST) this.positive.add(Math.ceil(Math.log(x) / LOG_GAMMA));
    else if (x < -SMALLEST) this.negative.add(Math.ceil(Math.log(-x) / LOG_GAMMA));
    else this.zeros++;
  }

  merge(other: QuantileSketch): void {
    this.positive.merge(other.positive);
    this.negative.merge(other.negative);
    this.zeros += other.zeros;
    this.count += other.count;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  state(): QuantileSketchState {
    const store = ({ counts, offset, total, collapsed }: BucketStore): BucketStoreState => ({ counts, offset, total, collapsed });
    const { zeros, count, min, max } = this;
    return { positive: store(this.positive), negative: store(this.negative), zeros, count, min, max };
  }

  static fromState(state: QuantileSketchState): QuantileSketch {
    const sketch = new QuantileSketch();
    Object.assign(sketch.positive, state.positive);
    Object.assign(sketch.negative, state.negative);
    sketch.zeros = state.zeros;
    sketch.count = state.count;
    sketch.min = state.min;
    sketch.max = state.max;
    return sketch;
  }

  /**
   * The q-quantile (0 ≤ q ≤ 1), within α relative of the exact value at rank
   * ⌊q·(n − 1)⌋; NaN if empty, or if it falls among collapsed magnitudes.
   */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    if (q <= 0) return this.min;
    if (q >= 1) return this.max;
    const rank = Math.floor(q * (this.count - 1));
    let value: number;
    if (rank < this.negative.total) {
      // Most negative first: highest magnitude index first.
      value = -representative(this.negative.indexAt(this.negative.total - 1 - rank));
    } else if (rank < this.negative.total + this.zeros) {
      value = 0;
    } else {
      value = representative(this.positive.indexAt(rank - this.negative.total - this.zeros));
    }
    return value !== value ? NaN : Math.min(this.max, Math.max(this.min, value));
  }
}

function representative(index: number): number {
  const power = Math.pow(GAMMA, index);
  // 2·γ^i overflows for the buckets of values near 1.8e308, which are finite.
  return power < 2 ** 1023 ? (2 * power) / (GAMMA + 1) : power * (2 / (GAMMA + 1));
}
