// batchNormalizeRows: the formulas of scikit-learn's StandardScaler and
// PyTorch's BatchNorm1d in eval mode, on hand-computed examples, and exact
// arithmetic where the mean is far from zero.

import { describe, expect, it } from 'vitest';
import { Clipping, batchNormalizeRows, columnScaling, float32Scaling, inverseScaling, scalingOfMoments } from '../../src/core/batch.js';
import { ColumnMoments } from '../../src/core/moments.js';
import { exactMean, exactNormalized, exactVariance } from '../support/exact.js';
import { seededRandom } from '../support/random.js';

function transform(values: number[], width: number, scaling: ReturnType<typeof columnScaling>, clipping?: Clipping): number[] {
  const out = new Float64Array(values.length);
  batchNormalizeRows(Float64Array.from(values), values.length / width, width, scaling, out, clipping);
  return [...out];
}

describe('batchNormalizeRows', () => {
  it('equals StandardScaler: (x − mean)/√var with ε = 0, and a constant column gives 0', () => {
    // Column a: 1, 2, 3, 6 → mean 3, var (4 + 1 + 0 + 9)/4 = 3.5. Column b: constant 5.
    const scaling = columnScaling([3, 5], [0, 0], [3.5, 0], [1, 1], [0, 0], 0);
    const out = transform([1, 5, 2, 5, 3, 5, 6, 5], 2, scaling);
    const s = Math.sqrt(3.5);
    [-2 / s, 0, -1 / s, 0, 0, 0, 3 / s, 0].forEach((want, i) => expect(out[i]).toBeCloseTo(want, 15));
  });

  it('equals BatchNorm1d in eval mode: γ(x − running_mean)/√(running_var + ε) + β', () => {
    // running_mean 10, running_var 4, ε 1e-5, γ 2, β 0.5: y(12) = 2·2/√4.00001 + 0.5.
    const scaling = columnScaling([10], [0], [4], [2], [0.5], 1e-5);
    const [y] = transform([12], 1, scaling);
    expect(Math.abs(y - (4 / Math.sqrt(4.00001) + 0.5))).toBeLessThanOrEqual(2 * Number.EPSILON * 3);
  });

  it('keeps missing values missing', () => {
    const scaling = columnScaling([0], [0], [1], [1], [0], 0);
    const out = transform([NaN, 2], 1, scaling);
    expect(Number.isNaN(out[0])).toBe(true);
    expect(out[1]).toBe(2);
  });

  it('is exact to the last bits on 1e9 + noise, thanks to meanLo', () => {
    const values = Array.from({ length: 3000 }, (_, i) => 1e9 + ((i * 7919) % 1000) * 1e-3 + 1e-4 / 3);
    const m = new ColumnMoments(1);
    for (const x of values) m.add(0, x);
    const variance = m.variance(0, 0);
    const [meanHi, meanLo] = m.meanParts(0);
    const withLo = transform(values, 1, columnScaling([meanHi], [meanLo], [variance], [1], [0], 1e-5));
    const withoutLo = transform(values, 1, columnScaling([meanHi], [0], [variance], [1], [0], 1e-5));
    const mean = exactMean(values);
    const exactVar = exactVariance(values, 0);
    // Within 2 ulps of the result, or of 1/64 for results near 0 (where the
    // mean's own tiny rounding, ~1e-19 here, shows in the last bits).
    const error = (out: number[]) =>
      Math.max(...values.map((x, i) => {
        const want = exactNormalized(x, mean, exactVar, 1e-5);
        return Math.abs(out[i] - want) / (Number.EPSILON * Math.max(Math.abs(want), 1 / 64));
      }));
    expect(error(withLo)).toBeLessThanOrEqual(2);
    // Without the mean's low part, the rounding of a mean near 1e9 (ulp 1.2e-7) shows: millions of ulps.
    expect(error(withoutLo)).toBeGreaterThan(1e6);
  });

  it('clamps raw values to winsorizing bounds and z to the clip limit', () => {
    const scaling = columnScaling([0], [0], [1], [1], [0], 0, { lower: [-2], upper: [2] });
    const clipping = new Clipping(1.5, 1);
    const out = transform([-5, 1, 5], 1, scaling, clipping);
    expect(out).toEqual([-1.5, 1, 1.5]);
    expect(clipping.counts[0]).toBe(2);
  });

  it('normalizes every finite column: values near ±1.8e308, a 1e-170 spread with ε = 0 (within 2 ulps of exact)', () => {
    const next = seededRandom(308);
    const columns = [
      Array.from({ length: 300 }, () => 1.75e308 * (2 * next() - 1)),
      Array.from({ length: 300 }, () => 1e300 * (1 + next())),
      Array.from({ length: 300 }, () => 1.3e154 * (2 + next())),
      Array.from({ length: 300 }, () => 1e-170 * (next() - 0.3)),
    ];
    for (const epsilon of [0, 1e-5]) {
      for (const values of columns) {
        const m = new ColumnMoments(1);
        for (const x of values) m.add(0, x);
        const out = transform(values, 1, scalingOfMoments(m, epsilon, 0));
        const mean = exactMean(values);
        const variance = exactVariance(values, 0);
        values.forEach((x, i) => {
          const want = exactNormalized(x, mean, variance, epsilon);
          expect(Number.isFinite(out[i])).toBe(true);
          expect(Math.abs(out[i] - want), `${x}: ${out[i]} vs ${want}`).toBeLessThanOrEqual(2 * Number.EPSILON * Math.max(Math.abs(want), 1 / 64));
        });
      }
    }
  });

  it('maps extreme columns back with --inverse (the scale undone)', () => {
    const values = [1e308, -1.5e308, 1.7976931348623157e308, 5e307, -1e300];
    const m = new ColumnMoments(1);
    for (const x of values) m.add(0, x);
    const forward = scalingOfMoments(m, 1e-5, 0);
    const back = transform(transform(values, 1, forward), 1, inverseScaling(forward));
    back.forEach((x, i) => expect(Math.abs(x - values[i])).toBeLessThanOrEqual(8 * Number.EPSILON * 1.8e308));
  });

  it('keeps the same bits as without a scale for ordinary columns (the scale is exactly 1)', () => {
    const scaling = columnScaling([3, 1e9], [0, 1e-8], [3.5, 2.25e4], [2, 1], [0.5, 0], 1e-5);
    expect([...scaling.inputScale]).toEqual([1, 1]);
    expect([...scaling.outputScale]).toEqual([1, 1]);
    expect([...scaling.denominator]).toEqual([Math.sqrt(3.5 + 1e-5), Math.sqrt(2.25e4 + 1e-5)]);
  });
});

describe('float32Scaling', () => {
  it('keeps the mean to about 1e-14 of its size as a float32 and the float32 of its remainder', () => {
    // Prices near 100 with meanLo: one float32 alone is off by up to 4e-6.
    const means = [100.123456789, 187.15576923076924, 6.831e11, -0.0175, 1e-30];
    const lows = [1e-15, -2.886579864025407e-15, 3e-5, 0, 0];
    const scaling = float32Scaling(columnScaling(means, lows, [1, 1, 1, 1, 1], [1.1, 1, 1, 1, 1], [0.3, 0, 0, 0, 0], 0));
    means.forEach((mean, j) => {
      const hi = scaling.mean[j];
      const lo = scaling.meanLo[j];
      expect(Math.fround(hi)).toBe(hi);
      expect(Math.fround(lo)).toBe(lo);
      expect(Math.abs(hi + lo - mean - lows[j])).toBeLessThanOrEqual(Math.abs(mean) * 1e-14);
    });
    expect(Math.abs(scaling.mean[0] - means[0])).toBeGreaterThan(1e-7); // the split was needed
    expect(Array.from(scaling.gamma)).toEqual([Math.fround(1.1), 1, 1, 1, 1]);
    expect(Array.from(scaling.beta)).toEqual([Math.fround(0.3), 0, 0, 0, 0]);
    expect(Array.from(scaling.lower)).toEqual(new Array(5).fill(-Infinity));
  });
});
