// finorm import, checked against scikit-learn and PyTorch: the files in
// fixtures/interop/ were written, and their expected outputs computed, by
// scikit-learn 1.2.1 and PyTorch 1.13.1 (fixtures/interop/make_fixtures.py,
// run once); finorm imports each file and normalizes the same rows.

import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runFinorm } from '../support/cli.js';
import { readSafetensorsForTest, writeSafetensorsForTest } from '../support/safetensors.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();
const DIR = `${FIXTURES}interop/`;
const ROWS = `${DIR}rows.csv`;

const table = (csv: string): Record<string, string>[] => parse(csv, { columns: true }) as Record<string, string>[];
const valueOf = (cell: string): number => (cell === '' ? NaN : Number(cell));

/** Imports a file (with extra arguments) into a parameter file in the temporary directory. */
async function importParams(file: string, args: string[] = []): Promise<{ path: string; stderr: string; params: { epsilon: number; columns: Record<string, number | string>[] } }> {
  const path = `${tmp.dir}/p${Math.random().toString(36).slice(2)}.json`;
  const r = await runFinorm(['import', file, ...args, '-o', path]);
  expect(r.code, r.stderr).toBe(0);
  return { path, stderr: r.stderr, params: JSON.parse(readFileSync(path, 'utf8')) as { epsilon: number; columns: Record<string, number | string>[] } };
}

/**
 * finorm's output for rows.csv against the expected file, column by column
 * (the expected file's columns), row by row: the largest difference relative
 * to max(|expected|, 1), and how many values were compared. Rows where the
 * expected value is missing must be missing in finorm's output too, unless
 * `skipMissing` (the layer: PyTorch cannot leave a missing value out of a row).
 */
function compare(output: string, expectedFile: string, skipMissing = false): { worst: number; compared: number } {
  const actual = table(output);
  const expected = table(readFileSync(expectedFile, 'utf8'));
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let compared = 0;
  expected.forEach((row, r) => {
    expect(actual[r].Symbol).toBe(row.Symbol);
    for (const [name, cell] of Object.entries(row)) {
      if (name === 'Symbol') continue;
      const e = valueOf(cell);
      const a = valueOf(actual[r][name]);
      if (Number.isNaN(e)) {
        if (!skipMissing) expect(a, `${row.Symbol} ${name}`).toBeNaN();
        continue;
      }
      worst = Math.max(worst, Math.abs(a - e) / Math.max(Math.abs(e), 1));
      compared++;
    }
  });
  return { worst, compared };
}

async function finorm(args: string[]): Promise<string> {
  const r = await runFinorm(args);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout;
}

describe('import a scikit-learn StandardScaler', () => {
  it('reproduces scaler.transform exactly, constant and near-constant features included', async () => {
    const { path, params } = await importParams(`${DIR}scaler-frame.json`);
    expect(params.epsilon).toBe(0);
    const { worst, compared } = compare(await finorm(['batch', '--params', path, ROWS]), `${DIR}expected-scaler.csv`);
    expect(worst).toBe(0);
    expect(compared).toBeGreaterThan(2000);
    // Tick's var_ is 3.6e-15 and its scale_ 1 (scikit-learn's rule for a
    // constant): dividing by √var_ instead would give values near ±1, not 1.19e-7.
    const tick = table(readFileSync(`${DIR}expected-scaler.csv`, 'utf8')).map((row) => Number(row.Tick));
    expect(new Set(tick)).toEqual(new Set([0, 2 ** -23]));
    expect(params.columns.find((c) => c.name === 'Tick')).toMatchObject({ mean: 1e9, variance: 1, count: 400 });
  });

  it('reproduces with_mean=False and with_std=False exactly', async () => {
    for (const variant of ['no-mean', 'no-std']) {
      const { path } = await importParams(`${DIR}scaler-${variant}.json`);
      const { worst, compared } = compare(await finorm(['batch', '--params', path, ROWS]), `${DIR}expected-scaler-${variant}.csv`);
      expect(worst, variant).toBe(0);
      expect(compared).toBeGreaterThan(2000);
    }
  });

  it('takes the names of a scaler fitted on an array from --columns, and checks them against feature_names_in_', async () => {
    const names = (JSON.parse(readFileSync(`${DIR}scaler-frame.json`, 'utf8')) as { feature_names_in_: string[] }).feature_names_in_;
    const list = names.map((n) => (n.includes(',') ? `"${n}"` : n)).join(',');
    const { path } = await importParams(`${DIR}scaler-array.json`, ['--columns', list]);
    expect(compare(await finorm(['batch', '--params', path, ROWS]), `${DIR}expected-scaler.csv`).worst).toBe(0);
    // The same names given for the frame's scaler are accepted; a swap is not.
    await importParams(`${DIR}scaler-frame.json`, ['-c', list]);
    const swapped = [names[1], names[0], ...names.slice(2)].join(',');
    const r = await runFinorm(['import', `${DIR}scaler-frame.json`, '-c', swapped]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--columns names "Price\/Earnings" where feature_names_in_ has "Price" \(column 1 of "Price", "Price\/Earnings", /);
  });
});

describe('import a PyTorch state dict (safetensors)', () => {
  it('BatchNorm1d in float32 with ε = 1e-3: batch --params equals the layer in eval mode to 1e-12', async () => {
    const { path, stderr, params } = await importParams(`${DIR}batchnorm-f32.safetensors`, ['-c', 'Price,Price/Earnings,Dividend Yield,Market Cap', '-e', '0.001']);
    expect(stderr).toBe('');
    expect(params.epsilon).toBe(0.001);
    const { worst, compared } = compare(await finorm(['batch', '--params', path, ROWS]), `${DIR}expected-batchnorm-f32.csv`);
    expect(worst).toBeLessThan(1e-12);
    expect(compared).toBeGreaterThan(700);
  });

  it('BatchNorm1d without weight and bias (affine=False), float64, ε defaulting to PyTorch\'s with a warning', async () => {
    const { path, stderr, params } = await importParams(`${DIR}batchnorm-f64.safetensors`, ['-c', 'Earnings/Share,52 Week Low,EBITDA']);
    expect(stderr).toMatch(/^finorm: warning: .*batchnorm-f64\.safetensors does not hold ε: 0\.00001, PyTorch's default, is written; give the layer's own with -e/);
    expect(params.epsilon).toBe(1e-5);
    expect(params.columns.every((c) => c.gamma === 1 && c.beta === 0)).toBe(true);
    expect(compare(await finorm(['batch', '--params', path, ROWS]), `${DIR}expected-batchnorm-f64.csv`).worst).toBeLessThan(1e-12);
  });

  it('LayerNorm in bfloat16: layer --params equals it on rows without missing values', async () => {
    const { path } = await importParams(`${DIR}layernorm-bf16.safetensors`, ['-c', '52 Week Low,Price,52 Week High', '-e', '1e-5']);
    const { worst, compared } = compare(await finorm(['layer', '--params', path, ROWS]), `${DIR}expected-layernorm-bf16.csv`, true);
    expect(worst).toBeLessThan(1e-12);
    expect(compared).toBeGreaterThan(500);
  });

  it('finds the BatchNorm1d of a whole model (float16), by itself or by --prefix', async () => {
    const columns = ['-c', 'Dividend Yield,Price/Sales,Earnings/Share', '-e', '1e-5'];
    const found = await importParams(`${DIR}model.safetensors`, columns);
    const named = await importParams(`${DIR}model.safetensors`, [...columns, '--prefix', '1']);
    expect(named.params).toEqual(found.params);
    expect(compare(await finorm(['batch', '--params', found.path, ROWS]), `${DIR}expected-model.csv`).worst).toBeLessThan(1e-12);
  });
});

describe('export --to torch, loaded by PyTorch', () => {
  for (const [what, args, file, command, params] of [
    ['BatchNorm1d', [], 'exported-batchnorm', 'batch', 'sp500-fit.json'],
    ['LayerNorm', ['--layer'], 'exported-layernorm', 'layer', 'layer-affine.json'],
  ] as const) {
    it(`${what}: finorm writes the file PyTorch loaded (load_state_dict, strict), whose outputs are finorm's to 1e-12`, async () => {
      const out = `${tmp.dir}/${file}.safetensors`;
      await finorm(['export', ...args, `${FIXTURES}params/${params}`, '--to', 'torch', '-o', out]);
      expect(readFileSync(out).equals(readFileSync(`${DIR}${file}.safetensors`))).toBe(true);
      const { worst, compared } = compare(await finorm([command, '--params', `${FIXTURES}params/${params}`, ROWS]), `${DIR}expected-${file}.csv`, command === 'layer');
      expect(worst).toBeLessThan(1e-12);
      expect(compared).toBeGreaterThan(500);
    });
  }

  it('imports its own export back: names and ε from the metadata, the same statistics', async () => {
    const { params } = await importParams(`${DIR}exported-batchnorm.safetensors`);
    const original = JSON.parse(readFileSync(`${FIXTURES}params/sp500-fit.json`, 'utf8')) as { epsilon: number; columns: Record<string, unknown>[] };
    expect(params.epsilon).toBe(original.epsilon);
    expect(params.columns).toEqual(original.columns.map(({ name, gamma, beta, mean, variance }) => ({ name, gamma, beta, mean, variance })));
  });
});

describe('import refuses a bad or mismatched file with one line', () => {
  const bn = (over: Record<string, { dtype: 'F64' | 'F32' | 'I64'; shape: number[]; values: number[] } | undefined> = {}) => {
    const tensors = {
      weight: { dtype: 'F32' as const, shape: [3], values: [1, 2, 3] },
      bias: { dtype: 'F32' as const, shape: [3], values: [0, 0, 1] },
      running_mean: { dtype: 'F32' as const, shape: [3], values: [10, 20, 30] },
      running_var: { dtype: 'F32' as const, shape: [3], values: [1, 4, 9] },
      num_batches_tracked: { dtype: 'I64' as const, shape: [], values: [12] },
      ...over,
    };
    return writeSafetensorsForTest(Object.fromEntries(Object.entries(tensors).filter(([, t]) => t !== undefined)) as Parameters<typeof writeSafetensorsForTest>[0]);
  };
  const columns = ['-c', 'a,b,c'];
  const cases: [string, Buffer | string, string[], number, RegExp][] = [
    ['a running_var of the wrong shape', bn({ running_var: { dtype: 'F32', shape: [3, 1], values: [1, 4, 9] } }), columns, 1, /running_var has shape \[3, 1\]; expected one value per feature, \[H\]/],
    ['tensors of different lengths', bn({ bias: { dtype: 'F32', shape: [2], values: [0, 0] } }), columns, 1, /bias has 2 values and the other tensors 3/],
    ['a missing running_var', bn({ running_var: undefined }), columns, 1, /no BatchNorm1d \(running_mean, running_var\) or LayerNorm \(weight, bias\) tensors \(running_var is missing\); it has 4 tensors: weight, bias, running_mean, num_batches_tracked/],
    ['no normalization layer at all', writeSafetensorsForTest({ 'fc.weight': { dtype: 'F32', shape: [2, 2], values: [1, 2, 3, 4] } }), columns, 1, /no BatchNorm1d .* tensors; it has 1 tensor: fc\.weight/],
    ['NaN in running_var', bn({ running_var: { dtype: 'F32', shape: [3], values: [1, NaN, 9] } }), columns, 1, /running_var\[1\] is NaN/],
    ['a negative running_var', bn({ running_var: { dtype: 'F32', shape: [3], values: [1, -4, 9] } }), columns, 1, /running_var\[1\] is -4; a variance is ≥ 0/],
    ['an integer weight', bn({ weight: { dtype: 'I64', shape: [3], values: [1, 2, 3] } }), columns, 1, /weight is I64; expected floating point/],
    ['more --columns than values', bn(), ['-c', 'a,b,c,d'], 1, /--columns names 4 columns, and the file has 3/],
    ['fewer --columns than values', bn(), ['-c', 'a,b'], 1, /--columns names 2 columns, and the file has 3/],
    ['no --columns for tensors without names', bn(), [], 2, /tensors have no column names: give the 3 feature columns, in order, with --columns/],
    ['a truncated file', bn().subarray(0, 200), columns, 1, /ends at byte \d+ of the data, beyond its end .*: the file is truncated|header length .* is beyond the end of the file/],
    ['two BatchNorm1d layers without --prefix', writeSafetensorsForTest({
      'bn1.running_mean': { dtype: 'F32', shape: [1], values: [0] }, 'bn1.running_var': { dtype: 'F32', shape: [1], values: [1] },
      'bn2.running_mean': { dtype: 'F32', shape: [1], values: [0] }, 'bn2.running_var': { dtype: 'F32', shape: [1], values: [1] },
    }), ['-c', 'a'], 2, /holds 2 BatchNorm1d layers \(bn1, bn2\): choose one with --prefix/],
    ['a --prefix the file lacks', bn(), [...columns, '--prefix', 'norm'], 1, /no BatchNorm1d \(norm\.running_mean, norm\.running_var\) or LayerNorm \(norm\.weight, norm\.bias\) tensors/],
    ['NaN in var_', '{"mean_": [1, 2], "var_": [1, NaN], "scale_": [1, NaN], "n_samples_seen_": 5}', ['-c', 'a,b'], 1, /var_\[1\] \("b"\) is NaN: the scaler saw no value of this feature/],
    ['a var_ and scale_ of different fits', '{"mean_": [1, 2], "var_": [1, 4], "scale_": [1, 3], "n_samples_seen_": 5}', ['-c', 'a,b'], 1, /scale_\[1\] \("b"\) is 3, neither √var_ \(2\) nor 1: the attributes do not come from one fit/],
    ['arrays of different lengths', '{"mean_": [1, 2, 3], "var_": [1, 4], "scale_": [1, 2]}', ['-c', 'a,b'], 1, /var_ has 2 values and mean_ 3/],
    ['a scaler without scale_', '{"mean_": [1, 2], "var_": [1, 4], "with_std": true}', ['-c', 'a,b'], 1, /scale_ is missing \(with_std is true\)/],
    ['a string in mean_', '{"mean_": [1, "2"], "scale_": [1, 2]}', ['-c', 'a,b'], 1, /mean_\[1\]: expected a number/],
    ['--columns for a scaler with another count', `${DIR}scaler-array.json`, ['-c', 'a,b'], 1, /--columns names 2 columns, and the file has 12/],
    ['a finorm parameter file', `${FIXTURES}params/sp500-fit.json`, [], 1, /is a finorm parameter file already: give it to batch --params as it is/],
    ['JSON that is not a scaler', '{"weights": [1, 2]}', [], 1, /neither a safetensors file nor a StandardScaler's attributes/],
    ['-e for a scaler', `${DIR}scaler-frame.json`, ['-e', '0.001'], 2, /-e\/--epsilon applies to PyTorch state dicts; .*scaler-frame\.json is JSON/],
  ];
  for (const [what, content, args, code, message] of cases) {
    it(what, async () => {
      const file = typeof content === 'string' && content.startsWith('/') ? content : tmp.file(`bad-${what.replace(/\W+/g, '-')}${typeof content === 'string' ? '.json' : '.safetensors'}`, content);
      const out = `${tmp.dir}/never.json`;
      const r = await runFinorm(['import', file, ...args, '-o', out]);
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(() => readFileSync(out)).toThrow();
    });
  }

  it('reads a file it accepts in the same shape as the refused ones (the cases above fail for their reason only)', async () => {
    const file = tmp.file('good.safetensors', bn());
    const { params } = await importParams(file, ['-c', 'a,b,c', '-e', '0.01']);
    expect(params.columns).toEqual([
      { name: 'a', gamma: 1, beta: 0, mean: 10, variance: 1 },
      { name: 'b', gamma: 2, beta: 0, mean: 20, variance: 4 },
      { name: 'c', gamma: 3, beta: 1, mean: 30, variance: 9 },
    ]);
    expect(readSafetensorsForTest(bn()).tensors.num_batches_tracked.values).toEqual([12]);
  });
});
