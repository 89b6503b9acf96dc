// Through the built binary: fitted statistics and normalized values of columns
// where the naive formula fails, against exact rational arithmetic.

import { describe, expect, it } from 'vitest';
import { runFinorm } from '../support/cli.js';
import { exactMean, exactNormalized, exactVariance, toDouble, ulpDistance } from '../support/exact.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();

// 1e9 + noise of 1e-3 steps, and 1e15 with a spread of about 1 (doubles there are multiples of 1/8).
const ROWS = 2000;
const noisy = Array.from({ length: ROWS }, (_, i) => 1e9 + ((i * 7919) % 997) * 1e-3);
const offset = Array.from({ length: ROWS }, (_, i) => 1e15 + (((i * 104729) % 29) - 14) / 8);
const csv = 'id,noisy,offset\n' + noisy.map((x, i) => `r${i},${x},${offset[i]}`).join('\n') + '\n';

describe('accuracy through the CLI', () => {
  it('fit: mean and variance within a few ulps of exact', async () => {
    const input = tmp.file('hard.csv', csv);
    const r = await runFinorm(['fit', input]);
    expect(r.code).toBe(0);
    const params = JSON.parse(r.stdout) as { columns: { name: string; mean: number; meanLo: number; variance: number }[] };
    for (const [name, values] of [['noisy', noisy], ['offset', offset]] as const) {
      const column = params.columns.find((c) => c.name === name);
      expect(column).toBeDefined();
      expect(ulpDistance(column!.mean + column!.meanLo, toDouble(exactMean(values))), `${name} mean`).toBeLessThanOrEqual(2);
      expect(ulpDistance(column!.variance, toDouble(exactVariance(values, 0))), `${name} variance`).toBeLessThanOrEqual(4);
    }
  });

  it('batch: every output value exact to the last bits (2 ulps, on the scale of 1/64 near 0)', async () => {
    const input = tmp.file('hard2.csv', csv);
    const r = await runFinorm(['batch', input]);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').slice(1).map((line) => line.split(','));
    for (const [j, values] of [[1, noisy], [2, offset]] as const) {
      const mean = exactMean(values);
      const variance = exactVariance(values, 0);
      let worst = 0;
      values.forEach((x, i) => {
        const want = exactNormalized(x, mean, variance, 1e-5);
        worst = Math.max(worst, Math.abs(Number(rows[i][j]) - want) / (Number.EPSILON * Math.max(Math.abs(want), 1 / 64)));
      });
      expect(worst, `column ${j}`).toBeLessThanOrEqual(2);
    }
  });
});
