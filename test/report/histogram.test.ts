// The one-line histogram, from the buckets of a quantile sketch, checked
// against the bins counted exactly from the values.

import { describe, expect, it } from 'vitest';
import { QuantileSketch } from '../../src/core/quantiles.js';
import { HISTOGRAM_BINS, histogram } from '../../src/report/histogram.js';
import { seededRandom } from '../support/random.js';

function sketchOf(values: Iterable<number>): QuantileSketch {
  const sketch = new QuantileSketch();
  for (const x of values) sketch.add(x);
  return sketch;
}

/** The histogram of `values` drawn from their sketch. */
function drawn(values: number[]): { bars: string; log: boolean } | undefined {
  const sketch = sketchOf(values);
  return histogram(sketch, sketch.min, sketch.max);
}

/** How many of `values` fall in each of the 20 linear bins between their min and max, counted exactly. */
function exactBins(values: number[]): number[] {
  const min = values.reduce((a, b) => Math.min(a, b));
  const max = values.reduce((a, b) => Math.max(a, b));
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const x of values) counts[Math.min(HISTOGRAM_BINS - 1, Math.floor(((x - min) / (max - min)) * HISTOGRAM_BINS))]++;
  return counts;
}

function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

describe('histogram', () => {
  it('draws a uniform distribution as level bars', () => {
    const h = drawn(Array.from({ length: 10_000 }, (_, i) => i / 100));
    expect(h?.log).toBe(false);
    expect(h?.bars).toHaveLength(HISTOGRAM_BINS);
    expect(new Set(h?.bars)).toEqual(new Set(['█']));
  });

  it('shows every bin that holds a value, however few: outliers among 100,000 normal values', () => {
    const random = seededRandom(19);
    const values = Array.from({ length: 100_000 }, () => normal(random));
    values.push(-20, 30, 50);
    const h = drawn(values);
    const exact = exactBins(values);
    // −20, 30 and 50 alone in their bins (0, 14 and 19), the normal bulk in bins 4 to 7, nothing elsewhere.
    expect(exact[0]).toBe(1);
    expect(exact[14]).toBe(1);
    expect(exact[19]).toBe(1);
    for (let bin = 0; bin < HISTOGRAM_BINS; bin++) expect(h?.bars[bin] !== ' ', `bin ${bin} holds ${exact[bin]}`).toBe(exact[bin] > 0);
    expect(h?.bars[14]).toBe('▁');
  });

  it('draws bins of equal counts alike: 3,237 values of 2,000,000 in each of two bins', () => {
    const random = seededRandom(7);
    // Bins of width 1 from 0 to 20: the bulk in bins 0 to 9, then 3,237 values in bin 12 and in bin 17 (a bucket
    // of the sketch is within 0.1% of its values, so no value is put near a bin's edge).
    const values: number[] = [0, 20];
    for (let i = 0; i < 2_000_000 - 2 * 3237 - 2; i++) values.push(0.5 + 9 * random());
    for (let i = 0; i < 3237; i++) values.push(12.5, 17.5);
    const exact = exactBins(values);
    expect([exact[12], exact[17]]).toEqual([3237, 3237]);
    const h = drawn(values);
    expect(h?.bars[12]).toBe('▁');
    expect(h?.bars[17]).toBe(h?.bars[12]);
    expect(h?.bars.slice(13, 17)).toBe('    ');
  });

  it('shows skew: most mass in the first bins, an empty middle, an outlier at the end', () => {
    // 99% of values in [0, 1], 1% at 1000 (an outlier).
    const values = Array.from({ length: 1000 }, (_, i) => (i < 990 ? i / 990 : 1000));
    const h = drawn(values);
    expect(h?.bars[0]).toBe('█');
    expect(h?.bars.slice(1, HISTOGRAM_BINS - 1).trim()).toBe('');
    expect(h?.bars[HISTOGRAM_BINS - 1]).toBe('▁');
  });

  it('uses logarithmic bins for positive columns spanning three decades or more', () => {
    // Log-uniform from 1 to 1e6: level in log bins.
    const h = drawn(Array.from({ length: 20_000 }, (_, i) => 10 ** ((6 * i) / 19_999)));
    expect(h?.log).toBe(true);
    expect(h?.bars).toMatch(/^[▇█]{20}$/);
  });

  it('draws a constant column as one bar, and nothing when there is no value', () => {
    expect(drawn([5, 5, 5])?.bars.trimEnd()).toBe('█');
    expect(histogram(new QuantileSketch(), Infinity, -Infinity)).toBeUndefined();
  });
});
