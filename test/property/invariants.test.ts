// Properties on random inputs: the NDJSON reader agrees with JSON.parse;
// through the CLI, merging fits of random splits equals one fit,
// `fit` then `batch --params` equals `batch`, and `batch --inverse` undoes
// `batch --params`.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NdjsonRecords, parseLine, readNdjson } from '../../src/io/ndjson.js';
import { runFinorm } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();

describe('the NDJSON reader against JSON.parse', () => {
  const value = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string(), fc.constant(null), fc.boolean(), fc.integer());

  it('parses random objects like JSON.parse', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ minLength: 1, maxLength: 6 }), value, { maxKeys: 5 }), (object) => {
        expect(parseLine(JSON.stringify(object))).toEqual({ object: JSON.parse(JSON.stringify(object)) });
      }),
      { seed: 10, numRuns: 1000 },
    );
  });

  it('reads random lines, in pieces cut at random line ends, like JSON.parse line by line', () => {
    const keys = ['date', 'x', 'y'];
    fc.assert(
      fc.property(
        fc.array(fc.record({ date: fc.string(), x: value, y: value }, { requiredKeys: ['date'] }), { minLength: 1, maxLength: 10 }),
        fc.array(fc.constantFrom('\n', '\r\n', '\n\n', '\n \t\n'), { minLength: 10, maxLength: 10 }),
        fc.array(fc.nat(10), { maxLength: 4 }),
        (objects, endings, cuts) => {
          const text = JSON.stringify({ date: '', x: 0, y: 0 }) + '\n' + objects.map((o, i) => JSON.stringify(o) + endings[i]).join('');
          const bytes = new TextEncoder().encode(text);
          const lineEnds = [...bytes.keys()].filter((i) => bytes[i] === 10).map((i) => i + 1);
          const bounds = [...new Set(cuts.map((c) => lineEnds[c % lineEnds.length]))].sort((a, b) => a - b);
          const got: unknown[] = [];
          const records = new NdjsonRecords(keys);
          let start = 0;
          let line = 1;
          for (const end of [...bounds, bytes.length]) {
            if (end <= start) continue;
            readNdjson(bytes, start, end, line, records);
            for (let r = 0; r < records.count; r++) {
              expect(records.errors.get(r)).toBeUndefined();
              got.push(records.cells.slice(r * 3, r * 3 + 3));
            }
            line += bytes.subarray(start, end).filter((b) => b === 10).length;
            start = end;
          }
          const want = text
            .split(/\r?\n/)
            .filter((l) => l.trim() !== '')
            .map((l) => JSON.parse(l) as Record<string, unknown>)
            .map((o) => keys.map((k) => o[k]));
          expect(got).toEqual(want);
        },
      ),
      { seed: 11, numRuns: 300 },
    );
  });
});

/** A random numeric table: rows × 3 columns, magnitudes from 1e-4 to 1e12, some missing. */
const numericTable = fc.array(
  fc.tuple(
    fc.option(fc.double({ min: 1e-4, max: 1e12, noNaN: true }), { freq: 8 }),
    fc.double({ min: -1e3, max: 1e3, noNaN: true }),
    fc.integer({ min: -1e6, max: 1e6 }),
  ),
  { minLength: 4, maxLength: 40 },
);
const csvOf = (rows: [number | null, number, number][]) =>
  'a,b,c\n' + rows.map((r) => r.map((x) => (x === null ? '' : String(x))).join(',')).join('\n') + '\n';

describe('CLI properties', () => {
  it('merging the fits of a random split equals the fit of the whole', async () => {
    await fc.assert(
      fc.asyncProperty(numericTable, fc.nat(), async (rows, cut) => {
        if (rows.every((r) => r[0] === null)) return;
        const at = 1 + (cut % (rows.length - 1));
        const part1 = tmp.file(`p1-${cut}.csv`, csvOf(rows.slice(0, at)));
        const part2 = tmp.file(`p2-${cut}.csv`, csvOf(rows.slice(at)));
        const whole = tmp.file(`w-${cut}.csv`, csvOf(rows));
        const fit = async (path: string) => (await runFinorm(['fit', '-c', 'a,b,c', path])).stdout;
        const [f1, f2, fw] = await Promise.all([fit(part1), fit(part2), fit(whole)]);
        if (f1 === '' || f2 === '') return; // a part with an all-missing column cannot be fitted alone
        const merged = await runFinorm(['merge', tmp.file(`f1-${cut}.json`, f1), tmp.file(`f2-${cut}.json`, f2)]);
        expect(merged.code).toBe(0);
        type Fit = { columns: { count: number; mean: number; variance: number; min: number; max: number }[] };
        const got = JSON.parse(merged.stdout) as Fit;
        const want = JSON.parse(fw) as Fit;
        want.columns.forEach((c, j) => {
          const g = got.columns[j];
          expect(g.count).toBe(c.count);
          expect([g.min, g.max]).toEqual([c.min, c.max]);
          expect(Math.abs(g.mean - c.mean)).toBeLessThanOrEqual(1e-13 * Math.max(Math.abs(c.mean), Math.sqrt(c.variance)));
          expect(Math.abs(g.variance - c.variance)).toBeLessThanOrEqual(1e-12 * c.variance + 1e-300);
        });
      }),
      { seed: 5, numRuns: 12 },
    );
  }, 60_000);

  it('fit then batch --params gives what batch gives', async () => {
    await fc.assert(
      fc.asyncProperty(numericTable, fc.integer({ min: 0, max: 1 }), async (rows, ddof) => {
        if (rows.every((r) => r[0] === null)) return;
        const input = tmp.file(`t-${rows.length}-${ddof}.csv`, csvOf(rows));
        const params = `${tmp.dir}/fit-${rows.length}-${ddof}.json`;
        expect((await runFinorm(['fit', '--ddof', String(ddof), '-o', params, input])).code).toBe(0);
        const [applied, direct] = await Promise.all([
          runFinorm(['batch', '--params', params, input]),
          runFinorm(['batch', '--ddof', String(ddof), input]),
        ]);
        expect(applied.code).toBe(0);
        expect(applied.stdout).toBe(direct.stdout);
      }),
      { seed: 6, numRuns: 10 },
    );
  }, 60_000);

  it('batch --inverse --params undoes batch --params, within 4 ulp of the scale, per group too', async () => {
    await fc.assert(
      fc.asyncProperty(
        numericTable,
        fc.boolean(),
        fc.array(fc.tuple(fc.double({ min: 0.5, max: 3, noNaN: true }), fc.double({ min: -2, max: 2, noNaN: true })), { minLength: 3, maxLength: 3 }),
        async (rows, grouped, affine) => {
          if (rows.every((r) => r[0] === null)) return;
          const labels = rows.map((_, i) => (i % 3 === 0 ? 'X' : 'Y'));
          if (grouped && !['X', 'Y'].every((g) => rows.some((r, i) => labels[i] === g && r[0] !== null))) return;
          const text = 'g,a,b,c\n' + rows.map((r, i) => [labels[i], ...r.map((x) => (x === null ? '' : String(x)))].join(',')).join('\n') + '\n';
          const name = `inv-${rows.length}-${grouped}-${affine[0][0]}`;
          const input = tmp.file(`${name}.csv`, text);
          const fitted = await runFinorm(['fit', '-c', 'a,b,c', ...(grouped ? ['-g', 'g'] : []), input]);
          expect(fitted.code).toBe(0);
          // γ and β of the user's choosing, as a trained BatchNorm layer has.
          type Statistics = { mean: number; variance: number };
          const document = JSON.parse(fitted.stdout) as {
            epsilon: number;
            columns: (Statistics & { gamma: number; beta: number })[];
            groups?: { key: string[]; columns: Statistics[] }[];
          };
          document.columns.forEach((c, j) => ([c.gamma, c.beta] = affine[j]));
          const params = tmp.file(`${name}.json`, JSON.stringify(document));
          const forward = await runFinorm(['batch', '--params', params, input]);
          expect(forward.code).toBe(0);
          const back = await runFinorm(['batch', '--inverse', '--params', params, tmp.file(`${name}.z.csv`, forward.stdout)]);
          expect(back.code).toBe(0);
          const forwardRows = forward.stdout.trimEnd().split('\n').slice(1).map((line) => line.split(','));
          const got = back.stdout.trimEnd().split('\n').slice(1).map((line) => line.split(','));
          expect(got.length).toBe(rows.length);
          rows.forEach((row, i) => {
            expect(got[i][0]).toBe(labels[i]);
            row.forEach((x, j) => {
              const cell = got[i][j + 1];
              if (x === null) return expect(cell).toBe('');
              // What the two transforms round: x, the mean, and y and β carried back by √(var + ε)/γ
              // (ε can dwarf a tiny variance, and then y holds x − mean only to the last bit of β).
              const { gamma, beta } = document.columns[j];
              const own = grouped ? document.groups?.find((g) => g.key[0] === labels[i])?.columns[j] : undefined;
              const { mean, variance } = own ?? document.columns[j];
              const y = Number(forwardRows[i][j + 1]);
              const scale = Math.max(Math.abs(x), Math.abs(mean), (Math.sqrt(variance + document.epsilon) * (Math.abs(y) + Math.abs(beta))) / gamma);
              expect(Math.abs(Number(cell) - x)).toBeLessThanOrEqual(4 * Number.EPSILON * scale);
            });
          });
        },
      ),
      { seed: 7, numRuns: 12 },
    );
  }, 60_000);
});
