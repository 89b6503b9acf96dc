// The StandardScaler import's claim of exactness rests on one property of
// binary floating point: √(s²) rounds back to s. Checked here on random
// doubles of every magnitude whose square neither overflows nor underflows,
// and the import's refusal where it would not hold.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { paramsFromScaler } from '../../src/params/sklearn.js';

describe('scale_ as a variance', () => {
  it('√(s·s) is s again for doubles from 1e-150 to 1e150', () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-150, max: 1e150, noNaN: true }), (s) => Math.sqrt(s * s) === s),
      { numRuns: 200_000 },
    );
  });

  it('writes scale_² as the variance and ε = 0, and refuses a scale whose square leaves float64', () => {
    const params = paramsFromScaler({ mean_: [1, 2], var_: [2, 0], scale_: [Math.sqrt(2), 1], n_samples_seen_: 3 }, 's.json', ['a', 'b'], 'test');
    expect(params.epsilon).toBe(0);
    expect(params.columns.map((c) => [c.mean, c.variance, c.count])).toEqual([[1, Math.sqrt(2) ** 2, 3], [2, 1, 3]]);
    expect(Math.sqrt(params.columns[0].variance as number)).toBe(Math.sqrt(2));
    expect(() => paramsFromScaler({ mean_: [0], scale_: [1e-200] }, 's.json', ['a'], 'test')).toThrow(/scale_\[0\] \("a"\) is 1e-200: its square is out of float64's range/);
  });
});
