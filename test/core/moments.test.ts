// ColumnMoments (exact sums Σx and Σx²; mean and M2 from them) against exact
// rational statistics, on data where the naive formula fails; and the property
// the exact sums exist for: any order of adding and any split into merged
// parts give the same bits.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ColumnMoments } from '../../src/core/moments.js';
import { add, exact, exactM2, exactMean, exactVariance, mul, sqrtToDouble, toDouble, toWide, ulpDistance } from '../support/exact.js';
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

  it('gives the same bits for any order of the values and any split into merged parts (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.constant(NaN)), { minLength: 1, maxLength: 300 }),
        fc.double({ min: -1e12, max: 1e12, noNaN: true }),
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.nat(),
        (raw, offset, cuts, seed) => {
          const values = raw.map((x) => x + offset);
          const whole = fit(values);
          const shuffled = [...values];
          const next = random(seed);
          for (let i = shuffled.length - 1; i > 0; i--) {
            const k = Math.floor(next() * (i + 1));
            [shuffled[i], shuffled[k]] = [shuffled[k], shuffled[i]];
          }
          const bounds = [...new Set(cuts.map((c) => c % shuffled.length))].sort((a, b) => a - b);
          const parts: ColumnMoments[] = [];
          let start = 0;
          for (const b of [...bounds, shuffled.length]) {
            parts.push(fit(shuffled.slice(start, b)));
            start = b;
          }
          const merged = new ColumnMoments(1);
          for (const part of parts.reverse()) merged.merge(part);
          for (const m of [fit(shuffled), merged]) {
            expect(m.count[0]).toBe(whole.count[0]);
            expect(m.missing[0]).toBe(whole.missing[0]);
            expect(m.meanParts(0)).toEqual(whole.meanParts(0));
            expect(m.m2(0)).toBe(whole.m2(0));
            expect(m.variance(0, 1)).toBe(whole.variance(0, 1));
          }
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });

  it('gives the same bits for any order and split when the cascade spills: magnitudes from 1e-300 to 1e300, squares beyond the doubles (property)', () => {
    const magnitude = fc.integer({ min: -300, max: 300 }).chain((e) => fc.double({ min: 1, max: 10, noNaN: true }).map((m) => m * 10 ** e));
    fc.assert(
      fc.property(
        fc.array(fc.tuple(magnitude, fc.boolean()).map(([x, negative]) => (negative ? -x : x)), { minLength: 2, maxLength: 120 }),
        fc.array(fc.nat(), { maxLength: 5 }),
        fc.nat(),
        (values, cuts, seed) => {
          const whole = fit(values);
          const shuffled = [...values];
          const next = random(seed);
          for (let i = shuffled.length - 1; i > 0; i--) {
            const k = Math.floor(next() * (i + 1));
            [shuffled[i], shuffled[k]] = [shuffled[k], shuffled[i]];
          }
          const bounds = [...new Set(cuts.map((c) => c % shuffled.length))].sort((a, b) => a - b);
          // The parts as columns of one packed set (as per-group moments are), merged column by column.
          const packed = new ColumnMoments(bounds.length + 1);
          let start = 0;
          [...bounds, shuffled.length].forEach((b, part) => {
            for (const x of shuffled.slice(start, b)) packed.add(part, x);
            start = b;
          });
          const merged = new ColumnMoments(1);
          for (let part = bounds.length; part >= 0; part--) merged.mergeColumn(0, ColumnMoments.fromState(packed.state()), part);
          expect(merged.meanParts(0)).toEqual(whole.meanParts(0));
          expect(merged.m2Wide(0)).toEqual(whole.m2Wide(0));
          expect(ulpDistance(whole.mean(0), toDouble(exactMean(values)))).toBeLessThanOrEqual(1);
          const m2 = toWide(exactM2(values));
          expect(whole.m2Wide(0).exponent).toBe(m2.exponent);
          expect(Math.abs(whole.m2Wide(0).significand - m2.significand) * 2 ** 52).toBeLessThanOrEqual(1);
        },
      ),
      { seed: 19, numRuns: 200 },
    );
  });

  it('holds ordinary columns in a few doubles each: 400,000 group-columns of prices, returns and caps spill nothing into chunks', () => {
    const next = random(14);
    const groups = 100_000;
    const m = new ColumnMoments(0);
    m.grow(groups * 4);
    for (let row = 0; row < 2 * groups; row++) {
      const g = row % groups;
      m.add(4 * g, Math.round(100 * (10 + 500 * next())) / 100);
      m.add(4 * g + 1, Math.round(1e6 * (next() - 0.5) * 0.1) / 1e6);
      m.add(4 * g + 2, Math.round(5e9 * next()));
      m.add(4 * g + 3, next() < 0.1 ? NaN : Math.round(1e4 * next()) / 1e4);
    }
    const state = m.state();
    expect(state.spilled).toHaveLength(0);
    // count, missing, min, max and five cascade doubles: 72 bytes a column.
    const bytes = [state.count, state.missing, state.min, state.max, state.cascade].reduce((total, a) => total + a.byteLength, 0);
    expect(bytes / (groups * 4)).toBe(ColumnMoments.BYTES_PER_COLUMN);
    expect(ColumnMoments.BYTES_PER_COLUMN).toBe(72);
  });

  it('is (all but) correctly rounded: mean and M2 within 1 ulp of the exact values, across magnitudes', () => {
    const next = random(11);
    for (const scale of [1e-300, 1e-150, 1e-20, 1e-4, 1, 1e9, 1e20, 1e150, 1e200, 1e300]) {
      for (const level of [0, 1, 1e6]) {
        const values = Array.from({ length: 500 }, () => scale * (level + next() - 0.5));
        const m = fit(values);
        const where = `scale ${scale}, level ${level}`;
        expect(ulpDistance(m.mean(0), toDouble(exactMean(values))), where).toBeLessThanOrEqual(1);
        expect(ulpDistance(m.m2(0), toDouble(exactM2(values))), where).toBeLessThanOrEqual(1);
      }
    }
  });

  it('keeps M2 and the variance beyond the double range: values near 1e308, spreads below 1e-154 (within 1 ulp)', () => {
    const next = random(12);
    for (const [scale, level] of [[1.5e308, 0], [1e300, 0.3], [1e160, 1], [1e-170, 0], [1e-200, 1e6], [1e-300, 0]]) {
      const values = Array.from({ length: 400 }, () => scale * (level + next() - 0.5));
      const m = fit(values);
      const where = `scale ${scale}, level ${level}`;
      for (const ddof of [0, 1]) {
        const want = toWide(exactVariance(values, ddof));
        const got = m.varianceWide(0, ddof) as { significand: number; exponent: number };
        expect(got.exponent, where).toBe(want.exponent);
        expect(Math.abs(got.significand - want.significand) * 2 ** 52, where).toBeLessThanOrEqual(1);
        expect(ulpDistance(m.std(0, ddof), sqrtToDouble(exactVariance(values, ddof))), where).toBeLessThanOrEqual(1);
      }
      const m2 = toWide(exactM2(values));
      expect(m.m2Wide(0)).toEqual(m2);
      // A snapshot restored (a parameter file read back) gives the same M2.
      const copy = new ColumnMoments(1);
      copy.restore(0, m.snapshot(0));
      expect(copy.m2Wide(0), where).toEqual(m2);
    }
  });

  it('keeps subnormal values exactly', () => {
    const values = [5e-324, 1e-320, -3e-322, 2.5e-308, 7e-315];
    const m = fit(values);
    expect(ulpDistance(m.mean(0), toDouble(exactMean(values)))).toBeLessThanOrEqual(1);
  });

  it('merges restored snapshots of parts as it merges the parts, to the files\' precision', () => {
    const next = random(5);
    const values = Array.from({ length: 3000 }, () => 1e9 + Math.round(next() * 1e6) * 1e-6);
    const merged = new ColumnMoments(1);
    for (let i = 0; i < 3; i++) {
      const restored = new ColumnMoments(1);
      restored.restore(0, fit(values.slice(i * 1000, (i + 1) * 1000)).snapshot(0));
      merged.merge(restored);
    }
    expect(ulpDistance(merged.mean(0), toDouble(exactMean(values)))).toBeLessThanOrEqual(1);
    expect(ulpDistance(merged.variance(0, 0), toDouble(exactVariance(values, 0)))).toBeLessThanOrEqual(4);
  });

  it('exact sums (a partial fit\'s) restored and merged give the bits of one fit over all the parts (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ min: -1e6, max: 1e6, noNaN: true }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(NaN)), { minLength: 1, maxLength: 200 }),
        fc.double({ min: -1e12, max: 1e12, noNaN: true }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (raw, offset, cuts) => {
          const values = raw.map((x) => (Math.abs(x) > 1e200 ? x : x + offset));
          const whole = fit(values);
          const bounds = [...new Set(cuts.map((c) => c % values.length))].sort((a, b) => a - b);
          const merged = new ColumnMoments(1);
          let start = 0;
          for (const b of [...bounds, values.length]) {
            const part = fit(values.slice(start, b));
            start = b;
            const { sum, sumOfSquares } = part.exactSums(0);
            const restored = new ColumnMoments(1);
            restored.restoreSums(0, { count: part.count[0], min: part.min[0], max: part.max[0], sum, sumOfSquares });
            merged.merge(restored);
          }
          expect(merged.count[0]).toBe(whole.count[0]);
          expect([merged.min[0], merged.max[0]]).toEqual([whole.min[0], whole.max[0]]);
          expect(merged.meanParts(0)).toEqual(whole.meanParts(0));
          expect(merged.m2(0)).toBe(whole.m2(0));
          expect(merged.variance(0, 1)).toBe(whole.variance(0, 1));
          // The sums themselves are the same numbers written the same way.
          expect(merged.exactSums(0)).toEqual(whole.exactSums(0));
        },
      ),
      { seed: 17, numRuns: 300 },
    );
  });

  it('exact sums are the exact Σx and Σx² (against rational arithmetic), n odd', () => {
    const values = [1e15 + 0.125, -3.5, 5e-324, 2 ** 600, 0, 0.1];
    const { sum, sumOfSquares } = fit(values).exactSums(0);
    const asRational = (s: { n: bigint; exponent: number }) => (s.exponent >= 0 ? { num: s.n << BigInt(s.exponent), den: 1n } : { num: s.n, den: 1n << BigInt(-s.exponent) });
    expect(asRational(sum)).toEqual(values.map(exact).reduce(add));
    expect(asRational(sumOfSquares)).toEqual(values.map((x) => mul(exact(x), exact(x))).reduce(add));
    for (const s of [sum, sumOfSquares]) expect(s.n % 2n !== 0n).toBe(true);
    expect(new ColumnMoments(1).exactSums(0)).toEqual({ sum: { n: 0n, exponent: 0 }, sumOfSquares: { n: 0n, exponent: 0 } });
  });
});
