// finorm batch, fit, stats and merge through the built binary.

import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, REPO, runFinorm } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();

/** Parses simple CSV output (no quoted fields) into rows of cells. */
const rowsOf = (text: string): string[][] => text.trim().split('\n').map((line) => line.split(','));

/**
 * Largest difference between two equally shaped CSV outputs' numeric cells, in
 * units of ε·max(1, |y|): normalized values live on a scale of 1, and near 0
 * their own last bit reflects the (inherent) rounding of the fitted mean.
 */
function maxUlps(a: string, b: string): number {
  const ra = rowsOf(a);
  const rb = rowsOf(b);
  expect(ra.length).toBe(rb.length);
  let worst = 0;
  ra.forEach((row, i) =>
    row.forEach((cell, j) => {
      const other = rb[i][j];
      if (!/^-?\d*\.?\d+(e[+-]?\d+)?$/i.test(cell)) return expect(other).toBe(cell);
      const x = Number(cell);
      const y = Number(other);
      if (x === y) return;
      const ulp = Number.EPSILON * Math.max(1, Math.abs(x));
      worst = Math.max(worst, Math.abs(x - y) / ulp);
    }),
  );
  return worst;
}

const SMALL = 'date,ticker,px,vol,flat\n2024-01-02,AAA,1,10,5\n2024-01-02,BBB,2,NA,5\n2024-01-02,CCC,3,30,5\n2024-01-02,DDD,6,,5\n';

describe('finorm batch', () => {
  it('z-scores each column over all rows, keeping missing values and text in place', async () => {
    const result = await runFinorm(['batch', '-e', '0'], { input: SMALL });
    expect(result.code).toBe(0);
    // px: mean 3, population variance (4+1+0+9)/4 = 3.5; vol: mean 20, variance 200/2 = 100; flat: constant.
    const rows = rowsOf(result.stdout);
    expect(rows[0]).toEqual(['date', 'ticker', 'px', 'vol', 'flat']);
    const px = rows.slice(1).map((r) => Number(r[2]));
    const expected = [-2, -1, 0, 3].map((d) => d / Math.sqrt(3.5));
    px.forEach((y, i) => expect(y).toBeCloseTo(expected[i], 15));
    expect(rows.slice(1).map((r) => r[3])).toEqual(['-1', '', '1', '']);
    expect(rows.slice(1).map((r) => r[4])).toEqual(['0', '0', '0', '0']);
    expect(rows.slice(1).map((r) => r.slice(0, 2).join(','))).toEqual(['2024-01-02,AAA', '2024-01-02,BBB', '2024-01-02,CCC', '2024-01-02,DDD']);
  });

  it('uses the sample variance with --ddof 1', async () => {
    const result = await runFinorm(['batch', '-e', '0', '--ddof', '1', '-c', 'px'], { input: SMALL });
    const px = rowsOf(result.stdout).slice(1).map((r) => Number(r[2]));
    // sample variance 14/3
    [-2, -1, 0, 3].forEach((d, i) => expect(px[i]).toBeCloseTo(d / Math.sqrt(14 / 3), 15));
  });

  it('gives the same output as fit followed by batch --params, and --save-params saves that fit', async () => {
    const data = tmp.file('fund.csv', readFileSync(new URL('../../fixtures/sp500-sample.csv', import.meta.url)));
    const saved = join(tmp.dir, 'saved.json');
    const twoPass = await runFinorm(['batch', '--save-params', saved, data]);
    const fit = await runFinorm(['fit', data]);
    const params = tmp.file('fit.json', fit.stdout);
    const onePass = await runFinorm(['batch', '--params', params, data]);
    expect([twoPass.code, fit.code, onePass.code]).toEqual([0, 0, 0]);
    expect(onePass.stdout).toBe(twoPass.stdout);
    expect(readFileSync(saved, 'utf8')).toBe(fit.stdout);
  });

  it('spools stdin for the second pass and removes the spool afterwards', async () => {
    const spoolDir = join(tmp.dir, 'spool');
    mkdirSync(spoolDir);
    const fromFile = await runFinorm(['batch', tmp.file('small.csv', SMALL)]);
    const fromStdin = await runFinorm(['batch'], { input: SMALL, env: { TMPDIR: spoolDir } });
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.stdout).toBe(fromFile.stdout);
    expect(readdirSync(spoolDir)).toEqual([]);
    const failing = await runFinorm(['batch', '-c', 'px,ticker'], { input: SMALL, env: { TMPDIR: spoolDir } });
    expect(failing.code).toBe(1);
    expect(readdirSync(spoolDir)).toEqual([]);
  });

  it('refuses a column with no present value, naming it', async () => {
    const result = await runFinorm(['batch', '-c', 'px,empty'], { input: 'px,empty\n1,\n2,NA\n' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/no values to fit in column "empty"/);
  });

  it('refuses conflicting options', async () => {
    const params = tmp.file('p.json', (await runFinorm(['fit'], { input: SMALL })).stdout);
    for (const args of [['--params', params, '--save-params', 'x.json'], ['--params', params, '--ddof', '1']]) {
      const result = await runFinorm(['batch', ...args], { input: SMALL });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/cannot be used together/);
    }
  });

  it('applies γ and β and the file\'s ε from --params', async () => {
    const params = {
      format: 'finorm-params',
      version: 1,
      epsilon: 0,
      columns: [{ name: 'px', gamma: 2, beta: 10, mean: 3, variance: 4 }],
    };
    const result = await runFinorm(['batch', '--params', tmp.file('gb.json', JSON.stringify(params))], { input: SMALL });
    expect(rowsOf(result.stdout).slice(1).map((r) => Number(r[2]))).toEqual([8, 9, 10, 13]);
    const missingStats = { ...params, columns: [{ name: 'px', gamma: 2 }] };
    const bad = await runFinorm(['batch', '--params', tmp.file('gb2.json', JSON.stringify(missingStats))], { input: SMALL });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/column "px" has no fitted "mean" and "variance"/);
  });

  it('writes a header-only file for a header-only input', async () => {
    const result = await runFinorm(['batch', '-c', 'a'], { input: 'a,b\n' });
    expect(result).toMatchObject({ code: 0, stdout: 'a,b\n' });
  });
});

describe('finorm fit', () => {
  it('writes a parameter file with count, mean, variance, m2, min and max', async () => {
    const result = await runFinorm(['fit', '--ddof', '1', '-e', '1e-6'], { input: SMALL });
    const params = JSON.parse(result.stdout);
    expect(params).toMatchObject({ format: 'finorm-params', version: 1, epsilon: 1e-6, ddof: 1 });
    expect(params.columns.map((c: { name: string }) => c.name)).toEqual(['px', 'vol', 'flat']);
    expect(params.columns[0]).toEqual({ name: 'px', gamma: 1, beta: 0, count: 4, mean: 3, meanLo: 0, variance: 14 / 3, m2: 14, min: 1, max: 6 });
    expect(params.columns[1]).toMatchObject({ count: 2, mean: 20, variance: 200, m2: 200 });
    expect(params.columns[2]).toMatchObject({ count: 4, mean: 5, variance: 0, m2: 0 });
  });
});

describe('finorm stats', () => {
  it('reports count, missing, mean, std, min, quantiles and max as JSON', async () => {
    const result = await runFinorm(['stats', '--json', '--quantiles', '0,0.5,1'], { input: SMALL });
    const stats = JSON.parse(result.stdout);
    expect(stats).toMatchObject({ rows: 4, rowsSkipped: 0, ddof: 0, quantileRelativeAccuracy: 0.001 });
    expect(stats.columns[0]).toMatchObject({ name: 'px', count: 4, missing: 0, mean: 3, std: Math.sqrt(3.5), min: 1, max: 6 });
    expect(stats.columns[0].quantiles['0']).toBe(1);
    expect(stats.columns[0].quantiles['1']).toBe(6);
    expect(Math.abs(stats.columns[0].quantiles['0.5'] - 2)).toBeLessThanOrEqual(0.002); // rank ⌊0.5·3⌋ = 1 → 2
    expect(stats.columns[1]).toMatchObject({ count: 2, missing: 2, mean: 20, std: 10 });
  });

  it('writes CSV and a table', async () => {
    const csv = await runFinorm(['stats', '--csv', '--quantiles', '0.5', '-c', 'px'], { input: SMALL });
    const [header, row] = csv.stdout.trim().split('\n');
    expect(header).toBe('column,count,missing,mean,std,min,p50,max');
    expect(row.split(',').slice(0, 6)).toEqual(['px', '4', '0', '3', String(Math.sqrt(3.5)), '1']);
    const table = await runFinorm(['stats'], { input: SMALL });
    expect(table.stdout).toMatch(/^column\s+count\s+missing\s+mean\s+std\s+min\s+p1\s+p25\s+p50\s+p75\s+p99\s+max$/m);
    expect(table.stdout).toMatch(/^vol\s+2\s+2\s+20\s+10\s+10\s/m);
    expect((await runFinorm(['stats', '--json', '--csv'], { input: SMALL })).code).toBe(2);
  });
});

describe('finorm merge', () => {
  it('refuses files that disagree on columns, ε or ddof', async () => {
    const a = tmp.file('m-a.json', (await runFinorm(['fit'], { input: SMALL })).stdout);
    const b = tmp.file('m-b.json', (await runFinorm(['fit', '-c', 'px'], { input: SMALL })).stdout);
    const c = tmp.file('m-c.json', (await runFinorm(['fit', '-e', '0.1'], { input: SMALL })).stdout);
    const d = tmp.file('m-d.json', (await runFinorm(['fit', '--ddof', '1'], { input: SMALL })).stdout);
    expect((await runFinorm(['merge', a, b])).stderr).toMatch(/cannot merge .*m-b\.json with .*m-a\.json: the columns differ \(only .*m-a\.json has "vol", "flat"\)/);
    expect((await runFinorm(['merge', a, c])).stderr).toMatch(/ε differs \(0\.00001 and 0\.1\)|ε differs \(1e-5 and 0\.1\)/);
    expect((await runFinorm(['merge', a, d])).stderr).toMatch(/ddof differs \(0 and 1\)/);
    const layerOnly = tmp.file('m-e.json', readFileSync(new URL('../../fixtures/params/layer-affine.json', import.meta.url)));
    const e = tmp.file('m-f.json', (await runFinorm(['fit', '-c', 'Price', '-f', 'csv'], { input: 'Price\n1\n2\n' })).stdout);
    expect((await runFinorm(['merge', layerOnly, e])).code).toBe(1);
    expect((await runFinorm(['merge'])).code).toBe(2);
  });

  it('fits shards in parallel processes, merges, applies: equal to one batch over everything', async () => {
    // A deterministic table with columns where a naive variance would fail.
    const lines = ['date,ticker,price,cap,ret'];
    let seed = 12345;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let i = 0; i < 4000; i++) {
      lines.push(`2024-01-${String((i % 28) + 1).padStart(2, '0')},T${i % 50},${(1e9 + random() * 1e-3).toFixed(7)},${1e15 + Math.floor(random() * 8)},${(random() - 0.5) / 10}`);
    }
    const shards = [0, 1, 2, 3].map((k) => tmp.file(`shard${k}.csv`, [lines[0], ...lines.slice(1 + k * 1000, 1 + (k + 1) * 1000)].join('\n') + '\n'));
    const whole = tmp.file('whole.csv', lines.join('\n') + '\n');

    // The recipe from the README: fit each shard in its own process, at the same time.
    await Promise.all(
      shards.map(
        (shard) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, [BIN, 'fit', '-o', `${shard}.fit.json`, shard], { stdio: 'ignore' });
            child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`fit exited ${code}`))));
          }),
      ),
    );
    const merged = await runFinorm(['merge', '-o', join(tmp.dir, 'merged.json'), ...shards.map((s) => `${s}.fit.json`)]);
    expect(merged.code).toBe(0);
    const applied = await Promise.all(shards.map((s) => runFinorm(['batch', '--params', join(tmp.dir, 'merged.json'), s])));
    const combined = applied.map((r, k) => (k === 0 ? r.stdout : r.stdout.split('\n').slice(1).join('\n'))).join('');
    const single = await runFinorm(['batch', whole]);
    expect(maxUlps(combined, single.stdout)).toBeLessThanOrEqual(4);

    const mergedParams = JSON.parse(readFileSync(join(tmp.dir, 'merged.json'), 'utf8'));
    const singleParams = JSON.parse((await runFinorm(['fit', whole])).stdout);
    mergedParams.columns.forEach((c: Record<string, number>, j: number) => {
      const s = singleParams.columns[j];
      expect([c.count, c.min, c.max]).toEqual([s.count, s.min, s.max]);
      for (const key of ['mean', 'variance', 'm2']) {
        expect(Math.abs(c[key] - s[key])).toBeLessThanOrEqual(4 * Number.EPSILON * Math.abs(s[key]));
      }
    });
  });

  it('merge refuses a file named twice and two files with the same fit, naming them', async () => {
    const part = join(REPO, 'fixtures/params/sp500-part1.json');
    const twice = await runFinorm(['merge', part, join(REPO, 'fixtures/params/../params/sp500-part1.json')]);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/^finorm: .*sp500-part1\.json and .*sp500-part1\.json are the same file/);
    const copy = tmp.file('copy-of-part1.json', readFileSync(part, 'utf8').replace(/"generator": "[^"]*"/, '"generator": "another"'));
    const same = await runFinorm(['merge', part, join(REPO, 'fixtures/params/sp500-part2.json'), copy]);
    expect(same.code).toBe(1);
    expect(same.stderr).toBe(`finorm: ${part} and ${copy} hold the same fit (the same counts, means and variances): merging both would count the same rows twice\n`);
  });
});
