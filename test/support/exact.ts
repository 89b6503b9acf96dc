// Exact arithmetic for reference values: every double is a rational m·2^e,
// so sums, means and variances of doubles are computed here exactly with
// BigInt rationals and rounded once, correctly, to the nearest double. Square
// roots are taken with 128 extra bits and then rounded. Independent of the
// code under test: no floating-point arithmetic on the values at all.

export interface Rational {
  /** Carries the sign. */
  num: bigint;
  /** Always > 0. */
  den: bigint;
}

const ZERO: Rational = { num: 0n, den: 1n };

/** The exact value of a finite double. */
export function exact(x: number): Rational {
  if (!Number.isFinite(x)) throw new Error(`not finite: ${x}`);
  if (x === 0) return ZERO;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const exponentBits = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  // value = mantissa · 2^(exponent), with the hidden bit for normal numbers.
  const mantissa = exponentBits === 0 ? fraction : fraction | (1n << 52n);
  const exponent = (exponentBits === 0 ? 1 : exponentBits) - 1075;
  const signed = negative ? -mantissa : mantissa;
  return exponent >= 0 ? { num: signed << BigInt(exponent), den: 1n } : reduce({ num: signed, den: 1n << BigInt(-exponent) });
}

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function reduce(r: Rational): Rational {
  if (r.num === 0n) return ZERO;
  const g = gcd(r.num, r.den);
  return g === 1n ? r : { num: r.num / g, den: r.den / g };
}

export const add = (a: Rational, b: Rational): Rational => reduce({ num: a.num * b.den + b.num * a.den, den: a.den * b.den });
export const sub = (a: Rational, b: Rational): Rational => add(a, { num: -b.num, den: b.den });
export const mul = (a: Rational, b: Rational): Rational => reduce({ num: a.num * b.num, den: a.den * b.den });
export function div(a: Rational, b: Rational): Rational {
  if (b.num === 0n) throw new Error('division by zero');
  const sign = b.num < 0n ? -1n : 1n;
  return reduce({ num: a.num * b.den * sign, den: a.den * b.num * sign });
}
export const fromInteger = (n: number | bigint): Rational => ({ num: BigInt(n), den: 1n });

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** The double nearest to r (ties to even): one correct rounding. */
export function toDouble(r: Rational): number {
  if (r.num === 0n) return 0;
  const negative = r.num < 0n;
  const num = negative ? -r.num : r.num;
  // Choose a shift so that the integer quotient has 54 or more significant bits.
  let shift = 54 - (bitLength(num) - bitLength(r.den));
  // Subnormals: never keep bits below 2^-1074.
  let quotient: bigint;
  let remainder: bigint;
  const divide = (s: number): void => {
    const n = s >= 0 ? num << BigInt(s) : num;
    const d = s >= 0 ? r.den : r.den << BigInt(-s);
    quotient = n / d;
    remainder = n % d;
  };
  divide(shift);
  // quotient ≈ |r|·2^shift has 54 or 55 bits; we want exactly 53 bits of mantissa.
  let exponent = -shift; // |r| ≈ quotient · 2^exponent
  let extra = bitLength(quotient!) - 53;
  if (exponent + extra < -1074) extra = -1074 - exponent;
  if (extra > 0) {
    const dropped = quotient! & ((1n << BigInt(extra)) - 1n);
    const half = 1n << BigInt(extra - 1);
    let kept = quotient! >> BigInt(extra);
    const sticky = remainder! !== 0n;
    if (dropped > half || (dropped === half && (sticky || (kept & 1n) === 1n))) kept += 1n;
    quotient = kept;
    exponent += extra;
  } else if (remainder! !== 0n) {
    // Can only happen in the subnormal range clamp above with extra ≤ 0: impossible by construction.
    throw new Error('internal: inexact without dropped bits');
  }
  const value = Number(quotient!) * 2 ** exponent;
  return negative ? -value : value;
}

/**
 * r > 0 rounded once to 53 significant bits (ties to even) with no limit on
 * the exponent, as significand·2^exponent with the significand in [1, 2):
 * what a double would be if its exponent had no range.
 */
export function toWide(r: Rational): { significand: number; exponent: number } {
  if (r.num <= 0n) throw new Error('toWide: not > 0');
  let shift = 53 - (bitLength(r.num) - bitLength(r.den));
  for (;;) {
    const n = shift >= 0 ? r.num << BigInt(shift) : r.num;
    const d = shift >= 0 ? r.den : r.den << BigInt(-shift);
    const floor = n / d;
    if (floor >= 1n << 53n) shift--;
    else if (floor < 1n << 52n) shift++;
    else {
      const twice = 2n * (n - floor * d);
      const q = twice > d || (twice === d && (floor & 1n) === 1n) ? floor + 1n : floor;
      if (q === 1n << 53n) return { significand: 1, exponent: 53 - shift };
      return { significand: Number(q) / 2 ** 52, exponent: 52 - shift };
    }
  }
}

/** Exact mean of the values (all finite). */
export function exactMean(values: readonly number[]): Rational {
  let sum = ZERO;
  for (const x of values) sum = add(sum, exact(x));
  return div(sum, fromInteger(values.length));
}

/** Exact M2 = Σ(x − mean)², computed as Σx² − (Σx)²/n in exact arithmetic (safe here). */
export function exactM2(values: readonly number[]): Rational {
  let sum = ZERO;
  let squares = ZERO;
  for (const x of values) {
    const r = exact(x);
    sum = add(sum, r);
    squares = add(squares, mul(r, r));
  }
  return sub(squares, div(mul(sum, sum), fromInteger(values.length)));
}

/** Exact variance M2/(n − ddof); 0 when n ≤ ddof. */
export function exactVariance(values: readonly number[], ddof: number): Rational {
  if (values.length <= ddof) return ZERO;
  return div(exactM2(values), fromInteger(values.length - ddof));
}

/** √r rounded to a double, via an integer square root with 128 extra bits. */
export function sqrtToDouble(r: Rational): number {
  if (r.num < 0n) throw new Error('negative');
  if (r.num === 0n) return 0;
  // √(num/den) = √(num·den)/den; scale by 2^(2k) to keep k fraction bits.
  const k = 128 + Math.max(0, bitLength(r.den) - bitLength(r.num));
  const root = isqrt((r.num * r.den) << BigInt(2 * k));
  return toDouble({ num: root, den: r.den << BigInt(k) });
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt(Math.ceil(bitLength(n) / 2));
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

/**
 * The exact normalized value γ·(x − mean)/√(variance + ε) + β with exact
 * mean and variance (rationals) and doubles x, ε, γ, β, rounded to a double.
 * The square root and quotient carry 128 extra bits before the last rounding.
 */
export function exactNormalized(x: number, mean: Rational, variance: Rational, epsilon: number, gamma = 1, beta = 0): number {
  const d = sub(exact(x), mean);
  const v = add(variance, exact(epsilon));
  if (v.num === 0n) return toDouble(add(mul(exact(gamma), d), exact(beta)));
  // z = d/√v, as sign(d)·√(d²/v) to 128 extra bits, then γz + β exactly, rounded once.
  const z2 = div(mul(d, d), v);
  const k = 128 + Math.max(0, bitLength(z2.den) - bitLength(z2.num));
  const root = isqrt((z2.num * z2.den) << BigInt(2 * k));
  const z: Rational = reduce({ num: d.num < 0n ? -root : root, den: z2.den << BigInt(k) });
  return toDouble(add(mul(exact(gamma), z), exact(beta)));
}

/** Distance in units in the last place between two doubles of the same sign (0 = equal). */
export function ulpDistance(a: number, b: number): number {
  if (a === b) return 0;
  const ordered = (x: number): bigint => {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, x);
    const bits = view.getBigInt64(0);
    return bits < 0n ? -(bits & 0x7fffffffffffffffn) : bits;
  };
  const d = ordered(a) - ordered(b);
  return Number(d < 0n ? -d : d);
}
