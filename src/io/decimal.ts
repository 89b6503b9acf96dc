// Numbers in: the decimal grammar finorm reads, parsed straight from bytes,
// with exactly the value Number(text) gives.
//
// Grammar (README, Numbers): a plain decimal, optionally signed, optionally in
// scientific notation, with optional spaces around it: `42`, `-1.5`, `.5`,
// `5.`, `+3`, `-1.5e-7`, `2.5E+12`. Anything else is not a number (a reason
// for the message comes from explainNotANumber). A decimal beyond the float64
// range reads as ±Infinity (the caller reports it); below the smallest
// subnormal it reads as 0, as in every float parser.
//
// Three paths, each correctly rounded:
// - up to 15 significant digits and a power of ten up to 1e22: one exact
//   multiplication or division (Clinger's fast path);
// - up to 19 significant digits (shortest round-trip output, such as
//   finorm's own, has 17): the digits as an exact double-double, times or
//   divided by the exact power of ten, rounded; unless the result lies within
//   2^-40 of an ulp of a rounding midpoint, where
// - the engine's own parser decides (Number), as it does for everything else.

import { divide, multiply, productError, twoSum } from '../core/double-double.js';

const SPACE = 32;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const LOWER_E = 101;
const UPPER_E = 69;

const POWERS_OF_TEN = Float64Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
/** Half an ulp of a double with biased exponent i: 2^(i − 1076). */
const HALF_ULP = Float64Array.from({ length: 2048 }, (_, i) => 2 ** (i - 1076));
const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

/**
 * The value of the decimal in bytes[start, end): NaN if it is not one,
 * ±Infinity if it is beyond the float64 range.
 */
export function parseDecimalBytes(bytes: Uint8Array, start: number, end: number): number {
  const plain = parsePlainDecimal(bytes, start, end);
  return plain === plain ? plain : parseGeneral(bytes, start, end);
}

/**
 * What most fields are: [-]digits[.digits], at most 15 digits in all, whose
 * value one exact division (or none) gives correctly rounded; NaN for
 * anything else (which parseDecimalBytes then reads in full).
 */
export function parsePlainDecimal(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  const negative = bytes[i] === MINUS;
  if (negative) i++;
  let mantissa = 0;
  let d = 0;
  const digitsStart = i;
  while (i < end && (d = bytes[i] - ZERO) >= 0 && d <= 9) {
    mantissa = mantissa * 10 + d;
    i++;
  }
  let digits = i - digitsStart;
  let scale = 0;
  if (i < end && bytes[i] === DOT) {
    const fractionStart = ++i;
    while (i < end && (d = bytes[i] - ZERO) >= 0 && d <= 9) {
      mantissa = mantissa * 10 + d;
      i++;
    }
    scale = i - fractionStart;
    digits += scale;
  }
  if (i === end && digits > 0 && digits <= 15) {
    const value = scale === 0 ? mantissa : mantissa / POWERS_OF_TEN[scale];
    return negative ? -value : value;
  }
  return NaN;
}

/** Any decimal of the grammar: spaces, signs, exponents, many digits. */
function parseGeneral(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  let last = end;
  while (i < last && bytes[i] === SPACE) i++;
  while (last > i && bytes[last - 1] === SPACE) last--;
  if (i === last) return NaN;
  const textStart = i;
  let c = bytes[i];
  const negative = c === MINUS;
  if (c === PLUS || c === MINUS) i++;
  // The significant digits: the first 15 in `head`, up to 4 more in `tail`.
  let head = 0;
  let headDigits = 0;
  let tail = 0;
  let tailDigits = 0;
  let dropped = false;
  let digits = 0;
  let scale = 0;
  let d = 0;
  while (i < last && (d = bytes[i] - ZERO) >= 0 && d <= 9) {
    digits++;
    i++;
    if (headDigits === 0 && d === 0) continue;
    if (headDigits < 15) {
      head = head * 10 + d;
      headDigits++;
    } else if (tailDigits < 4) {
      tail = tail * 10 + d;
      tailDigits++;
    } else {
      scale++;
      if (d !== 0) dropped = true;
    }
  }
  if (i < last && bytes[i] === DOT) {
    i++;
    while (i < last && (d = bytes[i] - ZERO) >= 0 && d <= 9) {
      digits++;
      i++;
      if (headDigits === 0 && d === 0) {
        scale--;
        continue;
      }
      if (headDigits < 15) {
        head = head * 10 + d;
        headDigits++;
        scale--;
      } else if (tailDigits < 4) {
        tail = tail * 10 + d;
        tailDigits++;
        scale--;
      } else if (d !== 0) {
        dropped = true;
      }
    }
  }
  if (digits === 0) return NaN;
  if (i < last && ((c = bytes[i]) === LOWER_E || c === UPPER_E)) {
    i++;
    let exponentSign = 1;
    if (i < last && ((c = bytes[i]) === PLUS || c === MINUS)) {
      if (c === MINUS) exponentSign = -1;
      i++;
    }
    let exponent = 0;
    let exponentDigits = 0;
    while (i < last && (d = bytes[i] - ZERO) >= 0 && d <= 9) {
      if (exponent < 100000) exponent = exponent * 10 + d;
      i++;
      exponentDigits++;
    }
    if (exponentDigits === 0) return NaN;
    scale += exponentSign * exponent;
  }
  if (i !== last) return NaN;
  if (headDigits === 0) return negative ? -0 : 0;
  let value: number;
  if (tailDigits === 0 && !dropped) value = fastPath(head, headDigits, scale);
  else if (!dropped) value = doubleDoublePath(head, tail, tailDigits, scale);
  else value = NaN;
  if (value !== value) value = Number(asciiText(bytes, textStart, last));
  else if (negative) value = -value;
  return value;
}

/** Clinger: head (exact, ≤ 15 digits) times or divided by an exact power of ten; NaN if it does not apply. */
function fastPath(head: number, headDigits: number, scale: number): number {
  if (scale >= 0) {
    if (scale <= 22) return head * POWERS_OF_TEN[scale];
    // 123e25 = (123·10^3)·10^22, both exact.
    const shift = scale - 22;
    if (shift <= 15 - headDigits) return head * POWERS_OF_TEN[shift] * 1e22;
    return NaN;
  }
  if (scale >= -22) return head / POWERS_OF_TEN[-scale];
  return NaN;
}

/**
 * 16 to 19 significant digits: D = head·10^tailDigits + tail exactly as a
 * double-double, times or divided by 10^|scale| (exact for |scale| ≤ 22);
 * the rounded result, or NaN when it cannot be told from a midpoint here.
 */
function doubleDoublePath(head: number, tail: number, tailDigits: number, scale: number): number {
  if (scale > 22 || scale < -22) return NaN;
  // D = head·P + tail, exactly: Dekker's product, then two sums.
  const power = POWERS_OF_TEN[tailDigits];
  const product = head * power;
  const [sum, sumError] = twoSum(product, tail);
  const [dHi, dLo] = twoSum(sum, sumError + productError(head, power, product));
  const p = POWERS_OF_TEN[scale < 0 ? -scale : scale];
  const [hi, lo] = scale >= 0 ? multiply(dHi, dLo, p) : divide(dHi, dLo, p);
  if (!(hi >= 2.2250738585072014e-308) || hi === Infinity) return NaN;
  bits[0] = hi;
  const high = words[1];
  const half = HALF_ULP[(high >>> 20) & 0x7ff];
  const magnitude = lo < 0 ? -lo : lo;
  // Near a midpoint, or below a power of two (where the gap below is half as wide): undecided.
  if (magnitude > half * (1 - 2 ** -40)) return NaN;
  if (lo < 0 && (high & 0xfffff) === 0 && words[0] === 0 && magnitude > half * 0.5 * (1 - 2 ** -40)) return NaN;
  return hi;
}

function asciiText(bytes: Uint8Array, start: number, end: number): string {
  let text = '';
  for (let i = start; i < end; i++) text += String.fromCharCode(bytes[i]);
  return text;
}

const encoded = new Uint8Array(64);

/** The value of a decimal text (see parseDecimalBytes): NaN if it is not one, ±Infinity beyond range. */
export function parseDecimal(text: string): number {
  if (text.length > encoded.length) {
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c > 127) return NaN;
      bytes[i] = c;
    }
    return parseDecimalBytes(bytes, 0, bytes.length);
  }
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 127) return NaN;
    encoded[i] = c;
  }
  return parseDecimalBytes(encoded, 0, text.length);
}

/** True if `text` matches the decimal grammar (the value may still be beyond range). */
export function isDecimal(text: string): boolean {
  return !Number.isNaN(parseDecimal(text));
}

/** Why `text` is not a number finorm reads: a short phrase for error messages. */
export function explainNotANumber(text: string): string {
  // Spaces around a number are the grammar's; other whitespace is not.
  const t = text.replace(/^ +| +$/g, '');
  if (/\s/.test(t) && isDecimal(t.trim())) return 'holds whitespace other than spaces (a tab, a line break); finorm reads spaces around a number only';
  if (isDecimal(t)) return 'is beyond the float64 range (±1.8e308)';
  if (/^[+-]?(inf|infinity)$/i.test(t)) return 'is infinite; finorm reads finite numbers only';
  if (/^[+-]?nan$/i.test(t)) return 'is NaN; list it in --na to read it as missing';
  if (/^[+-]?0[xob][0-9a-f]+$/i.test(t)) return 'is hexadecimal, octal or binary; finorm reads decimals only';
  if (/^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$/.test(t)) return 'has thousands separators; remove them (e.g. with tr -d ,)';
  if (/^[+-]?[\d.]+(e[+-]?\d+)?\s*%$/i.test(t)) return 'is a percentage; write it as a fraction or number without %';
  if (/^[+-]?[$€£¥]/.test(t) || /[$€£¥]$/.test(t)) return 'has a currency symbol';
  if (/^[+-]?\d+,\d+$/.test(t)) return 'uses a decimal comma; finorm expects a decimal point';
  if (t === '') return 'is blank; list it in --na to read it as missing';
  return 'is not a number';
}
