// A number beyond the double range as decimal text, and back: how a parameter
// file writes the variance and M2 of a column of values near 1e308 (about
// 1e616) or below 1e-162, which JSON numbers cannot carry (JSON.parse makes
// them Infinity or 0). The text is the shortest that reads back as the same
// 53-bit significand and exponent, `"4.5e+616"`; exact in both directions
// (BigInt), so that fits merge as exactly as ordinary ones.

import { type WideNumber, WIDE_ZERO, timesPowerOfTwo } from '../core/wide.js';

/** Decimal exponents beyond this are refused on reading: a variance of doubles lies within about 1e±650. */
export const MAX_DECIMAL_EXPONENT = 1000;

const DECIMAL = /^(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?$/;

/** The WideNumber a decimal text (unsigned, as `6.25e+616`) stands for, correctly rounded; undefined if it is not one. */
export function parseWideDecimal(text: string): WideNumber | undefined {
  const match = DECIMAL.exec(text);
  if (!match) return undefined;
  const whole = match[1] ?? '';
  const fraction = match[2] ?? match[3] ?? '';
  const exponent = Number(match[4] ?? '0');
  if (!(Math.abs(exponent) <= MAX_DECIMAL_EXPONENT)) return undefined;
  const digits = BigInt(whole + fraction || '0');
  if (digits === 0n) return WIDE_ZERO;
  const power = exponent - fraction.length;
  return power >= 0 ? roundRational(digits * 10n ** BigInt(power), 1n) : roundRational(digits, 10n ** BigInt(-power));
}

/** The shortest decimal text that parses back (parseWideDecimal) to exactly `w` (w ≥ 0). */
export function formatWideDecimal(w: WideNumber): string {
  if (w.significand === 0) return '0';
  const { mantissa, exponent } = integerParts(w);
  for (let precision = 1; precision <= 17; precision++) {
    const [digits, power] = roundToDigits(mantissa, exponent, w, precision);
    const back = power >= 0 ? roundRational(digits * 10n ** BigInt(power), 1n) : roundRational(digits, 10n ** BigInt(-power));
    if (back.significand === w.significand && back.exponent === w.exponent) return scientific(digits, power);
  }
  // 17 significant digits always read back as the same 53-bit significand.
  const [digits, power] = roundToDigits(mantissa, exponent, w, 17);
  return scientific(digits, power);
}

/** w as mantissa·2^exponent, mantissa an integer of 53 bits. */
function integerParts(w: WideNumber): { mantissa: bigint; exponent: number } {
  return { mantissa: BigInt(w.significand * 2 ** 52), exponent: w.exponent - 52 };
}

/** mantissa·2^exponent rounded to `precision` significant decimal digits: [digits, power], the value digits·10^power. */
function roundToDigits(mantissa: bigint, exponent: number, w: WideNumber, precision: number): [bigint, number] {
  // floor(log10) of the value, possibly one too low; corrected below.
  let decimal = Math.floor((w.exponent + Math.log2(w.significand)) * Math.log10(2));
  for (;;) {
    const power = decimal - precision + 1;
    let num = exponent >= 0 ? mantissa << BigInt(exponent) : mantissa;
    let den = exponent >= 0 ? 1n : 1n << BigInt(-exponent);
    if (power >= 0) den *= 10n ** BigInt(power);
    else num *= 10n ** BigInt(-power);
    const digits = roundHalfEven(num, den);
    if (digits >= 10n ** BigInt(precision)) decimal++;
    else if (digits < 10n ** BigInt(precision - 1)) decimal--;
    else return [digits, power];
  }
}

function scientific(digits: bigint, power: number): string {
  let text = digits.toString();
  let exponent = power + text.length - 1;
  text = text.replace(/0+$/, '');
  if (text === '') {
    text = '0';
    exponent = 0;
  }
  const mantissa = text.length > 1 ? `${text[0]}.${text.slice(1)}` : text;
  return `${mantissa}e${exponent < 0 ? '-' : '+'}${Math.abs(exponent)}`;
}

function roundHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const twice = 2n * (num - q * den);
  if (twice > den || (twice === den && (q & 1n) === 1n)) return q + 1n;
  return q;
}

/** num/den (> 0) rounded to 53 significant bits, ties to even, as a WideNumber. */
function roundRational(num: bigint, den: bigint): WideNumber {
  // A shift that leaves 53 bits in the quotient (bit lengths estimated from the decimal lengths, then corrected).
  let shift = 53 - (bits(num) - bits(den));
  for (;;) {
    const n = shift >= 0 ? num << BigInt(shift) : num;
    const d = shift >= 0 ? den : den << BigInt(-shift);
    // The shift is chosen on the truncated quotient; rounding up may then reach 2^53, the next power of two.
    const truncated = n / d;
    if (truncated >= 1n << 53n) shift--;
    else if (truncated < 1n << 52n) shift++;
    else {
      const q = roundHalfEven(n, d);
      return q === 1n << 53n ? { significand: 1, exponent: 53 - shift } : { significand: timesPowerOfTwo(Number(q), -52), exponent: 52 - shift };
    }
  }
}

function bits(n: bigint): number {
  return n.toString(16).length * 4;
}
