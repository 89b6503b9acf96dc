// Error-free transformations and double-double arithmetic: a value kept as an
// unevaluated sum hi + lo of two doubles, about 106 bits. JavaScript has no
// fused multiply-add, so products are split with Dekker's constant.

const SPLIT = 134217729; // 2^27 + 1

/** a + b = s + e exactly (Knuth's TwoSum): [s, e]. */
export function twoSum(a: number, b: number): [number, number] {
  const s = a + b;
  const bb = s - a;
  return [s, a - (s - bb) + (b - bb)];
}

/** The rounding error of a·b: a·b = fl(a·b) + productError(a, b) exactly (Dekker), barring overflow and underflow. */
export function productError(a: number, b: number, product = a * b): number {
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - product + ah * bl + al * bh + al * bl;
}

/** (hi + lo)·d as a normalized double-double [hi, lo]. */
export function multiply(hi: number, lo: number, d: number): [number, number] {
  const p = hi * d;
  return twoSum(p, productError(hi, d, p) + lo * d);
}

/** (hi + lo)/d as a normalized double-double [hi, lo], the residual of the first division taken exactly. */
export function divide(hi: number, lo: number, d: number): [number, number] {
  const q = hi / d;
  const p = q * d;
  const residual = hi - p - productError(q, d, p) + lo;
  return twoSum(q, residual / d);
}
