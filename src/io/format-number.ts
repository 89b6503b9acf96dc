// Numbers out: the shortest decimal text that reads back as exactly the
// same double, byte for byte what JavaScript's String(x) gives (-0 is "-0"),
// written straight into an output buffer.
//
// How: X = |x|·10^k, scaled into [1e14, 1e15), is computed as a double-double
// (Dekker's exact product with a 106-bit power of ten), and so are the two
// ends of x's rounding interval, X ± ½ulp·10^k. The shortest digits are those
// of the coarsest decimal grid (integers, then tenths, then hundredths of X)
// with a point strictly inside that interval; of those, the one nearest X.
// The double-double carries about 1e-16 of absolute error at this scale;
// whenever a decision falls within 1e-9 of a grid line (an end of the
// interval on a short decimal, a tie between two candidates), or the input
// is unusual (a power of two, a subnormal, beyond 1e±280), the engine's own
// conversion decides instead, so the result is always String(x)'s.

const LOW = 1e14;
const HIGH = 1e15;
/** Decisions this close to a grid line go to the engine's conversion. */
const TOLERANCE = 1e-9;
const SPLIT = 134217729; // 2^27 + 1, Dekker's splitter
const MIN_EXPONENT10 = -280;
const MAX_EXPONENT10 = 290;

const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

// 10^k as a double-double, by index k + POW10_BIAS, computed on first use:
// hi is 10^k rounded, lo the rest rounded, hiHigh + hiLow = hi split for Dekker.
const POW10_BIAS = 300;
const pow10Hi = new Float64Array(600);
const pow10Lo = new Float64Array(600);
const pow10HiHigh = new Float64Array(600);
const pow10HiLow = new Float64Array(600);
const pow10Ready = new Uint8Array(600);

function pow10Index(k: number): number {
  const index = k + POW10_BIAS;
  if (pow10Ready[index] === 0) computePow10(k, index);
  return index;
}

/** Fills in 10^k, once per k (BigInt arithmetic, kept out of the hot path). */
function computePow10(k: number, index: number): void {
  {
    let hi: number;
    let lo: number;
    if (k >= 0) {
      const exact = 10n ** BigInt(k);
      hi = Number(exact);
      lo = Number(exact - BigInt(hi));
    } else {
      // 10^k = q·2^-s with q = ⌊2^s/10^-k⌋, about 170 bits: far more than the 106 kept.
      const s = Math.ceil(-k * Math.log2(10)) + 170;
      const q = (1n << BigInt(s)) / 10n ** BigInt(-k);
      const qHi = Number(q);
      // Scaled in two steps: 2^-s alone underflows for s > 1074.
      const half = Math.floor(s / 2);
      hi = qHi * 2 ** -half * 2 ** -(s - half);
      lo = Number(q - BigInt(qHi)) * 2 ** -half * 2 ** -(s - half);
    }
    const t = SPLIT * hi;
    const high = t - (t - hi);
    pow10Hi[index] = hi;
    pow10Lo[index] = lo;
    pow10HiHigh[index] = high;
    pow10HiLow[index] = hi - high;
    pow10Ready[index] = 1;
  }
}

/** 2^(i − 1100): the half-ulp of a double with biased exponent i + 76. */
const POW2 = Float64Array.from({ length: 2200 }, (_, i) => 2 ** (i - 1100));
/** The double nearest 10^(i − 350), to correct the decimal exponent estimate. */
const TEN = Float64Array.from({ length: 702 }, (_, i) => Number(`1e${i - 350}`));

/** Two ASCII digits per number below 100. */
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 48 + (i % 2 === 0 ? Math.floor(i / 20) : (i >> 1) % 10));
/** Four ASCII digits per number below 10000, as one little-endian 32-bit word: written with one store. */
const DIGIT_QUADS = Uint32Array.from({ length: 10000 }, (_, i) => {
  const d = [Math.floor(i / 1000), Math.floor(i / 100) % 10, Math.floor(i / 10) % 10, i % 10].map((x) => 48 + x);
  return (d[0] | (d[1] << 8) | (d[2] << 16) | (d[3] << 24)) >>> 0;
});

/** A DataView on the buffer written last (the writer reuses its buffer for many numbers). */
let viewed: Uint8Array | undefined;
let view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(8));
function viewOf(buffer: Uint8Array): DataView<ArrayBufferLike> {
  if (buffer !== viewed) {
    viewed = buffer;
    view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  }
  return view;
}

const MINUS = 45;
const ZERO = 48;
const DOT = 46;
const LOWER_E = 101;
const PLUS = 43;

/** The most bytes writeShortest writes for one number ("-1.2345678901234567e-123"). */
export const MAX_NUMBER_BYTES = 25;

/**
 * Writes the shortest round-trip text of the finite double `value` at
 * `buffer[at]` (room for MAX_NUMBER_BYTES is the caller's); returns the
 * position after it.
 */
export function writeShortest(value: number, buffer: Uint8Array, at: number): number {
  let p = at;
  if (value === 0) {
    if (1 / value < 0) buffer[p++] = MINUS;
    buffer[p] = ZERO;
    return p + 1;
  }
  let v = value;
  if (v < 0) {
    buffer[p++] = MINUS;
    v = -v;
  }
  bits[0] = v;
  const high = words[1];
  const exponent = (high >>> 20) & 0x7ff;
  // Subnormals, and powers of two (whose interval is lopsided), are left to the engine.
  if (exponent === 0 || ((high & 0xfffff) === 0 && words[0] === 0)) return writeAscii(String(v), buffer, p);
  let exponent10 = Math.floor((exponent - 1023) * 0.30102999566398119);
  if (exponent10 < MIN_EXPONENT10 || exponent10 > MAX_EXPONENT10) return writeAscii(String(v), buffer, p);
  if (v >= TEN[exponent10 + 351]) exponent10++;
  const k = 14 - exponent10;
  const i = pow10Index(k);
  const ph = pow10Hi[i];
  // X = v·10^k = x + xe exactly but for the last ~1e-32 (relative).
  const x = v * ph;
  const t = SPLIT * v;
  const vh = t - (t - v);
  const vl = v - vh;
  const pH = pow10HiHigh[i];
  const pL = pow10HiLow[i];
  const xe = vh * pH - x + vh * pL + vl * pH + vl * pL + v * pow10Lo[i];
  if (x >= HIGH || x < LOW) return writeAscii(String(v), buffer, p);
  let xi = Math.floor(x);
  let f = x - xi + xe;
  if (f < 0) {
    xi -= 1;
    f += 1;
  } else if (f >= 1) {
    xi += 1;
    f -= 1;
  }
  if (xi >= HIGH) return writeAscii(String(v), buffer, p);
  // Half the rounding interval, in units of X. The interval is symmetric
  // about X (powers of two went to the engine), so if a decimal of some
  // length lies inside, the nearest one to X of that length does.
  const w = POW2[exponent + 24] * ph;
  // The digits are head (an integer up to 1e15), then tail (tailDigits
  // digits); the value is digits × 10^exponent.
  let head = xi;
  let tail: number;
  let tailDigits: number;
  let decimalExponent: number;
  const tenths = f * 10;
  tail = Math.floor(tenths + 0.5);
  const offTenths = tenths - tail;
  const offTenth = (offTenths < 0 ? -offTenths : offTenths) * 0.1;
  if (close(offTenth, w) || close(offTenths, 0.5) || close(offTenths, -0.5)) return writeAscii(String(v), buffer, p);
  if (offTenth >= w) {
    // 17 digits: the nearest hundredth (always inside: the interval is wider than 0.01).
    const hundredths = f * 100;
    tail = Math.floor(hundredths + 0.5);
    if (close(hundredths - tail, -0.5) || close(hundredths - tail, 0.5)) return writeAscii(String(v), buffer, p);
    tailDigits = 2;
    decimalExponent = -2 - k;
  } else if ((f < 0.5 ? f : 1 - f) >= w) {
    // 16 digits (the nearest integer is outside, so tail is 1 to 9).
    if (close(f < 0.5 ? f : 1 - f, w)) return writeAscii(String(v), buffer, p);
    tailDigits = 1;
    decimalExponent = -1 - k;
  } else {
    // An integer is inside: remove trailing digits while a multiple of the next power of ten still is.
    let lowFraction = f - w;
    let highFraction = f + w;
    let lowInteger = xi;
    let highInteger = xi;
    if (lowFraction < 0) {
      lowInteger -= 1;
      lowFraction += 1;
    }
    if (highFraction >= 1) {
      highInteger += 1;
      highFraction -= 1;
    }
    if (nearGrid(lowFraction) || nearGrid(highFraction)) return writeAscii(String(v), buffer, p);
    const lowest = lowInteger + 1;
    let scale = 1;
    let removed = 0;
    while (removed < 15 && Math.floor(highInteger / (scale * 10)) * (scale * 10) >= lowest) {
      scale *= 10;
      removed++;
    }
    const first = Math.ceil(lowest / scale);
    const last = Math.floor(highInteger / scale);
    const quotient = Math.floor(xi / scale);
    const fraction = (xi - quotient * scale + f) / scale;
    if (close(fraction, 0.5)) return writeAscii(String(v), buffer, p);
    head = fraction > 0.5 ? quotient + 1 : quotient;
    if (head < first) head = first;
    else if (head > last) head = last;
    tail = 0;
    tailDigits = 0;
    decimalExponent = removed - k;
  }
  return writeDigits(buffer, p, head, tail, tailDigits, decimalExponent);
}

/** A fraction within TOLERANCE of 0 or 1: too close to a grid line to decide here. */
function nearGrid(fraction: number): boolean {
  return fraction < TOLERANCE || fraction > 1 - TOLERANCE;
}

/** a within TOLERANCE of b: too close to tell here. */
function close(a: number, b: number): boolean {
  return a > b - TOLERANCE && a < b + TOLERANCE;
}

/**
 * Writes head's digits then tail's (tailDigits of them), for the value
 * digits × 10^exponent, in JavaScript's layout: plain up to 21 integer
 * digits, 0.000ddd down to 1e-6, else d.ddde±n.
 */
function writeDigits(buffer: Uint8Array, at: number, head: number, tail: number, tailDigits: number, exponent: number): number {
  // head in two halves of up to 8 digits. Quotients by reciprocal products
  // (exact for these sizes, checked in the tests), so that the digits do not
  // wait on a chain of divisions.
  let top = 0;
  let bottom = head;
  let topDigits = 0;
  let bottomDigits: number;
  if (head >= 1e8) {
    top = Math.floor(head * 1e-8);
    bottom = head - top * 1e8;
    topDigits = digitCount(top);
    bottomDigits = 8;
  } else {
    bottomDigits = digitCount(head);
  }
  const n = topDigits + bottomDigits + tailDigits;
  const point = n + exponent; // the value is 0.digits × 10^point
  let p = at;
  const small = point <= 0 && point > -6;
  if (small) {
    buffer[p++] = ZERO;
    buffer[p++] = DOT;
    for (let z = point; z < 0; z++) buffer[p++] = ZERO;
  } else {
    p++; // digits go one further on, to make room for a point
  }
  let end = p + n;
  if (tailDigits === 2) {
    buffer[end - 2] = DIGIT_PAIRS[2 * tail];
    buffer[end - 1] = DIGIT_PAIRS[2 * tail + 1];
    end -= 2;
  } else if (tailDigits === 1) {
    buffer[--end] = ZERO + tail;
  }
  putDigits(buffer, end, bottom, bottomDigits);
  if (topDigits > 0) putDigits(buffer, end - bottomDigits, top, topDigits);
  if (small) return p + n;
  p = at;
  if (point > 0 && point <= 21) {
    if (point >= n) {
      for (let j = 0; j < n; j++) buffer[p + j] = buffer[p + 1 + j];
      p += n;
      for (let j = n; j < point; j++) buffer[p++] = ZERO;
      return p;
    }
    for (let j = 0; j < point; j++) buffer[p + j] = buffer[p + 1 + j];
    buffer[p + point] = DOT;
    return p + n + 1;
  }
  buffer[p] = buffer[p + 1];
  if (n > 1) {
    buffer[p + 1] = DOT;
    p += n + 1;
  } else {
    p += 1;
  }
  buffer[p++] = LOWER_E;
  let e = point - 1;
  buffer[p++] = e < 0 ? MINUS : PLUS;
  if (e < 0) e = -e;
  if (e >= 100) {
    buffer[p++] = ZERO + Math.floor(e / 100);
    e %= 100;
    buffer[p++] = DIGIT_PAIRS[2 * e];
    buffer[p++] = DIGIT_PAIRS[2 * e + 1];
  } else if (e >= 10) {
    buffer[p++] = DIGIT_PAIRS[2 * e];
    buffer[p++] = DIGIT_PAIRS[2 * e + 1];
  } else {
    buffer[p++] = ZERO + e;
  }
  return p;
}

function digitCount(x: number): number {
  if (x < 1e4) return x < 10 ? 1 : x < 100 ? 2 : x < 1000 ? 3 : 4;
  return x < 1e5 ? 5 : x < 1e6 ? 6 : x < 1e7 ? 7 : x < 1e8 ? 8 : 9;
}

/**
 * Writes x (< 1e8) as exactly n digits, the last at buffer[end − 1]: whole
 * groups of four in one store each, the rest as pairs and a digit.
 */
function putDigits(buffer: Uint8Array, end: number, value: number, n: number): void {
  let x = value | 0;
  let last = end;
  let left = n;
  if (left >= 4) {
    const dv = viewOf(buffer);
    const q = (x * 0.0001) | 0;
    dv.setUint32(last - 4, DIGIT_QUADS[x - q * 10000], true);
    x = q;
    last -= 4;
    left -= 4;
    if (left === 4) {
      dv.setUint32(last - 4, DIGIT_QUADS[x], true);
      return;
    }
  }
  if (left >= 2) {
    const q = (x * 0.01) | 0;
    const r = x - q * 100;
    buffer[last - 2] = DIGIT_PAIRS[2 * r];
    buffer[last - 1] = DIGIT_PAIRS[2 * r + 1];
    x = q;
    last -= 2;
    left -= 2;
  }
  if (left === 1) buffer[last - 1] = ZERO + x;
}

function writeAscii(text: string, buffer: Uint8Array, at: number): number {
  let p = at;
  for (let i = 0; i < text.length; i++) buffer[p++] = text.charCodeAt(i);
  return p;
}

/** `value` rounded to `digits` significant digits (then written shortest), as toPrecision rounds. */
export function roundToPrecision(value: number, digits: number): number {
  return Number(value.toPrecision(digits));
}

const scratch = new Uint8Array(MAX_NUMBER_BYTES);

/**
 * A double as text: the shortest round-trip form (String(x), with −0 as
 * "-0"), or rounded to `precision` significant digits first.
 */
export function formatNumber(value: number, precision?: number): string {
  const x = precision === undefined ? value : roundToPrecision(value, precision);
  if (!Number.isFinite(x)) return String(x);
  const end = writeShortest(x, scratch, 0);
  let text = '';
  for (let i = 0; i < end; i++) text += String.fromCharCode(scratch[i]);
  return text;
}
