// An exact sum of doubles as a fixed-point number in 32-bit chunks: the
// canonical form of a column's Σx or Σx², in which sums merge in any order and
// from which the statistics are computed. A chunk is a double holding a signed
// integer, chunk k worth chunks[k]·2^(32·(low + k)); values add their 32-bit
// pieces to it, and every 2^19 additions the chunks are carried back into
// ±2^31, so no chunk ever leaves the doubles' exact range (2^53).

const CHUNK = 4294967296; // 2^32
/**
 * Additions between carries: a value adds at most 2·2^32 to a chunk (x² in
 * two parts), a merge at most 2^31, so chunks stay below 2^52.
 */
const ADDS_BETWEEN_CARRIES = 1 << 19;
const INITIAL_LENGTH = 8;
const UNSET = 0x7fffffff;

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);
/** 2^(32·(i − 80)). */
const CHUNK_SCALE = Float64Array.from({ length: 161 }, (_, i) => 2 ** (32 * (i - 80)));

/** A ChunkSum as plain data (structured-cloneable). */
export interface ChunkSumState {
  low: number;
  chunks: Float64Array;
}

export class ChunkSum {
  /** The chunk index of chunks[0] (UNSET while the sum has never held anything). */
  private low = UNSET;
  private chunks = new Float64Array(INITIAL_LENGTH);
  private pending = 0;

  /** Adds the finite, nonzero double x, exactly. */
  addDouble(x: number): void {
    if (++this.pending >= ADDS_BETWEEN_CARRIES) this.carry();
    bits[0] = x;
    const lowWord = words[0];
    const highWord = words[1];
    const biased = (highWord >>> 20) & 0x7ff;
    // x = ±(top·2^32 + lowWord)·2^exponent
    const exponent = (biased === 0 ? 1 : biased) - 1075;
    const chunk = exponent >> 5;
    let k = chunk - this.low;
    if (this.low === UNSET || k < 0 || k + 3 >= this.chunks.length) k = this.makeRoom(chunk, chunk + 2);
    const top = (highWord & 0xfffff) | (biased === 0 ? 0 : 0x100000);
    const shift = exponent & 31;
    const chunks = this.chunks;
    const sign = highWord >>> 31 === 0 ? 1 : -1;
    if (shift === 0) {
      chunks[k] += sign * lowWord;
      chunks[k + 1] += sign * top;
      return;
    }
    chunks[k] += sign * ((lowWord << shift) >>> 0);
    chunks[k + 1] += sign * (((top << shift) | (lowWord >>> (32 - shift))) >>> 0);
    chunks[k + 2] += sign * (top >>> (32 - shift));
  }

  /** Adds n·2^exponent (n a BigInt), exactly. */
  addBigInt(n: bigint, exponent: number): void {
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
    let k = chunk - this.low;
    if (this.low === UNSET || k < 0 || k + pieces.length + 1 >= this.chunks.length) k = this.makeRoom(chunk, chunk + pieces.length - 1);
    const chunks = this.chunks;
    pieces.forEach((piece, i) => {
      chunks[k + i] += negative ? -piece : piece;
    });
  }

  /** Adds another sum, exactly. */
  addSum(other: ChunkSum): void {
    other.carry();
    if (other.low === UNSET) return;
    if (++this.pending >= ADDS_BETWEEN_CARRIES) this.carry();
    for (let c = 0; c < other.chunks.length; c++) {
      const v = other.chunks[c];
      if (v === 0) continue;
      const chunk = other.low + c;
      let slot = chunk - this.low;
      if (this.low === UNSET || slot < 0 || slot + 1 >= this.chunks.length) slot = this.makeRoom(chunk, chunk);
      this.chunks[slot] += v;
    }
  }

  /** Makes this sum 0, keeping its room. */
  clear(): void {
    if (this.low === UNSET) return;
    this.chunks.fill(0);
    this.low = UNSET;
    this.pending = 0;
  }

  /**
   * Moves or widens the window so that chunks `from` to `to` fit with a free
   * chunk above them (for carries); returns from's slot.
   */
  private makeRoom(from: number, to: number): number {
    if (this.low === UNSET) {
      this.low = from - 1;
      if (to - from + 3 > this.chunks.length) this.widen(to - from + 3);
      return 1;
    }
    const [first, last] = this.occupied();
    const low = Math.min(from, first);
    const high = Math.max(to, last);
    // Leave one chunk below and the rest above, where sums grow.
    const newLow = low - 1;
    const shift = this.low - newLow;
    const needed = high - low + 3;
    if (needed > this.chunks.length) {
      let length = this.chunks.length;
      while (length < needed) length *= 2;
      const chunks = new Float64Array(length);
      chunks.set(this.chunks.subarray(first - this.low, last - this.low + 1), first - newLow);
      this.chunks = chunks;
    } else if (shift !== 0) {
      // In place: the occupied chunks move by `shift`, and what they leave is cleared.
      const a = first - this.low;
      const b = last - this.low + 1;
      this.chunks.copyWithin(a + shift, a, b);
      if (shift > 0) this.chunks.fill(0, a, Math.min(b, a + shift));
      else this.chunks.fill(0, Math.max(a, b + shift), b);
    }
    this.low = newLow;
    return from - newLow;
  }

  /** The lowest and highest chunk indexes with a nonzero chunk (the window's ends if none). */
  private occupied(): [number, number] {
    let first = -1;
    let last = -1;
    for (let k = 0; k < this.chunks.length; k++) {
      if (this.chunks[k] === 0) continue;
      if (first < 0) first = k;
      last = k;
    }
    return first < 0 ? [this.low + 1, this.low + 1] : [this.low + first, this.low + last];
  }

  /** At least `needed` chunks (doubling), keeping the contents at their indexes. */
  private widen(needed: number): void {
    let length = this.chunks.length;
    while (length < needed) length *= 2;
    const chunks = new Float64Array(length);
    chunks.set(this.chunks);
    this.chunks = chunks;
  }

  /** Carries every chunk back into ±2^31 (balanced, so a negative sum does not carry forever). */
  carry(): void {
    if (this.pending === 0) return;
    this.pending = 0;
    const chunks = this.chunks;
    let carried = 0;
    for (let k = 0; k < chunks.length; k++) {
      const v = chunks[k] + carried;
      carried = Math.round(v / CHUNK);
      chunks[k] = v - carried * CHUNK;
    }
    if (carried !== 0) {
      // Only a sum grown past its window: widen it and put the carry above.
      const length = chunks.length;
      this.widen(2 * length);
      this.chunks[length] = carried;
    }
  }

  /** The highest chunk index holding something (carried first), or undefined if the sum is 0. */
  topChunk(): number | undefined {
    this.carry();
    for (let k = this.chunks.length - 1; k >= 0; k--) if (this.chunks[k] !== 0) return this.low + k;
    return undefined;
  }

  /** The sum times 2^(−32·reference), as a double-double (carried first). */
  scaled(reference: number): [number, number] {
    this.carry();
    if (this.low === UNSET) return [0, 0];
    let hi = 0;
    let lo = 0;
    for (let k = this.chunks.length - 1; k >= 0; k--) {
      const v = this.chunks[k];
      if (v === 0) continue;
      const scaled = v * chunkScale(this.low + k - reference);
      const s = hi + scaled;
      const bb = s - hi;
      lo += hi - (s - bb) + (scaled - bb);
      hi = s;
    }
    const s = hi + lo;
    return [s, lo - (s - hi)];
  }

  /** The sum exactly: [n, e] with the sum n·2^e. */
  big(): [bigint, number] {
    this.carry();
    if (this.low === UNSET) return [0n, 0];
    let n = 0n;
    for (let k = this.chunks.length - 1; k >= 0; k--) n = (n << 32n) + BigInt(this.chunks[k]);
    return [n, 32 * this.low];
  }

  /** Becomes a copy of `other`. */
  copyFrom(other: ChunkSum): void {
    if (this.chunks.length !== other.chunks.length) this.chunks = new Float64Array(other.chunks.length);
    this.chunks.set(other.chunks);
    this.low = other.low;
    this.pending = other.pending;
  }

  /** Carried, so that the receiver can add it as it is. */
  state(): ChunkSumState {
    this.carry();
    return { low: this.low, chunks: this.chunks };
  }

  static fromState(state: ChunkSumState): ChunkSum {
    const sum = new ChunkSum();
    sum.low = state.low;
    sum.chunks = Float64Array.from(state.chunks);
    return sum;
  }
}

/** 2^(32·k), in two factors beyond the table. */
export function chunkScale(k: number): number {
  if (k >= -80 && k <= 80) return CHUNK_SCALE[k + 80];
  return 2 ** (16 * k) * 2 ** (16 * k);
}
