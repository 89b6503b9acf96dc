// --group-by for batch, fit and merge; --clip and --winsorize. Expected values
// are derived by hand (ε = 0 where noted, so that they are simple surds) or
// recomputed here from the definition with plain two-pass arithmetic.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runFinorm } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();

/** CSV without quotes → rows of cells (header first). */
const table = (text: string): string[][] => text.trim().split('\n').map((line) => line.split(','));

function expectColumn(csv: string, column: string, expected: (number | null)[], tolerance = 1e-12): void {
  const [header, ...rows] = table(csv);
  const j = header.indexOf(column);
  expect(j, `column ${column}`).toBeGreaterThanOrEqual(0);
  expect(rows.length).toBe(expected.length);
  rows.forEach((row, i) => {
    const want = expected[i];
    if (want === null) return expect(row[j], `row ${i + 1}`).toBe('');
    expect(Math.abs(Number(row[j]) - want), `row ${i + 1}: ${row[j]} vs ${want}`).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(want)));
  });
}

// Interleaved tickers; AAA: 1, 3 → mean 2, var 1. BBB: 10, 10, 40 → mean 20,
// var ((−10)² + (−10)² + 20²)/3 = 200. CCC: one row → β = 0.
const PRICES = [
  'date,ticker,px,flat',
  '2024-01-02,AAA,1,7',
  '2024-01-02,BBB,10,7',
  '2024-01-03,AAA,3,7',
  '2024-01-03,BBB,10,7',
  '2024-01-03,CCC,99,7',
  '2024-01-04,BBB,40,7',
].join('\n') + '\n';
const S200 = Math.sqrt(200);
const PX_BY_TICKER = [-1, -10 / S200, 1, -10 / S200, 0, 20 / S200];

describe('batch --group-by', () => {
  it('normalizes each group with its own statistics (unsorted input, two passes)', async () => {
    const input = tmp.file('prices.csv', PRICES);
    const r = await runFinorm(['batch', '--group-by', 'ticker', '-e', '0', input]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expectColumn(r.stdout, 'px', PX_BY_TICKER);
    // A constant column within every group gives β = 0, never NaN.
    expectColumn(r.stdout, 'flat', [0, 0, 0, 0, 0, 0]);
    // The group column and the others pass through, in place.
    expect(table(r.stdout).map((row) => row.slice(0, 2).join(','))).toEqual(table(PRICES).map((row) => row.slice(0, 2).join(',')));
  });

  it('groups by date for cross-sectional normalization, and by several columns', async () => {
    const input = tmp.file('prices-date.csv', PRICES);
    const byDate = await runFinorm(['batch', '-g', 'date', '-e', '0', '-c', 'px', input]);
    // 01-02: 1, 10 → ∓1. 01-03: 3, 10, 99 → mean 112/3, var = Σd²/3.
    const day3 = [3, 10, 99];
    const mean3 = 112 / 3;
    const sd3 = Math.sqrt(day3.reduce((s, x) => s + (x - mean3) ** 2, 0) / 3);
    expectColumn(byDate.stdout, 'px', [-1, 1, (3 - mean3) / sd3, (10 - mean3) / sd3, (99 - mean3) / sd3, 0]);
    const both = await runFinorm(['batch', '-g', 'date,ticker', '-e', '0', '-c', 'px', input]);
    expectColumn(both.stdout, 'px', [0, 0, 0, 0, 0, 0]);
  });

  it('streams sorted input in one pass with --sorted, with the same result', async () => {
    const sorted = [PRICES.split('\n')[0], ...table(PRICES).slice(1).sort((a, b) => a[1].localeCompare(b[1])).map((r) => r.join(','))].join('\n') + '\n';
    const input = tmp.file('sorted.csv', sorted);
    const r = await runFinorm(['batch', '--group-by', 'ticker', '--sorted', '-e', '0', input]);
    expect(r.code).toBe(0);
    // Sorted: AAA 1, 3; BBB 10, 10, 40; CCC 99.
    expectColumn(r.stdout, 'px', [-1, 1, -10 / S200, -10 / S200, 20 / S200, 0]);
    const viaStdin = await runFinorm(['batch', '--group-by', 'ticker', '--sorted', '-e', '0'], { input: sorted });
    expect(viaStdin.stdout).toBe(r.stdout);
  });

  it('refuses --sorted when a group comes back, naming it and the line', async () => {
    const input = tmp.file('unsorted.csv', PRICES);
    const out = tmp.file('kept.csv', 'previous\n');
    const r = await runFinorm(['batch', '--group-by', 'ticker', '--sorted', '-o', out, input]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/unsorted\.csv:4: .*ticker "AAA".*not together/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(out, 'utf8')).toBe('previous\n');
  });

  it('reads NDJSON and keeps the group-by column out of the features even when it is numeric', async () => {
    const ndjson = [
      { year: 2020, x: 1 },
      { year: 2021, x: 5 },
      { year: 2020, x: 3 },
      { year: 2021, x: 5 },
    ]
      .map((o) => JSON.stringify(o))
      .join('\n');
    const r = await runFinorm(['batch', '--group-by', 'year', '-e', '0'], { input: ndjson + '\n' });
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((line) => JSON.parse(line) as { year: number; x: number });
    expect(rows.map((o) => o.year)).toEqual([2020, 2021, 2020, 2021]);
    expect(rows.map((o) => o.x)).toEqual([-1, 0, 1, 0]);
  });

  it('reports the number of groups and the smallest one', async () => {
    const input = tmp.file('facts.csv', PRICES);
    const stats = `${tmp.dir}/facts.json`;
    const r = await runFinorm(['batch', '--group-by', 'ticker', '--stats', stats, '-q', input]);
    expect(r.code).toBe(0);
    const summary = JSON.parse(readFileSync(stats, 'utf8')) as { groups: { count: number; smallest: { name: string; rows: number } } };
    expect(summary.groups.count).toBe(3);
    expect(summary.groups.smallest).toEqual({ name: 'ticker "CCC"', rows: 1 });
  });

  it('says in how many groups ε is large next to the variance, in every grouped mode', async () => {
    // Group A: returns of about 1% a day (variance 1e-4 or more: ε = 1e-5 is 10% of it and more);
    // group B: prices (variance in the hundreds: ε is nothing to it).
    const lines = ['date,ticker,x'];
    for (let d = 1; d <= 9; d++) lines.push(`2024-01-0${d},A,${(d % 3) / 100}`, `2024-01-0${d},B,${100 + d * d}`);
    const input = tmp.file('eps-groups.csv', lines.join('\n') + '\n');
    const sorted = tmp.file('eps-groups-sorted.csv', [lines[0], ...lines.slice(1).filter((l) => l.includes(',A,')), ...lines.slice(1).filter((l) => l.includes(',B,'))].join('\n') + '\n');
    const fitted = tmp.file('eps-groups.json', (await runFinorm(['fit', '-g', 'ticker', input])).stdout);
    const runs: [string, string[]][] = [
      ['two passes', ['batch', '-g', 'ticker', input]],
      ['--sorted', ['batch', '-g', 'ticker', '--sorted', sorted]],
      ['--params', ['batch', '--params', fitted, input]],
    ];
    for (const [mode, args] of runs) {
      const stats = `${tmp.dir}/eps-${mode.replace(/\W/g, '')}.json`;
      const r = await runFinorm([...args, '--summary', '--stats', stats]);
      expect(r.code, mode).toBe(0);
      expect(r.stderr, mode).toMatch(/ε = 1e-5 is large next to the variance of "x" in 1 of 2 groups: their output std shrinks by 0\.5% or more \(output std [\d.]+\)/);
      const summary = JSON.parse(readFileSync(stats, 'utf8')) as { columns: { epsilonLarge?: { groups: number; of: number } }[] };
      expect(summary.columns[0].epsilonLarge, mode).toEqual({ groups: 1, of: 2 });
    }
    // Causal windows have no fixed group variance: the column's own stands for it.
    const causal = await runFinorm(['batch', '--expanding', '-c', 'x', '--summary', tmp.file('eps-causal.csv', 'date,x\n2024-01-01,0.01\n2024-01-02,0.02\n2024-01-03,0\n')]);
    expect(causal.stderr).toMatch(/ε = 1e-5 is large next to the variance of "x" \(6\.6667e-5\): its output std shrinks to about 0\.93/);
  });
});

describe('fit --group-by, batch --params, merge', () => {
  it('writes per-group statistics that batch --params applies in one pass', async () => {
    const input = tmp.file('fit.csv', PRICES);
    const params = `${tmp.dir}/by-ticker.json`;
    expect((await runFinorm(['fit', '--group-by', 'ticker', '-e', '0', '-o', params, input])).code).toBe(0);
    const file = JSON.parse(readFileSync(params, 'utf8')) as {
      groupBy: string[];
      groups: { key: string[]; columns: { name: string; count: number; mean: number; variance: number }[] }[];
    };
    expect(file.groupBy).toEqual(['ticker']);
    const bbb = file.groups.find((g) => g.key[0] === 'BBB');
    expect(bbb?.columns.find((c) => c.name === 'px')).toMatchObject({ count: 3, mean: 20, variance: 200 });
    const applied = await runFinorm(['batch', '--params', params, input]);
    expect(applied.code).toBe(0);
    expectColumn(applied.stdout, 'px', PX_BY_TICKER);
  });

  it('stops at a group the parameter file lacks, or uses the global statistics with --unseen global', async () => {
    const params = `${tmp.dir}/two-tickers.json`;
    const train = tmp.file('train.csv', 'ticker,px\nAAA,1\nAAA,3\nBBB,10\nBBB,30\n');
    await runFinorm(['fit', '-g', 'ticker', '-e', '0', '-o', params, train]);
    const fresh = tmp.file('fresh.csv', 'ticker,px\nAAA,2\nZZZ,11\n');
    const refused = await runFinorm(['batch', '--params', params, fresh]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/fresh\.csv:3: group ticker "ZZZ".*not in .*two-tickers\.json, which has 2 groups; .*--unseen global/);
    const one = `${tmp.dir}/one-ticker.json`;
    await runFinorm(['fit', '-g', 'ticker', '-o', one, tmp.file('one.csv', 'ticker,px\nAAA,1\nAAA,3\n')]);
    expect((await runFinorm(['batch', '--params', one, fresh])).stderr).toMatch(/one-ticker\.json, which has 1 group; use --unseen global/);
    const global = await runFinorm(['batch', '--params', params, '--unseen', 'global', fresh]);
    expect(global.code).toBe(0);
    // Global fit of 1, 3, 10, 30: mean 11, var (100 + 64 + 1 + 361)/4 = 131.5.
    expectColumn(global.stdout, 'px', [0, 0]);
    const fresh2 = tmp.file('fresh2.csv', 'ticker,px\nZZZ,22\n');
    const global2 = await runFinorm(['batch', '--params', params, '--unseen', 'global', fresh2]);
    expectColumn(global2.stdout, 'px', [11 / Math.sqrt(131.5)]);
  });

  it('merges per-group fits of shards into the fit of the whole', async () => {
    const rows = PRICES.trim().split('\n');
    const part1 = tmp.file('part1.csv', [rows[0], ...rows.slice(1, 4)].join('\n') + '\n');
    const part2 = tmp.file('part2.csv', [rows[0], ...rows.slice(4)].join('\n') + '\n');
    const whole = tmp.file('whole.csv', PRICES);
    const fit = async (file: string) => (await runFinorm(['fit', '-g', 'ticker', file])).stdout;
    const p1 = tmp.file('p1.json', await fit(part1));
    const p2 = tmp.file('p2.json', await fit(part2));
    const merged = await runFinorm(['merge', p1, p2]);
    expect(merged.code).toBe(0);
    type Groups = { groups: { key: string[]; columns: { name: string; count: number; mean: number; variance: number }[] }[] };
    const got = JSON.parse(merged.stdout) as Groups;
    const want = JSON.parse(await fit(whole)) as Groups;
    const byKey = (g: Groups) => Object.fromEntries(g.groups.map((x) => [x.key.join('|'), x.columns]));
    const a = byKey(got);
    const b = byKey(want);
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort());
    for (const key of Object.keys(b)) {
      b[key].forEach((column, j) => {
        expect(a[key][j].count).toBe(column.count);
        expect(a[key][j].mean).toBeCloseTo(column.mean, 12);
        expect(a[key][j].variance).toBeCloseTo(column.variance, 10);
      });
    }
  });

  it('writes a fit named .ndjson one group a line; batch --params and merge read either layout alike', async () => {
    const input = tmp.file('layouts.csv', PRICES);
    const json = `${tmp.dir}/layouts.json`;
    const ndjson = `${tmp.dir}/layouts.ndjson`;
    for (const out of [json, ndjson]) expect((await runFinorm(['fit', '-g', 'ticker', '-e', '0', '-o', out, input])).code).toBe(0);
    const lines = readFileSync(ndjson, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const whole = JSON.parse(readFileSync(json, 'utf8')) as { groups: unknown[] } & Record<string, unknown>;
    // The header line is the JSON object without its groups (version 2: the layout); then the groups, in order.
    const { groups, ...header } = whole;
    expect(lines[0]).toEqual({ ...header, version: 2 });
    expect(lines.slice(1)).toEqual(groups);
    const fromJson = await runFinorm(['batch', '--params', json, input]);
    const fromNdjson = await runFinorm(['batch', '--params', ndjson, input]);
    expect(fromNdjson).toEqual(fromJson);
    expectColumn(fromNdjson.stdout, 'px', PX_BY_TICKER);
    const piped = await runFinorm(['batch', '--params', '-', input], { input: readFileSync(ndjson) });
    expect(piped.stdout).toBe(fromJson.stdout);
    // merge: the two layouts of one fit are the same fit (refused as such), of two shards the same merge.
    const rows = PRICES.trim().split('\n');
    const part1 = tmp.file('layouts1.csv', [rows[0], ...rows.slice(1, 4)].join('\n') + '\n');
    const part2 = tmp.file('layouts2.csv', [rows[0], ...rows.slice(4)].join('\n') + '\n');
    await runFinorm(['fit', '-g', 'ticker', '-o', `${tmp.dir}/l1.json`, part1]);
    await runFinorm(['fit', '-g', 'ticker', '-o', `${tmp.dir}/l2.ndjson`, part2]);
    await runFinorm(['fit', '-g', 'ticker', '-o', `${tmp.dir}/l2.json`, part2]);
    const mixed = await runFinorm(['merge', `${tmp.dir}/l1.json`, `${tmp.dir}/l2.ndjson`]);
    const plain = await runFinorm(['merge', `${tmp.dir}/l1.json`, `${tmp.dir}/l2.json`]);
    expect(mixed.code, mixed.stderr).toBe(0);
    expect(mixed.stdout).toBe(plain.stdout);
    const same = await runFinorm(['merge', `${tmp.dir}/l2.json`, `${tmp.dir}/l2.ndjson`]);
    expect(same.code).toBe(1);
    expect(same.stderr).toMatch(/hold the same fit/);
  });

  it('refuses to merge a per-group fit with a global one', async () => {
    const input = tmp.file('mix.csv', PRICES);
    const grouped = tmp.file('g.json', (await runFinorm(['fit', '-g', 'ticker', input])).stdout);
    const plain = tmp.file('p.json', (await runFinorm(['fit', input])).stdout);
    const r = await runFinorm(['merge', grouped, plain]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/per group/);
  });
});

describe('--clip', () => {
  it('clamps z to [−k, k] before γ and β, and counts what it clamped', async () => {
    // Column 1..5 (ε = 0): mean 3, var 2 → z = (x − 3)/√2; |z| > 1 for 1 and 5.
    const input = tmp.file('clip.csv', 'x\n1\n2\n3\n4\n5\n');
    const stats = `${tmp.dir}/clip.json`;
    const r = await runFinorm(['batch', '--clip', '1', '-e', '0', '--stats', stats, input]);
    expect(r.code).toBe(0);
    expectColumn(r.stdout, 'x', [-1, -1 / Math.SQRT2, 0, 1 / Math.SQRT2, 1]);
    const summary = JSON.parse(readFileSync(stats, 'utf8')) as { columns: { name: string; clipped: number }[] };
    expect(summary.columns[0]).toMatchObject({ name: 'x', clipped: 2 });
  });

  it('clips layer normalization too', async () => {
    // Row 0, 0, 0, 10 (ε = 0): μ = 2.5, σ² = 18.75 → z(10) = 7.5/√18.75 = √3 ≈ 1.732 → 1.5.
    const r = await runFinorm(['layer', '--clip', '1.5', '-e', '0'], { input: 'a,b,c,d\n0,0,0,10\n' });
    expectColumn(r.stdout, 'd', [1.5]);
    expectColumn(r.stdout, 'a', [-2.5 / Math.sqrt(18.75)]);
  });
});

describe('--winsorize', () => {
  it('clamps raw values to the fitted quantiles, then normalizes with the clamped statistics', async () => {
    // 1..19 and an outlier of 1e6. With P = 0.1, the sketch's bounds are the
    // values at ranks ⌊0.1·19⌋ = 1 and ⌊0.9·19⌋ = 17 (2 and 18), within 0.1%.
    const values = [...Array.from({ length: 19 }, (_, i) => i + 1), 1e6];
    const input = tmp.file('wins.csv', 'x\n' + values.join('\n') + '\n');
    const params = `${tmp.dir}/wins.json`;
    const r = await runFinorm(['batch', '--winsorize', '0.1', '-e', '0', '--save-params', params, input]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const saved = JSON.parse(readFileSync(params, 'utf8')) as { winsorize: number; columns: { lower: number; upper: number; mean: number; variance: number }[] };
    const { lower, upper } = saved.columns[0];
    expect(saved.winsorize).toBe(0.1);
    expect(Math.abs(lower - 2) / 2).toBeLessThanOrEqual(1e-3);
    expect(Math.abs(upper - 18) / 18).toBeLessThanOrEqual(1e-3);
    // Reference from the saved bounds: clamp, two-pass mean and variance, z.
    const clamped = values.map((x) => Math.min(upper, Math.max(lower, x)));
    const mean = clamped.reduce((s, x) => s + x, 0) / clamped.length;
    const variance = clamped.reduce((s, x) => s + (x - mean) ** 2, 0) / clamped.length;
    expect(saved.columns[0].mean).toBeCloseTo(mean, 12);
    expect(saved.columns[0].variance).toBeCloseTo(variance, 10);
    expectColumn(r.stdout, 'x', clamped.map((x) => (x - mean) / Math.sqrt(variance)), 1e-10);
    // The saved file reproduces the transform in one pass.
    const again = await runFinorm(['batch', '--params', params, input]);
    expect(again.stdout).toBe(r.stdout);
  });

  it('refuses --winsorize with --group-by', async () => {
    const r = await runFinorm(['batch', '--winsorize', '0.05', '--group-by', 'ticker'], { input: PRICES });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--group-by and --winsorize|--winsorize and --group-by/);
  });
});

describe('groups without values in a column', () => {
  it('refuses a value of a column the group had none of when fitted, unless --unseen global', async () => {
    const train = tmp.file('sparse.csv', 'ticker,px,vol\nAAA,1,\nAAA,3,\nBBB,10,5\nBBB,30,7\n');
    const params = `${tmp.dir}/sparse.json`;
    expect((await runFinorm(['fit', '-g', 'ticker', '-e', '0', '-o', params, train])).code).toBe(0);
    // The training data itself: AAA's vol is missing, so nothing meets the gap.
    const same = await runFinorm(['batch', '--params', params, train]);
    expect(same.code).toBe(0);
    const fresh = tmp.file('sparse-new.csv', 'ticker,px,vol\nAAA,2,6\n');
    const refused = await runFinorm(['batch', '--params', params, fresh]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/sparse-new\.csv:2: column "vol": group ticker "AAA" had no values in this column/);
    // Global vol: 5, 7 → mean 6, var 1 → (6 − 6)/1 = 0; px with AAA's own fit: (2 − 2)/1 = 0.
    const global = await runFinorm(['batch', '--params', params, '--unseen', 'global', fresh]);
    expect(global.code).toBe(0);
    expectColumn(global.stdout, 'vol', [0]);
    const fresh2 = tmp.file('sparse-new2.csv', 'ticker,px,vol\nAAA,3,8\n');
    const global2 = await runFinorm(['batch', '--params', params, '--unseen', 'global', fresh2]);
    expectColumn(global2.stdout, 'vol', [2]);
    expectColumn(global2.stdout, 'px', [1]);
  });
});

describe('--group-by mistakes', () => {
  it('names --group-by when its column does not exist, and refuses a group column among --columns', async () => {
    const typo = await runFinorm(['batch', '-g', 'tickr'], { input: PRICES });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/^finorm: --group-by: no column named "tickr" \(did you mean "ticker"\?\)/);
    const clash = await runFinorm(['fit', '-g', 'ticker', '-c', 'ticker,px'], { input: PRICES });
    expect(clash.code).toBe(2);
    expect(clash.stderr).toMatch(/"ticker" is a --group-by column/);
  });
});
