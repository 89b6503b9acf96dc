// ColumnMoments (Welford with double-double mean and M2; Chan merge) against
// exact rational statistics, on data where the naive formula fails.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ColumnMoments } from '../../src/core/moments.js';
import { exactMean, exactVariance, toDouble, ulpDistance } from '../support/exact.js';
import { seededRandom } from '../support/random.js';

const random = seededRandom;

function fit(values: readonly number[]): ColumnMoments {
  const m = new ColumnMoments(1);
  for (const x of values) m.add(0, x);
  return m;
}

/** Σx² − (Σx)²/n: the textbook formula finorm must not use. */
function naiveVariance(values: readonly number[]): number {
  let sum = 0;
  let squares = 0;
  for (const x of values) {
    sum += x;
    squares += x * x;
  }
  return (squares - (sum * sum) / values.length) / values.length;
}

function expectExact(values: readonly number[], maxUlps: number): void {
  const m = fit(values);
  const mean = toDouble(exactMean(values));
  expect(ulpDistance(m.mean(0), mean), `mean ${m.mean(0)} vs ${mean}`).toBeLessThanOrEqual(maxUlps);
  for (const ddof of [0, 1]) {
    const variance = toDouble(exactVariance(values, ddof));
    expect(ulpDistance(m.variance(0, ddof), variance), `variance (ddof ${ddof}) ${m.variance(0, ddof)} vs ${variance}`).toBeLessThanOrEqual(maxUlps);
  }
}

const relativeError = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('ColumnMoments against exact arithmetic', () => {
  it('1e9 + small noise: within a few ulps, where the naive formula loses every digit', () => {
    const next = random(1);
    const values = Array.from({ length: 5000 }, () => 1e9 + Math.round(next() * 1e6) * 1e-6);
    expectExact(values, 4);
    const exactVar = toDouble(exactVariance(values, 0));
    expect(relativeError(naiveVariance(values), exactVar)).toBeGreaterThan(1e-2);
  });

  it('a 1e15 offset with unit variance: within a few ulps', () => {
    const next = random(2);
    // Doubles near 1e15 are multiples of 0.125; spread about 1.
    const values = Array.from({ length: 5000 }, () => 1e15 + Math.round((next() - 0.5) * 3.4 * 8) / 8);
    expectExact(values, 4);
    const exactVar = toDouble(exactVariance(values, 0));
    expect(exactVar).toBeGreaterThan(0.5);
    expect(relativeError(naiveVariance(values), exactVar)).toBeGreaterThan(0.5);
  });

  it('a column mixing 1e-4 and 1e12', () => {
    const next = random(3);
    const values = Array.from({ length: 2000 }, (_, i) => (i % 2 === 0 ? 1e-4 * (1 + next()) : 1e12 * (1 + next())));
    expectExact(values, 4);
  });

  it('small and hand-checkable: 1, 2, 4 → mean 7/3, variance 14/9 and 7/3', () => {
    const m = fit([1, 2, 4]);
    expect(m.mean(0)).toBe(7 / 3);
    // 14/9 rounds to 1.5555555555555556; each M2 increment is one rounded
    // product, so the last bit may differ: allow 1 ulp.
    expect(ulpDistance(m.variance(0, 0), 14 / 9)).toBeLessThanOrEqual(1);
    expect(ulpDistance(m.variance(0, 1), 7 / 3)).toBeLessThanOrEqual(1);
    expect(m.min[0]).toBe(1);
    expect(m.max[0]).toBe(4);
  });

  it('leaves missing values out, and gives variance 0 when n ≤ ddof', () => {
    const m = fit([NaN, 5, NaN]);
    expect(m.count[0]).toBe(1);
    expect(m.missing[0]).toBe(2);
    expect(m.variance(0, 0)).toBe(0);
    expect(m.variance(0, 1)).toBe(0);
    expect(Number.isNaN(fit([NaN]).variance(0, 0))).toBe(true);
  });

  it('merging fits of random splits equals the exact statistics of the whole (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 2, maxLength: 200 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
        fc.double({ min: 1e-3, max: 1e12, noNaN: true }),
        (raw, cuts, offset) => {
          const values = raw.map((x) => x + offset);
          const bounds = [...new Set(cuts.map((c) => c % values.length))].sort((a, b) => a - b);
          const parts: number[][] = [];
          let start = 0;
          for (const b of [...bounds, values.length]) {
            parts.push(values.slice(start, b));
            start = b;
          }
          const merged = new ColumnMoments(1);
          for (const part of parts) merged.merge(fit(part));
          expect(merged.count[0]).toBe(values.length);
          const mean = toDouble(exactMean(values));
          const variance = toDouble(exactVariance(values, 0));
          // Errors scale with the spread of the data, not with the mean: bound
          // them by the largest deviation from the mean (a mean near 0 of
          // values far from 0 cannot be accurate to its own last bit).
          const spread = Math.max(...values.map((x) => Math.abs(x - mean)));
          expect(Math.abs(merged.mean(0) - mean)).toBeLessThanOrEqual(Math.max(4 * Number.EPSILON * spread, 2 * Number.EPSILON * Math.abs(mean)));
          expect(Math.abs(merged.variance(0, 0) - variance)).toBeLessThanOrEqual(16 * Number.EPSILON * Math.max(variance, spread * spread * 1e-3));
        },
      ),
      { seed: 20261125, numRuns: 200 },
    );
  });

  it('snapshot and restore round-trip the statistics', () => {
    const m = fit([1e15 + 0.125, 1e15 - 0.25, 1e15 + 0.5]);
    const copy = new ColumnMoments(1);
    copy.restore(0, m.snapshot(0));
    expect(copy.mean(0)).toBe(m.mean(0));
    expect(copy.variance(0, 0)).toBe(m.variance(0, 0));
    expect(copy.count[0]).toBe(3);
  });
});
