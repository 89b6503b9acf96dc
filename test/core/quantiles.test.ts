import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { QuantileSketch, RELATIVE_ACCURACY } from '../../src/core/quantiles.js';

/** The exact value at rank ⌊q·(n − 1)⌋ of the sorted data (numpy's method="lower"). */
function exactLower(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(q * (sorted.length - 1))];
}

function expectWithin(got: number, exact: number): void {
  expect(Math.abs(got - exact)).toBeLessThanOrEqual(RELATIVE_ACCURACY * Math.abs(exact) * (1 + 1e-12));
}

const QS = [0, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 1];

function spanInDecades(values: number[]): number {
  const magnitudes = values.map(Math.abs).filter((x) => x >= 2 ** -1000);
  return Math.log10(Math.max(...magnitudes)) - Math.log10(Math.min(...magnitudes));
}

describe('QuantileSketch', () => {
  it('answers min and max exactly and NaN when empty', () => {
    const s = new QuantileSketch();
    expect(s.quantile(0.5)).toBeNaN();
    for (const x of [3, -7.5, 1e12, 0.0035, NaN]) s.add(x);
    expect([s.count, s.quantile(0), s.quantile(1)]).toEqual([4, -7.5, 1e12]);
  });

  it('is within the relative accuracy of the exact quantile on financial magnitudes', () => {
    const values = Array.from({ length: 20_000 }, (_, i) => {
      const u = Math.sin(i * 12.9898) * 43758.5453;
      const frac = u - Math.floor(u);
      return (i % 3 === 0 ? -1 : 1) * Math.pow(10, -4 + 16 * frac);
    });
    values.push(0, 0, 0);
    const s = new QuantileSketch();
    for (const x of values) s.add(x);
    for (const q of QS) expectWithin(s.quantile(q), exactLower(values, q));
  });

  it('holds the guarantee on random data (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e15, max: 1e15, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (values, q) => {
          const s = new QuantileSketch();
          for (const x of values) s.add(x);
          const exact = exactLower(values, q);
          const got = s.quantile(q);
          // Magnitudes below 2^-1000 are counted as zero; beyond ~114 decades
          // the smallest magnitudes collapse and their quantiles are unknown.
          if (Number.isNaN(got)) expect(spanInDecades(values)).toBeGreaterThan(113);
          else if (Math.abs(exact) < 2 ** -1000) expect(Math.abs(got)).toBeLessThan(2 ** -999);
          else expectWithin(got, exact);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('merges exactly: split data answers as one sketch', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e9, max: 1e9, noNaN: true }), { minLength: 2, maxLength: 200 }), fc.nat(), (values, at) => {
        const cut = at % values.length;
        const whole = new QuantileSketch();
        const left = new QuantileSketch();
        const right = new QuantileSketch();
        values.forEach((x, i) => {
          whole.add(x);
          (i < cut ? left : right).add(x);
        });
        left.merge(right);
        for (const q of QS) expect(Object.is(left.quantile(q), whole.quantile(q)) || Number.isNaN(whole.quantile(q))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('merges exactly when the values span many decades: empty slack never collapses real buckets', () => {
    // Found by the property above (seed -1215378127): 9.3e-302 (just above 2^-1000) and 7.8e-245 fit in the kept range,
    // but the merged sketch used to collapse the smallest ones to make room for empty slack.
    const values = [0, 9.33263618503219e-302, 0, 9.958904312356967e-302, 6.883728113245627e-245, 7.839385298160393e-245, 0, 0, 0, 9.33263618503219e-302];
    const whole = new QuantileSketch();
    const left = new QuantileSketch();
    const right = new QuantileSketch();
    values.forEach((x, i) => {
      whole.add(x);
      (i < 2 ? left : right).add(x);
    });
    left.merge(right);
    for (const q of QS) expect(left.quantile(q)).toBe(whole.quantile(q));
    expect(left.quantile(0.75)).not.toBeNaN();
  });

  it('keeps memory bounded over extreme ranges, reporting collapsed quantiles as unknown', () => {
    const s = new QuantileSketch();
    const values = Array.from({ length: 601 }, (_, i) => Math.pow(10, i - 300));
    for (const x of values) s.add(x);
    expect(s.count).toBe(601);
    expect(s.quantile(0)).toBe(1e-300);
    expectWithin(s.quantile(0.9), exactLower(values, 0.9));
    expect(s.quantile(0.5)).toBeNaN(); // 1e0 lies more than 114 decades below the top
  });

  it('answers the same whether its buckets were kept sparse or dense, built whole or merged from parts in any order (property)', () => {
    const magnitude = fc.integer({ min: -300, max: 300 }).chain((e) => fc.double({ min: 1, max: 10, noNaN: true }).map((m) => m * 10 ** e));
    const wideOrNarrow = fc.oneof(
      fc.array(fc.tuple(magnitude, fc.boolean()).map(([x, negative]) => (negative ? -x : x)), { minLength: 1, maxLength: 400 }),
      fc.array(fc.double({ min: 90, max: 110, noNaN: true }), { minLength: 1, maxLength: 3000 }),
    );
    fc.assert(
      fc.property(wideOrNarrow, fc.array(fc.nat(), { maxLength: 6 }), (values, cuts) => {
        const whole = new QuantileSketch();
        for (const x of values) whole.add(x);
        const bounds = [...new Set(cuts.map((c) => c % values.length))].sort((a, b) => a - b);
        const parts: QuantileSketch[] = [];
        let start = 0;
        for (const b of [...bounds, values.length]) {
          const part = new QuantileSketch();
          for (const x of values.slice(start, b)) part.add(x);
          parts.push(part);
          start = b;
        }
        const merged = new QuantileSketch();
        for (const part of parts.reverse()) merged.merge(QuantileSketch.fromState(part.state()));
        for (let q = 0; q <= 1; q += 1 / 64) expect(Object.is(merged.quantile(q), whole.quantile(q)), `q ${q}`).toBe(true);
      }),
      { seed: 2048, numRuns: 300 },
    );
  });

  it('holds a column of a few values over many decades in a few kilobytes, not its whole range of buckets', () => {
    const s = new QuantileSketch();
    // 200 values from 1e-3 to 1e6, both signs: 20,000 buckets of range, 200 of them used.
    for (let i = 0; i < 200; i++) s.add((i % 3 === 0 ? -1 : 1) * 10 ** (-3 + (9 * ((i * 7919) % 200)) / 200));
    const state = s.state();
    const bytes = (store: typeof state.positive) => store.counts.byteLength + (store.sparseIndexes?.byteLength ?? 0) + store.sparseCounts.byteLength;
    expect(bytes(state.positive) + bytes(state.negative)).toBeLessThan(8192);
    // A column of many values turns dense once its buckets are many: prices from 10 to 1,000.
    const prices = new QuantileSketch();
    for (let i = 0; i < 20_000; i++) prices.add(10 * 100 ** (((i * 7919) % 20_000) / 20_000));
    expect(prices.state().positive.sparseIndexes).toBeUndefined();
  });
});
