// Snappy's block format, both ways: a varint of the uncompressed length, then
// literals (bytes as they are) and copies (of earlier output, by offset and
// length). Compression follows Google's snappy: 64 KiB fragments, a hash
// table of 4-byte sequences, and lookups that step further apart while no
// match turns up, so data that does not compress (the mantissas of
// normalized doubles, most of a feature page) costs little more than a
// copy. Decompression writes into a buffer the caller keeps from page to
// page, and checks every length and offset against both buffers.

const FRAGMENT = 1 << 16;
/** Snappy leaves the last bytes of a fragment as a literal: a match is searched for only where 4-byte loads stay inside it. */
const MARGIN = 15;
const MAX_HASH_BITS = 14;
const HASH_MULTIPLIER = 0x1e35a7bd;
/** Per thread, reused by every fragment: a position (in its fragment) per hash of 4 bytes. */
const table = new Uint16Array(1 << MAX_HASH_BITS);

/** The most bytes snappy can make of `n` bytes (Google's bound). */
export function maxCompressedLength(n: number): number {
  return 32 + n + Math.floor(n / 6);
}

/** Compresses `input` into `out` (at least maxCompressedLength(input.length) bytes); returns the compressed length. */
export function snappyCompress(input: Uint8Array, out: Uint8Array): number {
  let o = 0;
  let n = input.length;
  while (n >= 0x80) {
    out[o++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[o++] = n;
  if (input.length === 0) return o;
  // Unaligned 32-bit loads: one instruction where four byte loads would be four.
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  for (let start = 0; start < input.length; start += FRAGMENT) o = compressFragment(input, view, start, Math.min(input.length, start + FRAGMENT), out, o);
  return o;
}

function compressFragment(input: Uint8Array, view: DataView, start: number, end: number, out: Uint8Array, o: number): number {
  let bits = 8;
  while (1 << bits < end - start && bits < MAX_HASH_BITS) bits++;
  const shift = 32 - bits;
  table.fill(0, 0, 1 << bits);
  let emit = start;
  if (end - start >= MARGIN) {
    const limit = end - MARGIN;
    let ip = start + 1;
    let nextWord = view.getInt32(ip, true);
    let nextHash = Math.imul(nextWord, HASH_MULTIPLIER) >>> shift;
    search: for (;;) {
      // After 32 misses, every other byte is tried, after 64 every third, ...
      let skip = 32;
      let next = ip;
      let candidate = 0;
      let word = 0;
      do {
        ip = next;
        const hash = nextHash;
        next = ip + (skip++ >> 5);
        if (next > limit) break search;
        word = nextWord;
        nextWord = view.getInt32(next, true);
        nextHash = Math.imul(nextWord, HASH_MULTIPLIER) >>> shift;
        candidate = start + table[hash];
        table[hash] = ip - start;
      } while (word !== view.getInt32(candidate, true));
      o = literal(input, emit, ip, out, o);
      // A match; and as long as the bytes right after it match again, more copies.
      for (;;) {
        const base = ip;
        let m = 4;
        while (ip + m + 4 <= end && view.getInt32(ip + m, true) === view.getInt32(candidate + m, true)) m += 4;
        while (ip + m < end && input[ip + m] === input[candidate + m]) m++;
        ip += m;
        o = copy(base - candidate, m, out, o);
        emit = ip;
        if (ip >= limit) break search;
        table[Math.imul(view.getInt32(ip - 1, true), HASH_MULTIPLIER) >>> shift] = ip - 1 - start;
        const hash = Math.imul(view.getInt32(ip, true), HASH_MULTIPLIER) >>> shift;
        candidate = start + table[hash];
        table[hash] = ip - start;
        if (view.getInt32(ip, true) !== view.getInt32(candidate, true)) break;
      }
      nextWord = view.getInt32(++ip, true);
      nextHash = Math.imul(nextWord, HASH_MULTIPLIER) >>> shift;
    }
  }
  return emit < end ? literal(input, emit, end, out, o) : o;
}

/** A literal of input[from, to) (not empty). */
function literal(input: Uint8Array, from: number, to: number, out: Uint8Array, o: number): number {
  const length = to - from;
  const n = length - 1;
  if (n < 60) {
    out[o++] = n << 2;
  } else {
    const bytes = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < 0x1000000 ? 3 : 4;
    out[o++] = (59 + bytes) << 2;
    for (let b = 0, v = n; b < bytes; b++, v = Math.floor(v / 0x100)) out[o++] = v & 0xff;
  }
  // Short literals (most are) byte by byte: a call to set costs more.
  if (length <= 16) for (let i = 0; i < length; i++) out[o + i] = input[from + i];
  else out.set(input.subarray(from, to), o);
  return o + length;
}

/** A copy of `length` bytes from `offset` back (offset < 64 KiB: within a fragment). */
function copy(offset: number, length: number, out: Uint8Array, o: number): number {
  while (length >= 68) {
    out[o++] = (63 << 2) | 2;
    out[o++] = offset & 0xff;
    out[o++] = offset >>> 8;
    length -= 64;
  }
  if (length > 64) {
    out[o++] = (59 << 2) | 2;
    out[o++] = offset & 0xff;
    out[o++] = offset >>> 8;
    length -= 60;
  }
  if (length < 12 && offset < 2048) {
    out[o++] = 1 | ((length - 4) << 2) | ((offset >>> 8) << 5);
    out[o++] = offset & 0xff;
  } else {
    out[o++] = 2 | ((length - 1) << 2);
    out[o++] = offset & 0xff;
    out[o++] = offset >>> 8;
  }
  return o;
}

/**
 * Decompresses `input` into `output`, which must be exactly as long as the
 * uncompressed bytes. Returns the length; throws on bytes that are not snappy
 * or do not fit.
 */
export function snappyUncompress(input: Uint8Array, output: Uint8Array): number {
  const inEnd = input.length;
  const outEnd = output.length;
  // Short literals and copies (most are, in a page of doubles) move as 32-bit words.
  const from32 = new DataView(input.buffer, input.byteOffset, inEnd);
  const to32 = new DataView(output.buffer, output.byteOffset, outEnd);
  let p = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (p >= inEnd || shift > 28) throw new Error('not snappy: bad length');
    const b = input[p++];
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  if (length !== outEnd) throw new Error(`snappy length ${length}, the page header says ${outEnd}`);
  let o = 0;
  while (p < inEnd) {
    const tag = input[p++];
    const type = tag & 3;
    if (type === 0) {
      let n = (tag >>> 2) + 1;
      if (n > 60) {
        const bytes = n - 60;
        if (p + bytes > inEnd) throw new Error('snappy literal cut short');
        n = 0;
        for (let b = bytes - 1; b >= 0; b--) n = n * 0x100 + input[p + b];
        n += 1;
        p += bytes;
      }
      if (p + n > inEnd || o + n > outEnd) throw new Error('snappy literal out of bounds');
      if (n <= 16 && p + 16 <= inEnd && o + 16 <= outEnd) {
        // 8 or 16 bytes, of which the first n count: the rest is written over by what follows.
        to32.setInt32(o, from32.getInt32(p, true), true);
        to32.setInt32(o + 4, from32.getInt32(p + 4, true), true);
        if (n > 8) {
          to32.setInt32(o + 8, from32.getInt32(p + 8, true), true);
          to32.setInt32(o + 12, from32.getInt32(p + 12, true), true);
        }
      } else if (n <= 16) for (let i = 0; i < n; i++) output[o + i] = input[p + i];
      else output.set(input.subarray(p, p + n), o);
      p += n;
      o += n;
      continue;
    }
    let n: number;
    let offset: number;
    if (type === 1) {
      n = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[p++];
    } else if (type === 2) {
      n = (tag >>> 2) + 1;
      offset = input[p] | (input[p + 1] << 8);
      p += 2;
    } else {
      n = (tag >>> 2) + 1;
      offset = (input[p] | (input[p + 1] << 8) | (input[p + 2] << 16)) + input[p + 3] * 0x1000000;
      p += 4;
    }
    if (p > inEnd) throw new Error('snappy copy cut short');
    if (offset === 0 || offset > o || o + n > outEnd) throw new Error('snappy copy out of bounds');
    const from = o - offset;
    if (offset >= 4 && n <= 16 && o + 16 <= outEnd) {
      // Word by word, each read from at least 4 bytes back: an overlapping copy repeats what it has written, as it must.
      to32.setInt32(o, to32.getInt32(from, true), true);
      to32.setInt32(o + 4, to32.getInt32(from + 4, true), true);
      if (n > 8) {
        to32.setInt32(o + 8, to32.getInt32(from + 8, true), true);
        to32.setInt32(o + 12, to32.getInt32(from + 12, true), true);
      }
    } else if (n <= 16 || offset < n) for (let i = 0; i < n; i++) output[o + i] = output[from + i];
    else output.copyWithin(o, from, from + n);
    o += n;
  }
  return o;
}
