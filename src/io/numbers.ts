// Reading and writing numbers as text.
//
// Read rule (documented in the README): a feature value is a plain decimal,
// optionally signed, optionally in scientific notation, with optional spaces
// around it: `42`, `-1.5`, `.5`, `5.`, `+3`, `-1.5e-7`, `2.5E+12`. Everything
// else is rejected with a reason: hexadecimal, `Infinity`/`inf`, `NaN` (unless
// listed in --na), thousands separators, percentages, currency symbols, and
// values beyond the float64 range (`1e400`). Values below the smallest
// subnormal round to zero, as in every float parser.

const SPACE = 32;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
const LOWER_E = 101;
const UPPER_E = 69;

/** True if `text` matches the decimal grammar above (the value may still overflow). */
export function isDecimal(text: string): boolean {
  let i = 0;
  let end = text.length;
  while (i < end && text.charCodeAt(i) === SPACE) i++;
  while (end > i && text.charCodeAt(end - 1) === SPACE) end--;
  if (i === end) return false;
  let c = text.charCodeAt(i);
  if (c === PLUS || c === MINUS) i++;
  let digits = 0;
  while (i < end && (c = text.charCodeAt(i)) >= ZERO && c <= NINE) {
    i++;
    digits++;
  }
  if (i < end && text.charCodeAt(i) === DOT) {
    i++;
    while (i < end && (c = text.charCodeAt(i)) >= ZERO && c <= NINE) {
      i++;
      digits++;
    }
  }
  if (digits === 0) return false;
  if (i < end && ((c = text.charCodeAt(i)) === LOWER_E || c === UPPER_E)) {
    i++;
    if (i < end && ((c = text.charCodeAt(i)) === PLUS || c === MINUS)) i++;
    let exponentDigits = 0;
    while (i < end && (c = text.charCodeAt(i)) >= ZERO && c <= NINE) {
      i++;
      exponentDigits++;
    }
    if (exponentDigits === 0) return false;
  }
  return i === end;
}

/**
 * The value of a decimal text, or NaN if the text is not a decimal.
 * ±Infinity means the text is a decimal beyond the float64 range.
 */
export function parseDecimal(text: string): number {
  // One pass: the grammar of isDecimal, gathering the digits as it goes.
  let i = 0;
  let end = text.length;
  while (i < end && text.charCodeAt(i) === SPACE) i++;
  while (end > i && text.charCodeAt(end - 1) === SPACE) end--;
  if (i === end) return NaN;
  let c = text.charCodeAt(i);
  const negative = c === MINUS;
  if (c === PLUS || c === MINUS) i++;
  let mantissa = 0;
  let exact = true;
  let digits = 0;
  let scale = 0;
  while (i < end && (c = text.charCodeAt(i)) >= ZERO && c <= NINE) {
    mantissa = mantissa * 10 + (c - ZERO);
    i++;
    digits++;
  }
  if (i < end && c === DOT) {
    i++;
    while (i < end && (c = text.charCodeAt(i)) >= ZERO && c <= NINE) {
      mantissa = mantissa * 10 + (c - ZERO);
      i++;
      digits++;
      scale--;
    }
  }
  if (digits === 0) return NaN;
  if (mantissa > MAX_EXACT) exact = false;
  if (i < end && (c === LOWER_E || c === UPPER_E)) {
    i++;
    let exponentSign = 1;
    if (i < end && ((c = text.charCodeAt(i)) === PLUS || c === MINUS)) {
      if (c === MINUS) exponentSign = -1;
      i++;
    }
    let exponent = 0;
    let exponentDigits = 0;
    while (i < end && (c = text.charCodeAt(i)) >= ZERO && c <= NINE) {
      if (exponent < 100000) exponent = exponent * 10 + (c - ZERO);
      i++;
      exponentDigits++;
    }
    if (exponentDigits === 0) return NaN;
    scale += exponentSign * exponent;
  }
  if (i !== end) return NaN;
  // Clinger's fast path: an integer below 2^53 times or divided by an exact
  // power of ten (≤ 1e22) is one correctly rounded operation. Anything else
  // goes to the engine's (correct, slower) parser.
  if (exact && scale >= -22 && scale <= 22) {
    const value = scale < 0 ? mantissa / POWERS_OF_TEN[-scale] : mantissa * POWERS_OF_TEN[scale];
    return negative ? -value : value;
  }
  return Number(text);
}

const MAX_EXACT = 2 ** 53;
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/** Why `text` is not a number finorm reads: a short phrase for error messages. */
export function explainNotANumber(text: string): string {
  const t = text.trim();
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

export { formatNumber } from './format-number.js';
