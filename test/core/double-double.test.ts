// The error-free transformations against exact rational arithmetic: TwoSum
// and Dekker's product lose nothing, and double-double division is within
// 2^-100 of the exact quotient.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { divide, multiply, productError, twoSum } from '../../src/core/double-double.js';
import { add, div, exact, fromInteger, mul, sub } from '../support/exact.js';

const finite = fc.double({ min: -1e100, max: 1e100, noNaN: true });
const equal = (a: ReturnType<typeof exact>, b: ReturnType<typeof exact>): boolean => a.num * b.den === b.num * a.den;

describe('double-double', () => {
  it('twoSum and productError are exact', () => {
    fc.assert(
      fc.property(finite, finite, (a, b) => {
        const [s, e] = twoSum(a, b);
        expect(equal(add(exact(s), exact(e)), add(exact(a), exact(b)))).toBe(true);
        const p = a * b;
        if (Math.abs(p) < 1e-250 || !Number.isFinite(p)) return;
        expect(equal(add(exact(p), exact(productError(a, b, p))), mul(exact(a), exact(b)))).toBe(true);
      }),
      { numRuns: 5000, seed: 1 },
    );
  });

  it('multiplies and divides a (normalized) double-double by a double to about 2^-100', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2 ** 52, max: 2 ** 53 - 1 }), fc.integer({ min: -(2 ** 20), max: 2 ** 20 }), fc.integer({ min: 1, max: 1e9 }), (hi, lo, d) => {
        const value = add(exact(hi), exact(lo / 2 ** 60));
        for (const [[h, l], want] of [
          [divide(hi, lo / 2 ** 60, d), div(value, fromInteger(d))],
          [multiply(hi, lo / 2 ** 60, d), mul(value, fromInteger(d))],
        ] as const) {
          const error = sub(add(exact(h), exact(l)), want);
          // |error| ≤ 2^-100·|want|
          const bound = mul(want, { num: 1n, den: 2n ** 100n });
          expect(error.num * error.num * bound.den * bound.den <= bound.num * bound.num * error.den * error.den).toBe(true);
        }
      }),
      { numRuns: 2000, seed: 2 },
    );
  });
});
