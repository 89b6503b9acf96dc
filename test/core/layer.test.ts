// layerNormalizeRows against a hand-derived example and exact arithmetic.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Clipping } from '../../src/core/batch.js';
import { LayerRowStats, layerNormalizeRows } from '../../src/core/layer.js';
import { exactMean, exactNormalized, exactVariance } from '../support/exact.js';

function normalize(row: number[], epsilon = 1e-5, gamma?: number[], beta?: number[]): { out: number[]; stats: LayerRowStats } {
  const width = row.length;
  const out = new Float64Array(width);
  const stats = new LayerRowStats();
  layerNormalizeRows(
    Float64Array.from(row),
    1,
    width,
    Float64Array.from(gamma ?? row.map(() => 1)),
    Float64Array.from(beta ?? row.map(() => 0)),
    epsilon,
    out,
    stats,
  );
  return { out: [...out], stats };
}

/**
 * What "exact to the last bits" can mean: a few ulps of the result, plus a few
 * ulps of |μ|/√(σ² + ε), the rounding of μ (or of a − μ) as it shows after the
 * division. For a row whose values are far from 0 relative to their spread,
 * a result near 0 cannot be closer than that in any float64 code.
 */
function tolerance(want: number, row: number[], epsilon: number): number {
  // On the row divided by its largest magnitude, so that σ² neither overflows nor underflows.
  const k = Math.max(...row.map(Math.abs));
  const scaled = row.map((x) => x / k);
  const n = row.length;
  const mu = scaled.reduce((s, x) => s + x / n, 0);
  const sigma2 = scaled.reduce((s, x) => s + ((x - mu) / n) * (x - mu), 0);
  const scale = Math.abs(mu) / Math.sqrt(sigma2 + epsilon / k / k);
  return 4 * Number.EPSILON * (Math.abs(want) + (Number.isFinite(scale) ? scale : 0));
}

describe('layerNormalizeRows', () => {
  it('hand-derived: a = [2, 5, 0] with ε = 1e-5', () => {
    // μ = 7/3; σ² = ((2 − 7/3)² + (5 − 7/3)² + (0 − 7/3)²)/3 = (1/9 + 64/9 + 49/9)/3 = 114/27 = 38/9.
    // y_i = (a_i − 7/3)/√(38/9 + 1e-5) = (3a_i − 7)/√(38 + 9e-5).
    const d = Math.sqrt(38 + 9e-5);
    const { out } = normalize([2, 5, 0]);
    [-1 / d, 8 / d, -7 / d].forEach((want, i) => expect(Math.abs(out[i] - want)).toBeLessThanOrEqual(4 * Number.EPSILON * Math.abs(want)));
  });

  it('is within 2 ulps of the exact value on rows mixing 1e-4 and 1e12 (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ min: 1e-4, max: 1e-3, noNaN: true }), fc.double({ min: 1e11, max: 1e12, noNaN: true }), fc.double({ min: -100, max: 100, noNaN: true })), { minLength: 2, maxLength: 16 }),
        (row) => {
          if (row.every((x) => x === row[0])) return;
          const { out } = normalize(row);
          const mean = exactMean(row);
          const variance = exactVariance(row, 0);
          row.forEach((x, i) => {
            const want = exactNormalized(x, mean, variance, 1e-5);
            expect(Math.abs(out[i] - want), `${out[i]} vs ${want}`).toBeLessThanOrEqual(tolerance(want, row, 1e-5));
          });
        },
      ),
      { seed: 7, numRuns: 300 },
    );
  });

  it('has mean 0 and variance σ²/(σ² + ε) per row (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e3, max: 1e3, noNaN: true }), { minLength: 2, maxLength: 32 }), fc.double({ min: 0, max: 1, noNaN: true }), (row, epsilon) => {
        if (row.every((x) => x === row[0])) return;
        const { out } = normalize(row, epsilon);
        const n = row.length;
        const mu = row.reduce((s, x) => s + x, 0) / n;
        const sigma2 = row.reduce((s, x) => s + (x - mu) ** 2, 0) / n;
        const mean = out.reduce((s, y) => s + y, 0) / n;
        const variance = out.reduce((s, y) => s + (y - mean) ** 2, 0) / n;
        expect(Math.abs(mean)).toBeLessThan(1e-9);
        expect(Math.abs(variance - sigma2 / (sigma2 + epsilon))).toBeLessThan(1e-9);
      }),
      { seed: 8, numRuns: 300 },
    );
  });

  it('gives β for a constant row, leaves missing values out and missing, and applies γ, β per column', () => {
    const constant = normalize([4, 4, 4], 1e-5, [1, 2, 3], [0.5, -1, 7]);
    expect(constant.out).toEqual([0.5, -1, 7]);
    expect(constant.stats.zeroVarianceRows).toBe(1);
    const gappy = normalize([1, NaN, 3], 0);
    expect(gappy.out[0]).toBe(-1);
    expect(Number.isNaN(gappy.out[1])).toBe(true);
    expect(gappy.out[2]).toBe(1);
    const affine = normalize([1, 3], 0, [2, 10], [1, 0]);
    expect(affine.out).toEqual([-1, 10]);
    const empty = normalize([NaN, NaN]);
    expect(empty.stats.emptyRows).toBe(1);
  });

  it('holds at the edges of float64: rows near 1e300 and 1e-300 match the exact value', () => {
    for (const row of [
      [1e300, 3e300, -2e300],
      [1e-300, 3e-300, 2e-300],
      [1.7e308, -1.7e308, 0],
    ]) {
      const { out } = normalize(row, 0);
      const mean = exactMean(row);
      const variance = exactVariance(row, 0);
      row.forEach((x, i) => {
        const want = exactNormalized(x, mean, variance, 0);
        expect(Math.abs(out[i] - want), `${out[i]} vs ${want}`).toBeLessThanOrEqual(tolerance(want, row, 0));
      });
    }
  });

  it('clips z to [−k, k] before γ and β, counting per column', () => {
    const width = 4;
    const out = new Float64Array(width);
    const clipping = new Clipping(1, width);
    // μ = 2.5, σ² = 18.75 (ε = 0): z(10) = √3 → 1; the others ≈ −0.577.
    layerNormalizeRows(Float64Array.of(0, 0, 0, 10), 1, width, new Float64Array(width).fill(2), new Float64Array(width).fill(1), 0, out, new LayerRowStats(), clipping);
    expect(out[3]).toBe(3);
    expect([...clipping.counts]).toEqual([0, 0, 0, 1]);
  });
});

describe('dominantColumn', () => {
  it('names the column that alone makes a row spread, and no column when the spread is shared', async () => {
    const { dominantColumn } = await import('../../src/core/layer.js');
    const row = (...xs: number[]): Float64Array => Float64Array.from(xs);
    // A market cap among ratios: the ratios, about their own mean, hold nothing of the spread.
    expect(dominantColumn(row(17.5, 0.02, 92293693440, 3.6), 0, 4)).toBe(2);
    // Comparable values: no column dominates.
    expect(dominantColumn(row(139.34, 178.96, 184.9), 0, 3)).toBe(-1);
    // An outlier among values that spread too: 1% is the line (others' squares 4 of the row's 292.8: 1.4%; then 4 of 1220.8).
    expect(dominantColumn(row(0, 2, 0, 2, 20), 0, 5)).toBe(-1);
    expect(dominantColumn(row(0, 2, 0, 2, 40), 0, 5)).toBe(4);
    // Missing values do not count; fewer than three values never dominate.
    expect(dominantColumn(row(NaN, 1, 1e9, 2), 0, 4)).toBe(2);
    expect(dominantColumn(row(NaN, 1, 1e9), 0, 3)).toBe(-1);
    // Beyond the range of squares: scaled, not overflowed.
    expect(dominantColumn(row(1e300, 1, 2, 3), 0, 4)).toBe(0);
    // A row offset into a block.
    expect(dominantColumn(row(9, 9, 9, 1, 2, 1e6), 3, 3)).toBe(2);
  });
});
