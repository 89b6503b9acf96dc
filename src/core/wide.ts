// Numbers beyond the range of doubles. Every finite column has finite
// z-scores, but not always a finite variance: values near 1e308 have a
// variance near 1e616, and values below 1e-162 one below the smallest
// double. Such a variance (and M2) is kept as significand·2^exponent, and the
// transform divides by √(var + ε) scaled by a power of two (exact), so that
// nothing on the way overflows or underflows.

/** significand·2^exponent, with the significand in [1, 2), or 0 (exponent 0). Never negative here: variances and M2. */
export interface WideNumber {
  readonly significand: number;
  readonly exponent: number;
}

export const WIDE_ZERO: WideNumber = { significand: 0, exponent: 0 };

const view = new DataView(new ArrayBuffer(8));

/** The binary exponent of a finite nonzero double (floor(log2|x|)), subnormals included. */
export function exponentOf(x: number): number {
  view.setFloat64(0, x);
  const biased = (view.getUint16(0) >>> 4) & 0x7ff;
  if (biased !== 0) return biased - 1023;
  // Subnormal: scale into the normal range first.
  return exponentOf(x * 2 ** 64) - 64;
}

/** x·2^k for any integer k, exact unless the result leaves the double range (in steps, so that no factor overflows). */
export function timesPowerOfTwo(x: number, k: number): number {
  let result = x;
  let left = k;
  while (left > 1000) {
    result *= 2 ** 1000;
    left -= 1000;
  }
  while (left < -1000) {
    result *= 2 ** -1000;
    left += 1000;
  }
  // A last step below −1022 would round twice (2^left is subnormal): go in halves.
  if (left < -1022) return result * 2 ** Math.trunc(left / 2) * 2 ** (left - Math.trunc(left / 2));
  return result * 2 ** left;
}

/** x·2^exponent (x finite, ≥ 0) as a WideNumber. */
export function wide(x: number, exponent = 0): WideNumber {
  if (!(x > 0)) return WIDE_ZERO;
  const e = exponentOf(x);
  return { significand: timesPowerOfTwo(x, -e), exponent: e + exponent };
}

/** The nearest double: Infinity beyond the range, 0 or a subnormal below it. */
export function wideToNumber(w: WideNumber): number {
  return timesPowerOfTwo(w.significand, w.exponent);
}

/** True if the number is 0 or a normal double (no digits lost to the range). */
export function fitsDouble(w: WideNumber): boolean {
  return w.significand === 0 || (w.exponent >= -1022 && w.exponent <= 1023);
}

/** a + b, rounded once. */
export function wideAdd(a: WideNumber, b: WideNumber): WideNumber {
  if (a.significand === 0) return b;
  if (b.significand === 0) return a;
  const top = Math.max(a.exponent, b.exponent);
  // Both below 2^1 after scaling by 2^−top: their sum cannot overflow, and a part that underflows is far below the other's last bit.
  return wide(timesPowerOfTwo(a.significand, a.exponent - top) + timesPowerOfTwo(b.significand, b.exponent - top), top);
}

/** w/d for a double d > 0. */
export function wideDivide(w: WideNumber, d: number): WideNumber {
  return wide(w.significand / d, w.exponent);
}
