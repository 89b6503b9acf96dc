// Count, mean, M2 (sum of squared deviations), min and max of a set of
// columns, from exact sums: Σx and Σx² of each column are kept exactly, as
// fixed-point numbers in 32-bit chunks, so that adding values and merging
// parts commute. The statistics of a file are therefore the same to the last
// bit however it was cut into pieces and whichever threads added them, and
// they are (all but) correctly rounded: mean and M2 = Σx² − (Σx)²/n are
// computed from the exact sums in double-double, or exactly (BigInt) where
// the subtraction cancels too many digits (prices near 1e9 that move by 1e-3).
// Never Σx² − (Σx)²/n in doubles.
//
// Values first go into a cascade of error-free sums per column (two doubles
// for Σx, three for Σx², each addition's rounding error carried to the next
// by TwoSum): exact, and a few times cheaper than chunks; an error that does
// not fit spills into the chunks, and the cascade is flushed into them
// whenever the sums are read, merged or sent (once per piece).
//
// Layout: accumulator a (2j for Σx of column j, 2j + 1 for its Σx²) holds
// `stride` chunks in bins[a·stride …], chunk k worth bins[a·stride + k]·2^(32·(low[a] + k)).
// A chunk is a double holding a signed integer: values add their 32-bit
// pieces to it, and every 2^20 additions the chunks are carried back into
// ±2^31, so no chunk ever leaves the doubles' exact range (2^53).

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

/** ColumnMoments as plain data (structured-cloneable): what a worker thread sends back. */
export interface ColumnMomentsState {
  width: number;
  count: Float64Array;
  missing: Float64Array;
  min: Float64Array;
  max: Float64Array;
  stride: number;
  low: Int32Array;
  bins: Float64Array;
  pending: number;
}

const CHUNK = 4294967296; // 2^32
/**
 * Additions between carries: a value adds at most 2·2^32 to a chunk (x² in
 * two parts), a merge at most 2^31, so chunks stay below 2^52.
 */
const ADDS_BETWEEN_CARRIES = 1 << 19;
const INITIAL_STRIDE = 8;
const UNSET = 0x7fffffff;
const SPLIT = 134217729; // 2^27 + 1
/** Squares of values beyond these magnitudes would overflow or underflow as doubles: done in BigInt. */
const SQUARE_MAX = 2 ** 480;
const SQUARE_MIN = 2 ** -480;
/** Beyond this cancellation (Σx² over M2), M2 is computed exactly. */
const CANCELLATION_LIMIT = 2 ** 40;

import { divide, productError, twoSum } from './double-double.js';
import { type WideNumber, WIDE_ZERO, timesPowerOfTwo, wide, wideToNumber } from './wide.js';

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
/** 2^(32·(i − 80)). */
const CHUNK_SCALE = Float64Array.from({ length: 161 }, (_, i) => 2 ** (32 * (i - 80)));

export class ColumnMoments {
  width: number;
  count: Float64Array;
  /** Values that were missing (NaN), which the moments leave out. */
  missing: Float64Array;
  min: Float64Array;
  max: Float64Array;
  private stride = INITIAL_STRIDE;
  private low: Int32Array;
  private bins: Float64Array;
  private pending = 0;
  /** Per column: Σx as c[5j] + c[5j+1], Σx² as c[5j+2] + c[5j+3] + c[5j+4], not yet in the chunks. */
  private cascade: Float64Array;
  private cascaded = false;

  constructor(width: number) {
    this.width = width;
    this.count = new Float64Array(width);
    this.missing = new Float64Array(width);
    this.min = new Float64Array(width).fill(Infinity);
    this.max = new Float64Array(width).fill(-Infinity);
    this.low = new Int32Array(2 * width).fill(UNSET);
    this.bins = new Float64Array(2 * width * INITIAL_STRIDE);
    this.cascade = new Float64Array(5 * width);
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
      const extend = (array: Float64Array, fill: number): Float64Array => {
        const bigger = new Float64Array(capacity).fill(fill);
        bigger.set(array);
        return bigger;
      };
      this.count = extend(this.count, 0);
      this.missing = extend(this.missing, 0);
      this.min = extend(this.min, Infinity);
      this.max = extend(this.max, -Infinity);
      const low = new Int32Array(2 * capacity).fill(UNSET);
      low.set(this.low);
      this.low = low;
      const bins = new Float64Array(2 * capacity * this.stride);
      bins.set(this.bins);
      this.bins = bins;
      const cascade = new Float64Array(5 * capacity);
      cascade.set(this.cascade);
      this.cascade = cascade;
    }
    this.width = width;
  }

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
      if (++this.pending >= ADDS_BETWEEN_CARRIES) this.carry();
      this.addDouble(2 * j, x);
      this.addBigSquare(2 * j + 1, x);
      return;
    }
    const c = this.cascade;
    const at = 5 * j;
    this.cascaded = true;
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
    if (spill !== 0) this.spill(2 * j, spill);
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
    if (spill !== 0) this.spill(2 * j + 1, spill);
    const t2 = t + q;
    bb = t2 - t;
    const f = t - (t2 - bb) + (q - bb);
    d = v;
    v = d + f;
    bb = v - d;
    spill = d - (v - bb) + (f - bb);
    if (spill !== 0) this.spill(2 * j + 1, spill);
    c[at + 2] = s;
    c[at + 3] = t2;
    c[at + 4] = v;
  }

  /** A rounding error the cascade could not keep, into the chunks. */
  private spill(a: number, x: number): void {
    if (++this.pending >= ADDS_BETWEEN_CARRIES) this.carry();
    this.addDouble(a, x);
  }

  /** Moves every cascade into the chunks (before the sums are read, merged or sent). */
  private flush(): void {
    if (!this.cascaded) return;
    this.cascaded = false;
    const c = this.cascade;
    for (let j = 0; j < this.width; j++) {
      for (let k = 0; k < 5; k++) {
        const x = c[5 * j + k];
        if (x === 0) continue;
        c[5 * j + k] = 0;
        this.spill(k < 2 ? 2 * j : 2 * j + 1, x);
      }
    }
  }

  /** Adds the finite, nonzero double x to accumulator a, exactly. */
  private addDouble(a: number, x: number): void {
    bits[0] = x;
    const lowWord = words[0];
    const highWord = words[1];
    const biased = (highWord >>> 20) & 0x7ff;
    // x = ±(top·2^32 + lowWord)·2^exponent
    const exponent = (biased === 0 ? 1 : biased) - 1075;
    const chunk = exponent >> 5;
    const stride = this.stride;
    let k = chunk - this.low[a];
    if (k < 0 || k + 3 >= stride) k = this.makeRoom(a, chunk, chunk + 2);
    const top = (highWord & 0xfffff) | (biased === 0 ? 0 : 0x100000);
    const shift = exponent & 31;
    const at = a * this.stride + k;
    const bins = this.bins;
    const sign = highWord >>> 31 === 0 ? 1 : -1;
    if (shift === 0) {
      bins[at] += sign * lowWord;
      bins[at + 1] += sign * top;
      return;
    }
    bins[at] += sign * ((lowWord << shift) >>> 0);
    bins[at + 1] += sign * (((top << shift) | (lowWord >>> (32 - shift))) >>> 0);
    bins[at + 2] += sign * (top >>> (32 - shift));
  }

  /** x² for |x| beyond 2^±480, exactly, through BigInt. */
  private addBigSquare(a: number, x: number): void {
    const { mantissa, exponent } = decompose(x);
    this.addBigInt(a, mantissa * mantissa, 2 * exponent);
  }

  /** Adds n·2^exponent (n a BigInt) to accumulator a, exactly, chunk by chunk. */
  private addBigInt(a: number, n: bigint, exponent: number): void {
    if (n === 0n) return;
    const negative = n < 0n;
    let magnitude = negative ? -n : n;
    const chunk = Math.floor(exponent / 32);
    magnitude <<= BigInt(exponent - chunk * 32);
    const pieces: number[] = [];
    while (magnitude > 0n) {
      pieces.push(Number(magnitude & 0xffffffffn));
      magnitude >>= 32n;
    }
    if (++this.pending >= ADDS_BETWEEN_CARRIES) this.carry();
    let k = chunk - this.low[a];
    if (k < 0 || k + pieces.length + 1 >= this.stride) k = this.makeRoom(a, chunk, chunk + pieces.length - 1);
    const at = a * this.stride + k;
    pieces.forEach((piece, i) => {
      this.bins[at + i] += negative ? -piece : piece;
    });
  }

  /**
   * Moves or widens accumulator a's window so that chunks `from` to `to`
   * fit with a free chunk above them (for carries); returns from's slot.
   */
  private makeRoom(a: number, from: number, to: number): number {
    if (this.low[a] === UNSET) {
      this.low[a] = from - 1;
      if (to - from + 3 > this.stride) this.widen(to - from + 3);
      return 1;
    }
    const [first, last] = this.occupied(a);
    const low = Math.min(from, first);
    const high = Math.max(to, last);
    if (high - low + 3 > this.stride) this.widen(high - low + 3);
    // Leave one chunk below and the rest above, where sums grow.
    const newLow = low - 1;
    const stride = this.stride;
    const base = a * stride;
    const moved = this.bins.slice(base, base + stride);
    this.bins.fill(0, base, base + stride);
    const oldLow = this.low[a];
    for (let k = 0; k < stride; k++) if (moved[k] !== 0) this.bins[base + oldLow + k - newLow] = moved[k];
    this.low[a] = newLow;
    return from - newLow;
  }

  /** The lowest and highest chunk indexes with a nonzero chunk (the window's ends if none). */
  private occupied(a: number): [number, number] {
    const base = a * this.stride;
    let first = -1;
    let last = -1;
    for (let k = 0; k < this.stride; k++) {
      if (this.bins[base + k] === 0) continue;
      if (first < 0) first = k;
      last = k;
    }
    const low = this.low[a];
    return first < 0 ? [low + 1, low + 1] : [low + first, low + last];
  }

  /** Gives every accumulator at least `needed` chunks (doubling), keeping their contents. */
  private widen(needed: number): void {
    let stride = this.stride;
    while (stride < needed) stride *= 2;
    const bins = new Float64Array(this.low.length * stride);
    for (let a = 0; a < this.low.length; a++) bins.set(this.bins.subarray(a * this.stride, (a + 1) * this.stride), a * stride);
    this.bins = bins;
    this.stride = stride;
  }

  /** Carries every chunk back into ±2^31 (balanced, so a negative sum does not carry forever). */
  private carry(): void {
    if (this.pending === 0) return;
    this.pending = 0;
    const { stride, bins } = this;
    for (let a = 0; a < this.low.length; a++) {
      const base = a * stride;
      let carried = 0;
      for (let k = 0; k < stride; k++) {
        const v = bins[base + k] + carried;
        carried = Math.round(v / CHUNK);
        bins[base + k] = v - carried * CHUNK;
      }
      if (carried !== 0) {
        // Only a sum grown past its window: widen it and put the carry above.
        this.widen(stride * 2);
        this.bins[a * this.stride + stride] = carried;
        this.pending = 1;
        return this.carry();
      }
    }
  }

  /** Merges column k of `other` into column j of this, exactly. */
  mergeColumn(j: number, other: ColumnMoments, k: number): void {
    other.flush();
    this.flush();
    other.carry();
    if (++this.pending >= ADDS_BETWEEN_CARRIES) this.carry();
    this.mergeCarried(j, other, k);
  }

  /** Merges every column of `other` (same width) into this. */
  merge(other: ColumnMoments): void {
    other.flush();
    this.flush();
    other.carry();
    if (++this.pending >= ADDS_BETWEEN_CARRIES) this.carry();
    for (let j = 0; j < this.width; j++) this.mergeCarried(j, other, j);
  }

  /** mergeColumn with `other` carried: its chunks are at most 2^31 each. */
  private mergeCarried(j: number, other: ColumnMoments, k: number): void {
    this.count[j] += other.count[k];
    this.missing[j] += other.missing[k];
    if (other.min[k] < this.min[j]) this.min[j] = other.min[k];
    if (other.max[k] > this.max[j]) this.max[j] = other.max[k];
    for (let part = 0; part < 2; part++) {
      const from = 2 * k + part;
      const to = 2 * j + part;
      if (other.low[from] === UNSET) continue;
      const base = from * other.stride;
      for (let c = 0; c < other.stride; c++) {
        const v = other.bins[base + c];
        if (v === 0) continue;
        const chunk = other.low[from] + c;
        let slot = chunk - this.low[to];
        if (this.low[to] === UNSET || slot < 0 || slot + 1 >= this.stride) slot = this.makeRoom(to, chunk, chunk);
        this.bins[to * this.stride + slot] += v;
      }
    }
  }

  state(): ColumnMomentsState {
    this.flush();
    const { width, stride, pending } = this;
    if (this.count.length === width) {
      const { count, missing, min, max, low, bins } = this;
      return { width, count, missing, min, max, stride, low, bins, pending };
    }
    // Grown by doubling: only the columns in use.
    return {
      width,
      count: this.count.slice(0, width),
      missing: this.missing.slice(0, width),
      min: this.min.slice(0, width),
      max: this.max.slice(0, width),
      stride,
      low: this.low.slice(0, 2 * width),
      bins: this.bins.slice(0, 2 * width * stride),
      pending,
    };
  }

  /** Moments rebuilt from state(), as received from a worker thread. */
  static fromState(state: ColumnMomentsState): ColumnMoments {
    const moments = new ColumnMoments(state.width);
    moments.count.set(state.count);
    moments.missing.set(state.missing);
    moments.min.set(state.min);
    moments.max.set(state.max);
    moments.stride = state.stride;
    moments.low = Int32Array.from(state.low);
    moments.bins = Float64Array.from(state.bins);
    moments.pending = state.pending;
    return moments;
  }

  /** The mean of column j as a double-double [hi, lo] (hi the mean rounded), [NaN, 0] if empty. */
  meanParts(j: number): [number, number] {
    const n = this.count[j];
    if (n === 0) return [NaN, 0];
    this.flush();
    this.carry();
    const a = 2 * j;
    const top = this.topChunk(a);
    if (top === undefined) return [0, 0];
    const reference = top - 1;
    const [sHi, sLo] = this.scaledSum(a, reference);
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
    this.flush();
    this.carry();
    const top = this.topChunk(2 * j + 1);
    if (top === undefined) return [0, 0, 0];
    // Values scaled by 2^(−32r), squares by 2^(−64r), with r chosen so that Σx² scaled is about 2^0 to 2^64.
    const r = Math.floor(top / 2);
    const [s2Hi, s2Lo] = this.scaledSum(2 * j + 1, 2 * r);
    const [s1Hi, s1Lo] = this.scaledSum(2 * j, r);
    // (s1)²/n in double-double.
    const p = s1Hi * s1Hi;
    const [qHi, qLo] = divide(p, productError(s1Hi, s1Hi, p) + 2 * s1Hi * s1Lo, n);
    let [mHi, mLo] = twoSum(s2Hi, -qHi);
    mLo += s2Lo - qLo;
    [mHi, mLo] = twoSum(mHi, mLo);
    if (!(mHi > 0) || s2Hi > CANCELLATION_LIMIT * mHi || !Number.isFinite(s2Hi)) return this.exactM2(j);
    return [mHi, mLo, 64 * r];
  }

  /** M2 exactly, (n·Σx² − (Σx)²)/n in BigInt, as a double-double times 2^exponent. */
  private exactM2(j: number): [number, number, number] {
    const n = BigInt(this.count[j]);
    const [s1, e1] = this.bigSum(2 * j);
    const [s2, e2] = this.bigSum(2 * j + 1);
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
   * Sets column j (empty) to the statistics of a snapshot (a parameter
   * file): Σx = n·(mean + meanLo) exactly, Σx² = M2 + (Σx)²/n to far below
   * M2's last bit, so that merging restored files is as exact as the files.
   */
  restore(j: number, s: MomentsSnapshot): void {
    this.flush();
    this.count[j] = s.count;
    this.min[j] = s.count > 0 ? s.min : Infinity;
    this.max[j] = s.count > 0 ? s.max : -Infinity;
    if (s.count === 0) return;
    const parts = [s.mean, s.meanLo].filter((x) => x !== 0).map(decompose);
    // Σx as one exact rational n·Σ mantissa·2^exponent.
    const e1 = Math.min(0, ...parts.map((p) => p.exponent));
    let s1 = 0n;
    for (const p of parts) s1 += p.mantissa << BigInt(p.exponent - e1);
    s1 *= BigInt(s.count);
    this.addBigInt(2 * j, s1, e1);
    // (Σx)²/n = s1²·2^(2e1)/n, truncated 64 bits below M2's last bit, plus M2.
    const m2 = s.m2.significand === 0 ? undefined : decompose(s.m2.significand);
    if (m2) m2.exponent += s.m2.exponent;
    const e2 = Math.min(2 * e1, (m2?.exponent ?? 2 * e1) - 64);
    const n = BigInt(s.count);
    let s2 = ((s1 * s1) << BigInt(2 * e1 - e2)) / n;
    if (m2) s2 += m2.mantissa << BigInt(m2.exponent - e2);
    this.addBigInt(2 * j + 1, s2, e2);
  }

  /** The highest chunk index holding something (after a carry), or undefined if the sum is 0. */
  private topChunk(a: number): number | undefined {
    const base = a * this.stride;
    for (let k = this.stride - 1; k >= 0; k--) if (this.bins[base + k] !== 0) return this.low[a] + k;
    return undefined;
  }

  /** Accumulator a's sum times 2^(−32·reference), as a double-double. */
  private scaledSum(a: number, reference: number): [number, number] {
    const base = a * this.stride;
    const low = this.low[a];
    let hi = 0;
    let lo = 0;
    if (low === UNSET) return [0, 0];
    for (let k = this.stride - 1; k >= 0; k--) {
      const v = this.bins[base + k];
      if (v === 0) continue;
      const scaled = v * chunkScale(low + k - reference);
      const [s, e] = twoSum(hi, scaled);
      hi = s;
      lo += e;
    }
    return twoSum(hi, lo);
  }

  /** Accumulator a's sum exactly: [n, e] with the sum n·2^e. */
  private bigSum(a: number): [bigint, number] {
    const base = a * this.stride;
    const low = this.low[a];
    if (low === UNSET) return [0n, 0];
    let n = 0n;
    for (let k = this.stride - 1; k >= 0; k--) n = (n << 32n) + BigInt(this.bins[base + k]);
    return [n, 32 * low];
  }
}

/** 2^(32·k), in two factors beyond the table. */
function chunkScale(k: number): number {
  if (k >= -80 && k <= 80) return CHUNK_SCALE[k + 80];
  return 2 ** (16 * k) * 2 ** (16 * k);
}

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(16).length * 4;
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

