// The one-line histogram, from a quantile function.

import { describe, expect, it } from 'vitest';
import { HISTOGRAM_BINS, histogram } from '../../src/report/histogram.js';

describe('histogram', () => {
  it('draws a uniform distribution as level bars', () => {
    const h = histogram((q) => q * 100, 0, 100);
    expect(h?.log).toBe(false);
    expect(h?.bars).toHaveLength(HISTOGRAM_BINS);
    expect(new Set(h?.bars)).toEqual(new Set(['█']));
  });

  it('shows skew: most mass in the first bins, an empty middle, an outlier at the end', () => {
    // 99% of values in [0, 1], 1% at 1000 (an outlier).
    const h = histogram((q) => (q < 0.99 ? q / 0.99 : 1000), 0, 1000);
    expect(h?.bars[0]).toBe('█');
    expect(h?.bars.slice(1, HISTOGRAM_BINS - 1).trim()).toBe('');
    expect(h?.bars[HISTOGRAM_BINS - 1]).not.toBe(' ');
  });

  it('uses logarithmic bins for positive columns spanning three decades or more', () => {
    // Log-uniform from 1 to 1e6: level in log bins.
    const h = histogram((q) => 10 ** (6 * q), 1, 1e6);
    expect(h?.log).toBe(true);
    expect(new Set(h?.bars)).toEqual(new Set(['█']));
  });

  it('draws a constant column as one bar, and nothing when there is no value', () => {
    expect(histogram(() => 5, 5, 5)?.bars.trimEnd()).toBe('█');
    expect(histogram(() => NaN, Infinity, -Infinity)).toBeUndefined();
  });
});
