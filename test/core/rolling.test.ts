// WindowStatistics and ExpandingStatistics against statistics recomputed from
// scratch (plain two-pass over the exact values in the window).

import { describe, expect, it } from 'vitest';
import { ExpandingStatistics, WindowStatistics } from '../../src/core/rolling.js';
import { seededRandom } from '../support/random.js';

const random = seededRandom;

function twoPass(values: number[], ddof: number): { mean: number; variance: number } {
  const present = values.filter((x) => !Number.isNaN(x));
  const mean = present.reduce((s, x) => s + x, 0) / present.length;
  const m2 = present.reduce((s, x) => s + (x - mean) ** 2, 0);
  return { mean, variance: present.length > ddof ? m2 / (present.length - ddof) : 0 };
}

const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), Number.MIN_VALUE);

describe('WindowStatistics', () => {
  it('does not drift over a million rows: the last window agrees with a fresh two-pass to 1e-9', () => {
    // Prices near 1e9 moving by a few units, and a column near 1e-4: the
    // add/remove updates would accumulate rounding without the recomputation.
    const rows = 1_000_000;
    const size = 1000;
    const next = random(7);
    const stats = new WindowStatistics(2, size);
    const row = new Float64Array(2);
    const tail: [number[], number[]] = [[], []];
    let level = 1e9;
    for (let i = 0; i < rows; i++) {
      level += (next() - 0.5) * 4;
      row[0] = level;
      row[1] = 1e-4 * (1 + next());
      stats.push(row, 0);
      if (i >= rows - size) {
        tail[0].push(row[0]);
        tail[1].push(row[1]);
      }
    }
    for (const j of [0, 1]) {
      const want = twoPass(tail[j], 0);
      expect(stats.count(j)).toBe(size);
      expect(relative(stats.mean(j) + stats.meanLo(j), want.mean)).toBeLessThan(1e-12);
      expect(relative(stats.variance(j, 0), want.variance)).toBeLessThan(1e-9);
      expect(relative(stats.variance(j, 1), twoPass(tail[j], 1).variance)).toBeLessThan(1e-9);
    }
  });

  it('matches a from-scratch window at every row, with missing values', () => {
    const next = random(11);
    const size = 5;
    const stats = new WindowStatistics(1, size);
    const seen: number[] = [];
    for (let i = 0; i < 200; i++) {
      const x = next() < 0.2 ? NaN : 100 + next() * 10;
      seen.push(x);
      stats.push(Float64Array.of(x), 0);
      const window = seen.slice(-size);
      const present = window.filter((v) => !Number.isNaN(v)).length;
      expect(stats.count(0)).toBe(present);
      if (present === 0) continue;
      const want = twoPass(window, 0);
      expect(Math.abs(stats.mean(0) + stats.meanLo(0) - want.mean)).toBeLessThan(1e-12 * want.mean);
      expect(Math.abs(stats.variance(0, 0) - want.variance)).toBeLessThan(1e-9 * Math.max(1, want.variance));
    }
  });
});

describe('ExpandingStatistics', () => {
  it('keeps the digits of a 1e15 offset with unit variance', () => {
    const next = random(3);
    const stats = new ExpandingStatistics(1);
    const all: number[] = [];
    for (let i = 0; i < 10_000; i++) {
      const x = 1e15 + Math.round((next() - 0.5) * 8);
      all.push(x);
      stats.push(Float64Array.of(x), 0);
    }
    // Exact reference with BigInt: the values are integers.
    const n = BigInt(all.length);
    const sum = all.reduce((s, x) => s + BigInt(x), 0n);
    const nm2 = all.reduce((s, x) => s + (BigInt(x) * n - sum) ** 2n, 0n); // n²·M2
    const variance = Number(nm2) / Number(n * n) / all.length;
    expect(relative(stats.variance(0, 0), variance)).toBeLessThan(1e-12);
  });
});
