// The exact reference itself: its rounding must be right before anything is
// compared against it.

import { describe, expect, it } from 'vitest';
import { add, div, exact, exactMean, exactVariance, fromInteger, sqrtToDouble, toDouble, ulpDistance } from '../support/exact.js';

describe('exact rationals', () => {
  it('represents doubles exactly and rounds back to the same double', () => {
    for (const x of [0.1, -0.1, 1e-300, 5e-324, 1.7976931348623157e308, 123456.789, 2 ** 53 + 2, -3.5]) {
      expect(toDouble(exact(x))).toBe(x);
    }
  });

  it('rounds correctly, ties to even', () => {
    expect(toDouble(div(fromInteger(1), fromInteger(3)))).toBe(1 / 3);
    expect(toDouble(div(fromInteger(2), fromInteger(3)))).toBe(2 / 3);
    // 0.1 + 0.2 exactly is 0.3000000000000000166533453693773481063544750213623046875, nearest double is 0.30000000000000004.
    expect(toDouble(add(exact(0.1), exact(0.2)))).toBe(0.30000000000000004);
    // 2^53 + 1 is a tie between 2^53 and 2^53 + 2: even mantissa wins.
    expect(toDouble(fromInteger(2n ** 53n + 1n))).toBe(2 ** 53);
    expect(toDouble(fromInteger(2n ** 53n + 3n))).toBe(2 ** 53 + 4);
  });

  it('takes square roots to the nearest double', () => {
    expect(sqrtToDouble(fromInteger(2))).toBe(Math.SQRT2);
    expect(sqrtToDouble(div(fromInteger(1), fromInteger(4)))).toBe(0.5);
    expect(sqrtToDouble(exact(1e-300))).toBe(Math.sqrt(1e-300));
  });

  it('computes mean and variance of a hand example', () => {
    // 1, 2, 4: mean 7/3, M2 = 16/9 + 1/9 + 25/9 = 42/9, variance 14/9 (ddof 0), 7/3 (ddof 1).
    expect(exactMean([1, 2, 4])).toEqual({ num: 7n, den: 3n });
    expect(exactVariance([1, 2, 4], 0)).toEqual({ num: 14n, den: 9n });
    expect(exactVariance([1, 2, 4], 1)).toEqual({ num: 7n, den: 3n });
    expect(ulpDistance(1, 1 + Number.EPSILON)).toBe(1);
    expect(ulpDistance(-0, 0)).toBe(0);
  });
});
