// Count, mean, M2 (sum of squared deviations), min and max of a set of
// columns, from exact sums: Σx and Σx² of each column are kept exactly, so that
// adding values and merging parts commute. The statistics of a file are
// therefore the same to the last bit however it was cut into pieces and
// whichever threads added them, and they are (all but) correctly rounded: mean
// and M2 = Σx² − (Σx)²/n are computed from the exact sums in double-double,
// or exactly (BigInt) where the subtraction cancels too many digits (prices
// near 1e9 that move by 1e-3). Never Σx² − (Σx)²/n in doubles.
//
// Compact, because per-group statistics keep one set per group and column
// (millions of tickers or dates): a column is count, missing, min, max and a
// cascade of error-free sums, two doubles for Σx and three for Σx², each
// addition's rounding error carried to the next by TwoSum. That holds the
// exact sums of ordinary data by itself. A rounding error the cascade cannot
// keep spills into a ChunkSum (exact fixed point in 32-bit chunks, made for
// that column only when needed), and squares beyond the doubles' range go
// there directly. The exact sum is the cascade's terms plus the ChunkSum's;
// it is put in canonical form (a ChunkSum) only to be read, so the statistics
// depend on the exact sums alone, never on how the cascade happened to split
// them.

import { ChunkSum, type ChunkSumState, chunkScale } from './chunk-sum.js';
import { divide, productError, twoSum } from './double-double.js';
import { type WideNumber, WIDE_ZERO, timesPowerOfTwo, wide, wideToNumber } from './wide.js';

/** Fields of one column, as plain numbers: what a parameter file stores. */
export interface MomentsSnapshot {
  count: number;
  mean: number;
  /** The low part of the mean: mean + meanLo errs by ~1e-16 of the spread, not of the level. */
  meanLo: number;
  /** M2, which may be beyond the double range (values near 1e308). */
  m2: WideNumber;
  min: number;
  max: number;
}

/** An exact sum: n·2^exponent. */
export interface ExactSum {
  n: bigint;
  exponent: number;
}

/** ColumnMoments as plain data (structured-cloneable): what a worker thread sends back. */
export interface ColumnMomentsState {
  width: number;
  count: Float64Array;
  missing: Float64Array;
  min: Float64Array;
  max: Float64Array;
  cascade: Float64Array;
  /** The spilled sums, by accumulator (2j: Σx of column j, 2j + 1: its Σx²). */
  spilled: { accumulator: number; sum: ChunkSumState }[];
}

const SPLIT = 134217729; // 2^27 + 1
/** Squares of values beyond these magnitudes would overflow or underflow as doubles: done in BigInt. */
const SQUARE_MAX = 2 ** 480;
const SQUARE_MIN = 2 ** -480;
/** Beyond this cancellation (Σx² over M2), M2 is computed exactly. */
const CANCELLATION_LIMIT = 2 ** 40;
/** A restored Σx² keeps this many bits below M2's last one (the file's M2 is rounded at its last bit anyway). */
const RESTORED_GUARD_BITS = 12;
/** Doubles per column in the cascade: Σx as c[0] + c[1], Σx² as c[2] + c[3] + c[4]. */
const TERMS = 5;

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
/** Where an exact sum is put in canonical form to be read (one for Σx, one for Σx²: M2 needs both at once). */
const canonical = [new ChunkSum(), new ChunkSum()];

export class ColumnMoments {
  width: number;
  count: Float64Array;
  /** Values that were missing (NaN), which the moments leave out. */
  missing: Float64Array;
  min: Float64Array;
  max: Float64Array;
  /** Per column: Σx as c[5j] + c[5j+1], Σx² as c[5j+2] + c[5j+3] + c[5j+4], each part of the exact sum. */
  private cascade: Float64Array;
  /** What the cascades could not keep, by accumulator (2j for Σx of column j, 2j + 1 for its Σx²). */
  private spilled = new Map<number, ChunkSum>();

  constructor(width: number) {
    this.width = width;
    this.count = new Float64Array(width);
    this.missing = new Float64Array(width);
    this.min = new Float64Array(width).fill(Infinity);
    this.max = new Float64Array(width).fill(-Infinity);
    this.cascade = new Float64Array(TERMS * width);
  }

  /**
   * Adds columns up to `width` (empty), keeping the others: per-group
   * moments grow as groups appear. The arrays grow by doubling, so they may
   * hold more columns than `width`.
   */
  grow(width: number): void {
    if (width <= this.width) return;
    if (width > this.count.length) {
      const capacity = Math.max(width, 2 * this.count.length);
      const extend = (array: Float64Array, size: number, fill: number): Float64Array => {
        const bigger = new Float64Array(size);
        if (fill !== 0) bigger.fill(fill, array.length);
        bigger.set(array);
        return bigger;
      };
      this.count = extend(this.count, capacity, 0);
      this.missing = extend(this.missing, capacity, 0);
      this.min = extend(this.min, capacity, Infinity);
      this.max = extend(this.max, capacity, -Infinity);
      this.cascade = extend(this.cascade, TERMS * capacity, 0);
    }
    this.width = width;
  }

  /** Bytes held per column (for memory budgets): the arrays, as grown. */
  static readonly BYTES_PER_COLUMN = 8 * (4 + TERMS);

  /** Adds one value to column j; NaN counts as missing. */
  add(j: number, x: number): void {
    if (x !== x) {
      this.missing[j]++;
      return;
    }
    this.count[j]++;
    if (x < this.min[j]) this.min[j] = x;
    if (x > this.max[j]) this.max[j] = x;
    if (x !== 0) this.addSums(j, x);
  }

  /** Adds `rows` rows of a row-major `rows × width` block. */
  addRows(values: Float64Array, rows: number): void {
    const width = this.width;
    const { count, missing, min, max } = this;
    for (let r = 0, base = 0; r < rows; r++, base += width) {
      for (let j = 0; j < width; j++) {
        const x = values[base + j];
        if (x !== x) {
          missing[j]++;
          continue;
        }
        count[j]++;
        if (x < min[j]) min[j] = x;
        if (x > max[j]) max[j] = x;
        if (x !== 0) this.addSums(j, x);
      }
    }
  }

  /** x (finite, nonzero) into column j's Σx and Σx², exactly. */
  private addSums(j: number, x: number): void {
    const magnitude = x < 0 ? -x : x;
    if (!(magnitude < SQUARE_MAX && magnitude > SQUARE_MIN)) {
      // Squares beyond the doubles' range: straight into the chunks, through BigInt.
      this.sumOf(2 * j).addDouble(x);
      const { mantissa, exponent } = decompose(x);
      this.sumOf(2 * j + 1).addBigInt(mantissa * mantissa, 2 * exponent);
      return;
    }
    const c = this.cascade;
    const at = TERMS * j;
    // Σx: s0 + s1 + x = a + t + spill, exactly (two TwoSums).
    let a = c[at];
    let s = a + x;
    let bb = s - a;
    let e = a - (s - bb) + (x - bb);
    let b = c[at + 1];
    let t = b + e;
    bb = t - b;
    let spill = b - (t - bb) + (e - bb);
    c[at] = s;
    c[at + 1] = t;
    if (spill !== 0) this.sumOf(2 * j).addDouble(spill);
    // x² = p + q exactly (Dekker's product, written out: the hottest line of a fit), then into the three terms of Σx².
    const p = x * x;
    const u = SPLIT * x;
    const hi = u - (u - x);
    const lo = x - hi;
    const q = hi * hi - p + 2 * hi * lo + lo * lo;
    a = c[at + 2];
    s = a + p;
    bb = s - a;
    e = a - (s - bb) + (p - bb);
    b = c[at + 3];
    t = b + e;
    bb = t - b;
    const e2 = b - (t - bb) + (e - bb);
    let d = c[at + 4];
    let v = d + e2;
    bb = v - d;
    spill = d - (v - bb) + (e2 - bb);
    if (spill !== 0) this.sumOf(2 * j + 1).addDouble(spill);
    const t2 = t + q;
    bb = t2 - t;
    const f = t - (t2 - bb) + (q - bb);
    d = v;
    v = d + f;
    bb = v - d;
    spill = d - (v - bb) + (f - bb);
    if (spill !== 0) this.sumOf(2 * j + 1).addDouble(spill);
    c[at + 2] = s;
    c[at + 3] = t2;
    c[at + 4] = v;
  }

  /** Adds the double x (a part of another exact Σx) to column j's Σx, exactly. */
  private addToSum(j: number, x: number): void {
    const c = this.cascade;
    const at = TERMS * j;
    const a = c[at];
    const s = a + x;
    let bb = s - a;
    const e = a - (s - bb) + (x - bb);
    const b = c[at + 1];
    const t = b + e;
    bb = t - b;
    const spill = b - (t - bb) + (e - bb);
    c[at] = s;
    c[at + 1] = t;
    if (spill !== 0) this.sumOf(2 * j).addDouble(spill);
  }

  /** Adds the double x (a part of another exact Σx²) to column j's Σx², exactly. */
  private addToSquares(j: number, x: number): void {
    const c = this.cascade;
    const at = TERMS * j + 2;
    const a = c[at];
    const s = a + x;
    let bb = s - a;
    const e = a - (s - bb) + (x - bb);
    const b = c[at + 1];
    const t = b + e;
    bb = t - b;
    const e2 = b - (t - bb) + (e - bb);
    const d = c[at + 2];
    const v = d + e2;
    bb = v - d;
    const spill = d - (v - bb) + (e2 - bb);
    c[at] = s;
    c[at + 1] = t;
    c[at + 2] = v;
    if (spill !== 0) this.sumOf(2 * j + 1).addDouble(spill);
  }

  /** Accumulator a's spilled sum, made when first needed. */
  private sumOf(a: number): ChunkSum {
    let sum = this.spilled.get(a);
    if (sum === undefined) {
      sum = new ChunkSum();
      this.spilled.set(a, sum);
    }
    return sum;
  }

  /** Accumulator a's exact sum (cascade and spill) in canonical form, in a buffer the next read reuses. */
  private exactSum(a: number): ChunkSum {
    const sum = canonical[a & 1];
    sum.clear();
    const spilled = this.spilled.get(a);
    if (spilled !== undefined) sum.copyFrom(spilled);
    const j = a >> 1;
    const from = TERMS * j + ((a & 1) === 0 ? 0 : 2);
    const to = TERMS * j + ((a & 1) === 0 ? 2 : TERMS);
    for (let k = from; k < to; k++) if (this.cascade[k] !== 0) sum.addDouble(this.cascade[k]);
    return sum;
  }

  /** Merges column k of `other` into column j of this, exactly. */
  mergeColumn(j: number, other: ColumnMoments, k: number): void {
    this.count[j] += other.count[k];
    this.missing[j] += other.missing[k];
    if (other.min[k] < this.min[j]) this.min[j] = other.min[k];
    if (other.max[k] > this.max[j]) this.max[j] = other.max[k];
    const c = other.cascade;
    const at = TERMS * k;
    if (c[at] !== 0) this.addToSum(j, c[at]);
    if (c[at + 1] !== 0) this.addToSum(j, c[at + 1]);
    if (c[at + 2] !== 0) this.addToSquares(j, c[at + 2]);
    if (c[at + 3] !== 0) this.addToSquares(j, c[at + 3]);
    if (c[at + 4] !== 0) this.addToSquares(j, c[at + 4]);
    if (other.spilled.size === 0) return;
    for (let part = 0; part < 2; part++) {
      const sum = other.spilled.get(2 * k + part);
      if (sum !== undefined) this.sumOf(2 * j + part).addSum(sum);
    }
  }

  /** Merges every column of `other` (same width) into this. */
  merge(other: ColumnMoments): void {
    for (let j = 0; j < this.width; j++) this.mergeColumn(j, other, j);
  }

  /**
   * The moments as plain data, sharing this object's arrays (which, grown by
   * doubling, may be longer than `width`): a thread hands them over, arrays
   * and all, without a copy, and stops using this object.
   */
  state(): ColumnMomentsState {
    const { width, count, missing, min, max, cascade } = this;
    const spilled = [...this.spilled].filter(([a]) => a < 2 * width).map(([accumulator, sum]) => ({ accumulator, sum: sum.state() }));
    return { width, count, missing, min, max, cascade, spilled };
  }

  /** The buffers of a state, to move to another thread rather than copy. */
  static buffersOf(state: ColumnMomentsState): ArrayBuffer[] {
    return [state.count, state.missing, state.min, state.max, state.cascade].map((array) => array.buffer as ArrayBuffer);
  }

  /** Moments rebuilt from state(), as received from a worker thread. */
  static fromState(state: ColumnMomentsState): ColumnMoments {
    const moments = new ColumnMoments(0);
    moments.width = state.width;
    moments.count = state.count;
    moments.missing = state.missing;
    moments.min = state.min;
    moments.max = state.max;
    moments.cascade = state.cascade;
    for (const { accumulator, sum } of state.spilled) moments.spilled.set(accumulator, ChunkSum.fromState(sum));
    return moments;
  }

  /** The mean of column j as a double-double [hi, lo] (hi the mean rounded), [NaN, 0] if empty. */
  meanParts(j: number): [number, number] {
    const n = this.count[j];
    if (n === 0) return [NaN, 0];
    const sum = this.exactSum(2 * j);
    const top = sum.topChunk();
    if (top === undefined) return [0, 0];
    const reference = top - 1;
    const [sHi, sLo] = sum.scaled(reference);
    const [hi, lo] = divide(sHi, sLo, n);
    const scale = chunkScale(reference);
    return [hi * scale, lo * scale];
  }

  mean(j: number): number {
    return this.meanParts(j)[0];
  }

  /**
   * M2 of column j, Σx² − (Σx)²/n, as a double-double [hi, lo] times
   * 2^exponent (hi and lo well inside the double range, whatever M2's size);
   * [0, 0, 0] if fewer than two values or no spread.
   */
  private m2Parts(j: number): [number, number, number] {
    const n = this.count[j];
    if (n < 2) return [0, 0, 0];
    const squares = this.exactSum(2 * j + 1);
    const top = squares.topChunk();
    if (top === undefined) return [0, 0, 0];
    // Values scaled by 2^(−32r), squares by 2^(−64r), with r chosen so that Σx² scaled is about 2^0 to 2^64.
    const r = Math.floor(top / 2);
    const [s2Hi, s2Lo] = squares.scaled(2 * r);
    const [s1Hi, s1Lo] = this.exactSum(2 * j).scaled(r);
    // (s1)²/n in double-double.
    const p = s1Hi * s1Hi;
    const [qHi, qLo] = divide(p, productError(s1Hi, s1Hi, p) + 2 * s1Hi * s1Lo, n);
    let [mHi, mLo] = twoSum(s2Hi, -qHi);
    mLo += s2Lo - qLo;
    [mHi, mLo] = twoSum(mHi, mLo);
    if (!(mHi > 0) || s2Hi > CANCELLATION_LIMIT * mHi || !Number.isFinite(s2Hi)) return this.exactM2(j, squares);
    return [mHi, mLo, 64 * r];
  }

  /** M2 exactly, (n·Σx² − (Σx)²)/n in BigInt, as a double-double times 2^exponent. */
  private exactM2(j: number, squares: ChunkSum): [number, number, number] {
    const n = BigInt(this.count[j]);
    const [s2, e2] = squares.big();
    const [s1, e1] = this.exactSum(2 * j).big();
    // Both terms at the common exponent e (in bits).
    const e = Math.min(2 * e1, e2);
    const q = n * (s2 << BigInt(e2 - e)) - ((s1 * s1) << BigInt(2 * e1 - e));
    if (q <= 0n) return [0, 0, 0];
    // q/n with at least 64 bits to spare, then its top 106 bits as two doubles of about 2^0.
    const extra = Math.max(0, 64 + bitLength(n) - bitLength(q) + 64);
    const z = (q << BigInt(extra)) / n;
    const drop = Math.max(0, bitLength(z) - 110);
    // The bits dropped leave a sticky 1 behind, so that hi rounds as z itself would.
    let top = z >> BigInt(drop);
    if (top << BigInt(drop) !== z) top |= 1n;
    const hi = Number(top);
    const lo = Number(top - BigInt(hi));
    const exponent = e - extra + drop;
    // hi is below 2^110: scale it to about 1 so that divisions of it stay in range.
    return [hi * 2 ** -100, lo * 2 ** -100, exponent + 100];
  }

  /** M2 of column j (Infinity beyond the double range: see m2Wide). */
  m2(j: number): number {
    return wideToNumber(this.m2Wide(j));
  }

  /** M2 of column j, whatever its size: values near 1e308 have an M2 far beyond the doubles. */
  m2Wide(j: number): WideNumber {
    const [hi, , exponent] = this.m2Parts(j);
    return wide(hi, exponent);
  }

  /**
   * M2 / (n − ddof), whatever its size. With no more values than ddof (one
   * value and ddof 1) there is no spread to measure, and the variance is 0
   * so that normalization gives β rather than NaN. Undefined if empty.
   */
  varianceWide(j: number, ddof: number): WideNumber | undefined {
    const n = this.count[j];
    if (n === 0) return undefined;
    if (n <= ddof) return WIDE_ZERO;
    const [hi, lo, exponent] = this.m2Parts(j);
    return wide(divide(hi, lo, n - ddof)[0], exponent);
  }

  /** The variance as a double: NaN if empty, Infinity beyond the double range (see varianceWide). */
  variance(j: number, ddof: number): number {
    const v = this.varianceWide(j, ddof);
    return v === undefined ? NaN : wideToNumber(v);
  }

  /** √variance, computed without squaring's overflow: finite for every column of finite values (but a ddof 1 std of ±1.7e308). */
  std(j: number, ddof: number): number {
    const v = this.varianceWide(j, ddof);
    if (v === undefined) return NaN;
    const even = v.exponent - (v.exponent & 1);
    return timesPowerOfTwo(Math.sqrt(v.significand * 2 ** (v.exponent - even)), even / 2);
  }

  snapshot(j: number): MomentsSnapshot {
    const [mean, meanLo] = this.meanParts(j);
    return { count: this.count[j], mean, meanLo, m2: this.m2Wide(j), min: this.min[j], max: this.max[j] };
  }

  /**
   * Sets column j (empty) to the statistics of a snapshot (a parameter file),
   * in the cascade: Σx = n·(mean + meanLo) to 106 bits (the precision of
   * mean + meanLo), Σx² = M2 + (Σx)²/n to RESTORED_GUARD_BITS below M2's last
   * bit (or 159 bits), so that merging restored files is as exact as the
   * files, at the size of any other column. A snapshot beyond the doubles'
   * range goes to the chunks.
   */
  restore(j: number, s: MomentsSnapshot): void {
    this.clearSums(j);
    this.count[j] = s.count;
    this.min[j] = s.count > 0 ? s.min : Infinity;
    this.max[j] = s.count > 0 ? s.max : -Infinity;
    if (s.count === 0) return;
    const parts = [s.mean, s.meanLo].filter((x) => x !== 0).map(decompose);
    // Σx as one exact rational n·Σ mantissa·2^exponent, then rounded to two doubles.
    const e1 = Math.min(0, ...parts.map((p) => p.exponent));
    let exact = 0n;
    for (const p of parts) exact += p.mantissa << BigInt(p.exponent - e1);
    exact *= BigInt(s.count);
    const [s1, f1] = roundToBits(exact, e1, 106);
    // (Σx)²/n = s1²·2^(2f1)/n, truncated RESTORED_GUARD_BITS below M2's last bit, plus M2.
    const m2 = s.m2.significand === 0 ? undefined : decompose(s.m2.significand);
    if (m2) m2.exponent += s.m2.exponent;
    const e2 = Math.min(2 * f1, (m2?.exponent ?? 2 * f1) - RESTORED_GUARD_BITS);
    const n = BigInt(s.count);
    let s2 = ((s1 * s1) << BigInt(2 * f1 - e2)) / n;
    if (m2) s2 += m2.mantissa << BigInt(m2.exponent - e2);
    const [s2Kept, f2] = roundToBits(s2, e2, 159);
    if (!this.restoreTerms(TERMS * j, [s1, f1], 2) || !this.restoreTerms(TERMS * j + 2, [s2Kept, f2], 3)) {
      // Beyond the doubles' range: the chunks hold it.
      this.cascade.fill(0, TERMS * j, TERMS * (j + 1));
      this.sumOf(2 * j).addBigInt(s1, f1);
      this.sumOf(2 * j + 1).addBigInt(s2Kept, f2);
    }
  }

  /**
   * Column j's Σx and Σx², exactly, with n odd (or 0): what a partial fit
   * carries, so that fits of parts made anywhere merge to the last bit. The
   * same values give the same n and exponent however they were cut and added.
   */
  exactSums(j: number): { sum: ExactSum; sumOfSquares: ExactSum } {
    return { sum: oddPart(...this.exactSum(2 * j).big()), sumOfSquares: oddPart(...this.exactSum(2 * j + 1).big()) };
  }

  /** Sets column j (empty) to a count, min, max and exact sums (see exactSums): as if its values had been added. */
  restoreSums(j: number, s: { count: number; min: number; max: number; sum: ExactSum; sumOfSquares: ExactSum }): void {
    this.clearSums(j);
    this.count[j] = s.count;
    this.min[j] = s.count > 0 ? s.min : Infinity;
    this.max[j] = s.count > 0 ? s.max : -Infinity;
    // The spill is part of the exact sum like the cascade: it holds sums of any size.
    if (s.sum.n !== 0n) this.sumOf(2 * j).addBigInt(s.sum.n, s.sum.exponent);
    if (s.sumOfSquares.n !== 0n) this.sumOf(2 * j + 1).addBigInt(s.sumOfSquares.n, s.sumOfSquares.exponent);
  }

  /** Empties column j's sums (cascade and spill): what is restored replaces it. */
  private clearSums(j: number): void {
    this.cascade.fill(0, TERMS * j, TERMS * (j + 1));
    this.spilled.delete(2 * j);
    this.spilled.delete(2 * j + 1);
  }

  /** n·2^e (at most 53·terms bits) as `terms` doubles from cascade[at]; false if a part is out of the doubles' range. */
  private restoreTerms(at: number, [n, e]: [bigint, number], terms: number): boolean {
    let rest = n;
    for (let t = 0; t < terms; t++) {
      const drop = Math.max(0, bitLength(rest < 0n ? -rest : rest) - 53);
      const top = rest >> BigInt(drop);
      const value = timesPowerOfTwo(Number(top), e + drop);
      // Exact unless it overflowed or lost bits as a subnormal.
      if (timesPowerOfTwo(value, -(e + drop)) !== Number(top)) return false;
      this.cascade[at + t] = value;
      rest -= top << BigInt(drop);
    }
    return rest === 0n;
  }
}

/** n·2^e rounded (toward zero) to at most `keep` significant bits: [m, f] with m·2^f. */
function roundToBits(n: bigint, e: number, keep: number): [bigint, number] {
  const drop = Math.max(0, bitLength(n < 0n ? -n : n) - keep);
  return drop === 0 ? [n, e] : [n / (1n << BigInt(drop)), e + drop];
}

/** n·2^e written with n odd (or 0), so that equal sums look the same. */
function oddPart(n: bigint, exponent: number): ExactSum {
  if (n === 0n) return { n, exponent: 0 };
  let m = n;
  let e = exponent;
  while ((m & 0xffffffffn) === 0n) {
    m >>= 32n;
    e += 32;
  }
  while ((m & 1n) === 0n) {
    m >>= 1n;
    e++;
  }
  return { n: m, exponent: e };
}

/** The number of bits of n ≥ 0. */
function bitLength(n: bigint): number {
  if (n === 0n) return 0;
  const hex = n.toString(16);
  return hex.length * 4 - (Math.clz32(parseInt(hex[0], 16)) - 28);
}

/** A finite double as mantissa·2^exponent, mantissa a signed BigInt. */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  bits[0] = x;
  const highWord = words[1];
  const biased = (highWord >>> 20) & 0x7ff;
  const top = (highWord & 0xfffff) | (biased === 0 ? 0 : 0x100000);
  const magnitude = (BigInt(top) << 32n) | BigInt(words[0]);
  return { mantissa: highWord >>> 31 === 1 ? -magnitude : magnitude, exponent: (biased === 0 ? 1 : biased) - 1075 };
}
