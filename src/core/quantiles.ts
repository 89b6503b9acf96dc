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

/**
 * Buckets a store keeps as a sorted list of (index, count) while they are
 * few and spread: a column of 200 values over nine decades touches 200
 * buckets of a range of 20,000. Beyond this many, or once a dense range would
 * be smaller, the store turns dense.
 */
const SPARSE_MOST = 2048;

/**
 * Bucket counts, grown as values arrive: a sorted list of the buckets that
 * hold values while they are few (sparse), then counts over a contiguous
 * range of indexes (dense). Once the indexes seen span more than MAX_BUCKETS,
 * the buckets below highest − MAX_BUCKETS + 1 are folded into that one (the
 * collapsed bucket). The counts are a function of the values alone, whatever
 * the order they came in, the parts they were merged from and the
 * representation, so a store answers the same however it was built.
 */
class BucketStore {
  counts = new Float64Array(0);
  /** Index of counts[0]. */
  offset = 0;
  total = 0;
  /** The lowest and highest index ever added (folded ones too). */
  lowest = Infinity;
  highest = -Infinity;
  /** Sparse: the buckets holding values, ascending, and their counts (undefined once dense). */
  sparseIndexes: Int32Array | undefined = new Int32Array(8);
  sparseCounts = new Float64Array(8);
  sparseSize = 0;

  /** Whether the indexes seen span more than MAX_BUCKETS: the lowest kept bucket then holds all below it. */
  get collapsed(): boolean {
    return this.highest - this.lowest + 1 > MAX_BUCKETS;
  }

  /** The collapsed bucket's index (while collapsed). */
  get floor(): number {
    return this.highest - MAX_BUCKETS + 1;
  }

  /** Visits each bucket that holds values, in ascending order of index, sparse or dense. */
  forEachBucket(visit: (index: number, count: number) => void): void {
    if (this.sparseIndexes !== undefined) {
      for (let k = 0; k < this.sparseSize; k++) visit(this.sparseIndexes[k], this.sparseCounts[k]);
      return;
    }
    for (let k = 0; k < this.counts.length; k++) if (this.counts[k] !== 0) visit(this.offset + k, this.counts[k]);
  }

  add(index: number, count = 1): void {
    this.total += count;
    if (index < this.lowest || index > this.highest) this.see(index, index);
    // Below the collapsed bucket (the span seen is wider than MAX_BUCKETS): into it.
    const floor = this.highest - MAX_BUCKETS + 1;
    const at = index < floor && this.lowest < floor ? floor : index;
    if (this.sparseIndexes !== undefined) {
      this.addSparse(at, count);
      return;
    }
    const k = at - this.offset;
    if (k >= 0 && k < this.counts.length) this.counts[k] += count;
    else this.addDense(at, count);
  }

  /** Takes indexes `low` … `high` as seen; folds when the span first exceeds MAX_BUCKETS or the collapsed bucket moves up. */
  private see(low: number, high: number): void {
    const wasCollapsed = this.collapsed;
    const oldFloor = this.floor;
    if (low < this.lowest) this.lowest = low;
    if (high > this.highest) this.highest = high;
    if (this.collapsed && (!wasCollapsed || this.floor > oldFloor)) this.fold();
  }

  /** Folds every bucket below the collapsed bucket into it. */
  private fold(): void {
    const floor = this.floor;
    if (this.sparseIndexes !== undefined) {
      const indexes = this.sparseIndexes;
      const counts = this.sparseCounts;
      const size = this.sparseSize;
      const below = lowerBound(indexes, size, floor);
      if (below === 0) return;
      let moved = 0;
      for (let k = 0; k < below; k++) moved += counts[k];
      const hasFloor = below < size && indexes[below] === floor;
      const rest = hasFloor ? below + 1 : below;
      const floorCount = moved + (hasFloor ? counts[below] : 0);
      indexes.copyWithin(1, rest, size);
      counts.copyWithin(1, rest, size);
      indexes[0] = floor;
      counts[0] = floorCount;
      this.sparseSize = 1 + size - rest;
      return;
    }
    const end = Math.min(floor - this.offset, this.counts.length);
    if (end <= 0) return;
    let moved = 0;
    for (let k = 0; k < end; k++) {
      moved += this.counts[k];
      this.counts[k] = 0;
    }
    // The floor's own bucket, where the moved values go; growing the range to hold it if needed.
    if (moved !== 0) this.addDense(floor, moved);
  }

  private addSparse(index: number, count: number): void {
    const indexes = this.sparseIndexes as Int32Array;
    const size = this.sparseSize;
    const at = lowerBound(indexes, size, index);
    if (at < size && indexes[at] === index) {
      this.sparseCounts[at] += count;
      return;
    }
    if (size === indexes.length) {
      const bigger = new Int32Array(2 * size);
      bigger.set(indexes);
      this.sparseIndexes = bigger;
      const counts = new Float64Array(2 * size);
      counts.set(this.sparseCounts);
      this.sparseCounts = counts;
    }
    const target = this.sparseIndexes as Int32Array;
    target.copyWithin(at + 1, at, size);
    this.sparseCounts.copyWithin(at + 1, at, size);
    target[at] = index;
    this.sparseCounts[at] = count;
    this.sparseSize = size + 1;
    const range = target[size] - target[0] + 1;
    // Dense once its buckets are many, or fill most of their range (a dense range is then smaller).
    if (this.sparseSize > SPARSE_MOST || (this.sparseSize >= 64 && 3 * this.sparseSize >= 2 * range)) this.makeDense();
  }

  /** Turns the store dense, with the same counts. */
  private makeDense(): void {
    const indexes = this.sparseIndexes as Int32Array;
    const counts = this.sparseCounts;
    const size = this.sparseSize;
    this.sparseIndexes = undefined;
    this.sparseCounts = new Float64Array(0);
    this.sparseSize = 0;
    const low = indexes[0];
    const needed = indexes[size - 1] - low + 1;
    const length = Math.min(MAX_BUCKETS, needed + 64);
    this.counts = new Float64Array(length);
    this.offset = low - Math.floor((length - needed) / 2);
    for (let k = 0; k < size; k++) this.counts[indexes[k] - this.offset] = counts[k];
  }

  private addDense(index: number, count: number): void {
    let k = index - this.offset;
    if (k < 0 || k >= this.counts.length) {
      this.extendTo(index);
      k = index - this.offset;
    }
    this.counts[k] += count;
  }

  /**
   * Grows the range to include `index`. The range is measured over buckets
   * that hold values, not the empty slack around them (nothing below the
   * collapsed bucket is ever held, so it fits in MAX_BUCKETS).
   */
  private extendTo(index: number): void {
    let first = -1;
    let last = -1;
    for (let k = 0; k < this.counts.length; k++) {
      if (this.counts[k] === 0) continue;
      if (first < 0) first = k;
      last = k;
    }
    const low = Math.min(index, first < 0 ? index : this.offset + first);
    const high = Math.max(index, first < 0 ? index : this.offset + last);
    const needed = high - low + 1;
    // Grow only when the values' range does not fit with room to spare; then
    // centre it, so that values on either side come in without another copy.
    let size = this.counts.length;
    if (needed + 64 > size) size = Math.min(MAX_BUCKETS, Math.max(needed + 64, 2 * size));
    const start = low - Math.floor((size - needed) / 2);
    const counts = new Float64Array(size);
    for (let k = 0; k < this.counts.length; k++) {
      const c = this.counts[k];
      if (c !== 0) counts[this.offset + k - start] += c;
    }
    this.counts = counts;
    this.offset = start;
  }

  merge(other: BucketStore): void {
    // The other's span counts as seen (it may have folded its lowest values away), before its buckets come in.
    if (other.total > 0) this.see(other.lowest, other.highest);
    if (other.sparseIndexes !== undefined) {
      for (let k = 0; k < other.sparseSize; k++) this.add(other.sparseIndexes[k], other.sparseCounts[k]);
      return;
    }
    for (let k = 0; k < other.counts.length; k++) {
      if (other.counts[k] !== 0) this.add(other.offset + k, other.counts[k]);
    }
  }

  /** The bucket index holding 0-based rank `rank` (ascending index), or NaN if it is the collapsed bucket. */
  indexAt(rank: number): number {
    let seen = 0;
    const collapsedAt = this.collapsed ? this.floor : NaN;
    if (this.sparseIndexes !== undefined) {
      for (let k = 0; k < this.sparseSize; k++) {
        seen += this.sparseCounts[k];
        if (seen > rank) return this.sparseIndexes[k] === collapsedAt ? NaN : this.sparseIndexes[k];
      }
      return this.sparseIndexes[this.sparseSize - 1];
    }
    const counts = this.counts;
    for (let k = 0; k < counts.length; k++) {
      seen += counts[k];
      if (seen > rank) return this.offset + k === collapsedAt ? NaN : this.offset + k;
    }
    return this.offset + counts.length - 1;
  }
}

/** The first position in indexes[0 … size) holding a value ≥ index. */
function lowerBound(indexes: Int32Array, size: number, index: number): number {
  let low = 0;
  let high = size;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (indexes[middle] < index) low = middle + 1;
    else high = middle;
  }
  return low;
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

type BucketStoreState = Pick<BucketStore, 'counts' | 'offset' | 'total' | 'lowest' | 'highest' | 'sparseIndexes' | 'sparseCounts' | 'sparseSize'>;

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
    const store = ({ counts, offset, total, lowest, highest, sparseIndexes, sparseCounts, sparseSize }: BucketStore): BucketStoreState => ({
      counts,
      offset,
      total,
      lowest,
      highest,
      sparseIndexes,
      sparseCounts,
      sparseSize,
    });
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

  /**
   * Every non-empty bucket: its representative value (within α of each value
   * in it; clamped to [min, max]) and how many values it holds. What a
   * histogram needs to know which ranges hold values at all, which 200
   * quantiles cannot tell (an outlier in 100,000 values falls between them).
   */
  forEachBucket(visit: (value: number, count: number) => void): void {
    const clamp = (x: number): number => Math.min(this.max, Math.max(this.min, x));
    const each = (store: BucketStore, sign: 1 | -1): void => {
      const collapsed = store.collapsed ? store.floor : undefined;
      store.forEachBucket((index, count) => {
        // The collapsed bucket holds the smallest magnitudes: nearest to 0.
        visit(clamp(index === collapsed ? 0 : sign * representative(index)), count);
      });
    };
    each(this.negative, -1);
    if (this.zeros > 0) visit(clamp(0), this.zeros);
    each(this.positive, 1);
  }
}

function representative(index: number): number {
  const power = Math.pow(GAMMA, index);
  // 2·γ^i overflows for the buckets of values near 1.8e308, which are finite.
  return power < 2 ** 1023 ? (2 * power) / (GAMMA + 1) : power * (2 / (GAMMA + 1));
}
