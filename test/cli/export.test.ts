// finorm export, checked by the real runtime: every ONNX model runs in
// onnxruntime (onnxruntime-node) on real rows and is compared with what
// `finorm batch --params` / `finorm layer --params` write for the same rows;
// safetensors files are read by a reader written here from the format's
// description, and their tensors compared with the parameter file's numbers.

import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runFinorm } from '../support/cli.js';
import { type Fields, int, messages, readMessage, text } from '../support/protobuf.js';
import { readSafetensorsForTest } from '../support/safetensors.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();
const FIT = `${FIXTURES}params/sp500-fit.json`;
const LAYER = `${FIXTURES}params/layer-affine.json`;
const SECTORS = `${FIXTURES}params/sp500-sectors-fit.json`;
const ROWS = `${FIXTURES}sp500-financials.csv`;

interface ParamsColumn {
  name: string;
  gamma?: number;
  beta?: number;
  mean?: number;
  variance?: number;
}
const columnsOf = (file: string): ParamsColumn[] => (JSON.parse(readFileSync(file, 'utf8')) as { columns: ParamsColumn[] }).columns;

/** A CSV table as records keyed by column name. */
const table = (csv: string): Record<string, string>[] => parse(csv, { columns: true }) as Record<string, string>[];
/** A cell as finorm reads it: a decimal, or missing (NaN). */
const valueOf = (cell: string): number => (cell === '' || cell === 'NA' ? NaN : Number(cell));

async function exportModel(args: string[]): Promise<Uint8Array> {
  const out = `${tmp.dir}/m${Math.random().toString(36).slice(2)}.onnx`;
  const r = await runFinorm(['export', ...args, '-o', out]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return readFileSync(out);
}

/** Runs the model in onnxruntime on the named columns of the rows. */
async function runModel(model: Uint8Array, rows: Record<string, string>[], names: string[], dtype: 'float64' | 'float32'): Promise<number[][]> {
  const session = await ort.InferenceSession.create(model);
  expect(session.inputNames).toEqual(['input']);
  expect(session.outputNames).toEqual(['output']);
  const values = rows.flatMap((row) => names.map((n) => valueOf(row[n])));
  const input = new ort.Tensor(dtype, dtype === 'float64' ? Float64Array.from(values) : Float32Array.from(values), [rows.length, names.length]);
  const result = await session.run({ input });
  const output = result.output;
  expect(output.dims).toEqual([rows.length, names.length]);
  expect(output.type).toBe(dtype);
  const data = Array.from(output.data as Float64Array | Float32Array);
  return rows.map((_, r) => data.slice(r * names.length, (r + 1) * names.length));
}

/** finorm's own results for the same rows, by column. */
async function finormRows(args: string[], names: string[]): Promise<number[][]> {
  const r = await runFinorm(args);
  expect(r.code, r.stderr).toBe(0);
  return table(r.stdout).map((row) => names.map((n) => valueOf(row[n])));
}

/**
 * The largest difference, relative to max(|expected|, 1) (normalized values
 * live on a scale of 1); missing values must be missing in both.
 */
function worstRelative(actual: number[][], expected: number[][]): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  expected.forEach((row, r) =>
    row.forEach((e, j) => {
      const a = actual[r][j];
      if (Number.isNaN(e)) return expect(a, `row ${r}, column ${j}`).toBeNaN();
      expect(Number.isFinite(a), `row ${r}, column ${j}: ${a}`).toBe(true);
      worst = Math.max(worst, Math.abs(a - e) / Math.max(Math.abs(e), 1));
    }),
  );
  return worst;
}

describe('export --to onnx, run in onnxruntime', () => {
  const rows = table(readFileSync(ROWS, 'utf8'));

  it('applies a fit as batch --params does, to 1e-12 (relative) in float64, missing values NaN in and out', async () => {
    const names = columnsOf(FIT).map((c) => c.name);
    const actual = await runModel(await exportModel([FIT]), rows, names, 'float64');
    const expected = await finormRows(['batch', '--params', FIT, ROWS], names);
    // The graph applies finorm's own constants in finorm's order: the same doubles.
    expect(worstRelative(actual, expected)).toBe(0);
    expect(expected.flat().some(Number.isNaN)).toBe(true);
  });

  it('clamps to the winsorizing bounds of the file and clips with --clip, as batch does', async () => {
    const fit = `${tmp.dir}/winsorized.json`;
    const saved = await runFinorm(['batch', '-q', '--winsorize', '0.05', '-c', 'Price,Market Cap,Price/Sales', '--save-params', fit, '-o', '/dev/null', ROWS]);
    expect(saved.code, saved.stderr).toBe(0);
    const names = columnsOf(fit).map((c) => c.name);
    const actual = await runModel(await exportModel([fit, '--clip', '2']), rows, names, 'float64');
    const expected = await finormRows(['batch', '--params', fit, '--clip', '2', ROWS], names);
    expect(worstRelative(actual, expected)).toBe(0);
    // Both took effect: values beyond the bounds and clipped ones are among the rows.
    const flat = expected.flat();
    expect(flat.filter((v) => Math.abs(v) === 2).length).toBeGreaterThan(5);
    const unclipped = await runModel(await exportModel([fit]), rows, names, 'float64');
    expect(worstRelative(unclipped, await finormRows(['batch', '--params', fit, ROWS], names))).toBe(0);
  });

  it('exports one group of a file fitted per group with --group', async () => {
    const names = columnsOf(SECTORS).map((c) => c.name);
    const sample = table(readFileSync(`${FIXTURES}sp500-sample.csv`, 'utf8'));
    const inGroup = sample.map((row, i) => [row, i] as const).filter(([row]) => row.Sector === 'Semiconductors');
    expect(inGroup.length).toBe(2);
    const actual = await runModel(await exportModel(['--group', 'Semiconductors', SECTORS]), inGroup.map(([row]) => row), names, 'float64');
    const all = await finormRows(['batch', '--params', SECTORS, `${FIXTURES}sp500-sample.csv`], names);
    expect(worstRelative(actual, inGroup.map(([, i]) => all[i]))).toBe(0);
  });

  it('exports the layer transform (γ, β, ε of the file; clipping) to 1e-12 of layer --params, rows with missing values too', async () => {
    const names = columnsOf(LAYER).map((c) => c.name);
    for (const clip of [[], ['--clip', '1.5']]) {
      const actual = await runModel(await exportModel(['--layer', ...clip, LAYER]), rows, names, 'float64');
      const expected = await finormRows(['layer', '--params', LAYER, ...clip, ROWS], names);
      expect(worstRelative(actual, expected)).toBeLessThan(1e-12);
    }
  });

  it('gives β for a constant row and a single value, also with ε = 0, and leaves a row with no value missing', async () => {
    // A value whose sum of three, divided by 3, is 0.03125 off: only the
    // least = greatest test makes its deviations exactly 0.
    const csv = tmp.file('layer-edge.csv', 'a,b,c\n0.1,0.1,0.1\n1e12,1e12,1e12\n192464801260371.3,192464801260371.3,192464801260371.3\n,7,\n,,\n1,2,4\n-3,1e-9,2e-9\n');
    const params = tmp.file('layer-edge.json', JSON.stringify({ format: 'finorm-params', version: 1, columns: [{ name: 'a', gamma: 2, beta: 0.5 }, { name: 'b', gamma: 1, beta: -1 }, { name: 'c', gamma: 3, beta: 0 }] }));
    const input = table(readFileSync(csv, 'utf8'));
    for (const epsilon of ['1e-5', '0']) {
      const actual = await runModel(await exportModel(['--layer', '-e', epsilon, params]), input, ['a', 'b', 'c'], 'float64');
      const expected = await finormRows(['layer', '--params', params, '-e', epsilon, csv], ['a', 'b', 'c']);
      expect(expected[0]).toEqual([0.5, -1, 0]);
      expect(expected[1]).toEqual([0.5, -1, 0]);
      expect(expected[2]).toEqual([0.5, -1, 0]);
      expect(worstRelative(actual, expected)).toBeLessThan(1e-12);
    }
  });

  it('serves float32: input, output and arithmetic, within a few float32 units of finorm in float64', async () => {
    // The rows rounded to float32 first: what a float32 pipeline holds.
    const rounded = rows.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, /^-?[\d.]+(e[+-]?\d+)?$/i.test(v) ? String(Math.fround(Number(v))) : v])));
    const csv = tmp.file('float32-rows.csv', [Object.keys(rows[0]).join(','), ...rounded.map((r) => Object.values(r).map((v) => (v.includes(',') ? `"${v}"` : v)).join(','))].join('\n') + '\n');
    for (const [file, command] of [[FIT, 'batch'], [LAYER, 'layer']] as const) {
      const names = columnsOf(file).map((c) => c.name);
      const actual = await runModel(await exportModel([...(command === 'layer' ? ['--layer'] : []), '--dtype', 'float32', file]), rounded, names, 'float32');
      const expected = await finormRows([command, '--params', file, csv], names);
      // float32 carries 24 bits: 6e-8 relative per rounding, a handful of roundings.
      expect(worstRelative(actual, expected)).toBeLessThan(1e-6);
    }
  });

  it('names the features in order in the metadata, the doc string and the input, with opset 17', async () => {
    const names = columnsOf(FIT).map((c) => c.name);
    const model = readMessage(await exportModel([FIT]));
    expect(int(model, 1)).toBe(8n); // ir_version
    expect(text(model, 2)).toBe('finorm');
    const [opset] = messages(model, 8);
    expect([text(opset, 1) ?? '', int(opset, 2)]).toEqual(['', 17n]);
    const metadata = Object.fromEntries(messages(model, 14).map((entry) => [text(entry, 1), text(entry, 2)]));
    expect(JSON.parse(metadata['finorm.features'] as string)).toEqual(names);
    expect(metadata['finorm.transform']).toBe('batch');
    expect(Number(metadata['finorm.epsilon'])).toBe(1e-5);
    const doc = text(model, 6) as string;
    expect(doc).toContain(names.map((n) => JSON.stringify(n)).join(', '));
    expect(doc).toMatch(/Input "input" \[N, 10\] float64/);
    const [graph] = messages(model, 7);
    const [input] = messages(graph, 11);
    expect(text(input, 1)).toBe('input');
    const tensorType = messages(messages(input, 2)[0], 1)[0];
    expect(int(tensorType, 1)).toBe(11n); // DOUBLE
    const dims = messages(messages(tensorType, 2)[0], 1).map((d: Fields) => text(d, 2) ?? Number(int(d, 1)));
    expect(dims).toEqual(['N', 10]);
    expect(text(input, 3)).toContain(JSON.stringify(names[0]));
  });
});

describe('export --to torch', () => {
  it('writes a BatchNorm1d state dict: weight, bias, running_mean, running_var (float64), num_batches_tracked', async () => {
    const columns = columnsOf(FIT);
    const file = `${tmp.dir}/bn.safetensors`;
    const r = await runFinorm(['export', FIT, '-o', file]); // --to from the extension
    expect(r.code, r.stderr).toBe(0);
    const stored = readSafetensorsForTest(readFileSync(file));
    expect(stored.names.sort()).toEqual(['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']);
    expect((8 + stored.headerLength) % 8).toBe(0);
    const expected = { weight: columns.map((c) => c.gamma), bias: columns.map((c) => c.beta), running_mean: columns.map((c) => c.mean), running_var: columns.map((c) => c.variance) };
    for (const [name, values] of Object.entries(expected)) {
      expect(stored.tensors[name]).toEqual({ dtype: 'F64', shape: [10], values });
    }
    expect(stored.tensors.num_batches_tracked).toEqual({ dtype: 'I64', shape: [], values: [0] });
    expect(JSON.parse(stored.metadata['finorm.features'])).toEqual(columns.map((c) => c.name));
    expect(stored.metadata['finorm.epsilon']).toBe('0.00001');
  });

  it('writes float32 with --dtype, and a LayerNorm (weight, bias) with --layer', async () => {
    const columns = columnsOf(LAYER);
    const file = `${tmp.dir}/ln.safetensors`;
    const r = await runFinorm(['export', '--layer', '--to', 'torch', '--dtype', 'float32', LAYER, '-o', file]);
    expect(r.code, r.stderr).toBe(0);
    const stored = readSafetensorsForTest(readFileSync(file));
    expect(stored.names).toEqual(['weight', 'bias']);
    expect(stored.tensors.weight).toEqual({ dtype: 'F32', shape: [10], values: columns.map((c) => Math.fround(c.gamma ?? 1)) });
    expect(stored.tensors.bias).toEqual({ dtype: 'F32', shape: [10], values: columns.map((c) => Math.fround(c.beta ?? 0)) });
  });

  it('writes a variance of 1 for a constant column with ε = 0, which finorm divides by 1', async () => {
    const fit = tmp.file('flat.json', JSON.stringify({ format: 'finorm-params', version: 1, epsilon: 0, columns: [{ name: 'flat', mean: 5, variance: 0 }, { name: 'x', mean: 1, variance: 4 }] }));
    const file = `${tmp.dir}/flat.safetensors`;
    expect((await runFinorm(['export', '--to', 'torch', fit, '-o', file])).code).toBe(0);
    expect(readSafetensorsForTest(readFileSync(file)).tensors.running_var.values).toEqual([1, 4]);
  });
});

describe('export refuses what it cannot write, with one line', () => {
  const cases: [string, string[], number, RegExp][] = [
    ['a file fitted per group without --group', [SECTORS, '-o', 'x.onnx'], 2, /fitted per group \(Sector\): a model holds one group's statistics; export one with --group/],
    ['a group the file lacks', [SECTORS, '--group', 'Nope', '-o', 'x.onnx'], 1, /no group "Nope" \(it has 23: /],
    ['a group that had no value of a column', [SECTORS, '--group', 'Multi-Sector Holdings', '-o', 'x.onnx'], 1, /had no value of column "Price"/],
    ['--group for a file not fitted per group', [FIT, '--group', 'A', '-o', 'x.onnx'], 2, /not fitted per group/],
    ['--group with --layer', [LAYER, '--layer', '--group', 'A', '-o', 'x.onnx'], 2, /--layer and --group cannot be used together/],
    ['no format', [FIT, '-o', 'x.bin'], 2, /--to onnx or --to torch \(.*x\.bin ends in neither/],
    ['--clip for a state dict', [FIT, '--to', 'torch', '--clip', '3', '-o', 'x.st'], 2, /BatchNorm1d and LayerNorm do not clamp/],
    ['a layer file as a BatchNorm', [LAYER, '--to', 'torch', '-o', 'x.st'], 1, /no fitted "mean" and "variance" for a BatchNorm1d/],
    ['a layer file as a batch model', [LAYER, '-o', 'x.onnx'], 1, /no fitted "mean" and "variance"/],
    ['an unknown dtype', [FIT, '--dtype', 'float16', '-o', 'x.onnx'], 2, /float16/],
  ];
  for (const [what, args, code, message] of cases) {
    it(what, async () => {
      const r = await runFinorm(['export', ...args.map((a) => (/^x\./.test(a) ? `${tmp.dir}/${a}` : a))]);
      expect(r.code, r.stderr).toBe(code);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }

  it('a column normalized in units of a power of two (var + ε beyond 2^±1000), the same for every target', async () => {
    const wide = tmp.file('wide.json', JSON.stringify({ format: 'finorm-params', version: 2, epsilon: 0, columns: [{ name: 'cap', mean: 1e150, variance: '4.5e+616' }] }));
    const large = tmp.file('large.json', JSON.stringify({ format: 'finorm-params', version: 1, columns: [{ name: 'cap', mean: 1e150, variance: 1e302 }] }));
    const tiny = tmp.file('tiny.json', JSON.stringify({ format: 'finorm-params', version: 1, epsilon: 0, columns: [{ name: 'px', mean: 1e-152, variance: 1e-305 }] }));
    for (const file of [wide, large, tiny]) {
      for (const target of [['--to', 'onnx'], ['--to', 'torch'], ['--to', 'onnx', '--dtype', 'float32']]) {
        const r = await runFinorm(['export', ...target, file, '-o', `${tmp.dir}/w.out`]);
        expect(r.code, `${file} ${target.join(' ')}`).toBe(1);
        expect(r.stderr).toMatch(new RegExp(`^finorm: ${file}: column "(cap|px)" has variance [^ ]+ \\(ε [^)]+\\): finorm normalizes it in units of a power of two, which a model's float64 arithmetic cannot; it cannot be exported\\n$`));
      }
    }
    // Within the range, the same column exports.
    const fine = tmp.file('fine.json', JSON.stringify({ format: 'finorm-params', version: 1, columns: [{ name: 'cap', mean: 1e150, variance: 1e298 }] }));
    expect((await runFinorm(['export', '--to', 'torch', fine, '-o', `${tmp.dir}/f.st`])).code).toBe(0);
  });

  it('winsorizing bounds for a state dict, and float32 constants out of range', async () => {
    const bounded = tmp.file('bounded.json', JSON.stringify({ format: 'finorm-params', version: 1, columns: [{ name: 'x', mean: 1, variance: 4, lower: 0, upper: 3 }] }));
    const r = await runFinorm(['export', '--to', 'torch', bounded, '-o', `${tmp.dir}/b.st`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/column "x" has winsorizing bounds \(lower, upper\), which BatchNorm1d cannot apply; export to ONNX/);
    const huge = tmp.file('huge.json', JSON.stringify({ format: 'finorm-params', version: 1, columns: [{ name: 'cap', mean: 1e39, variance: 1e78 }] }));
    const h = await runFinorm(['export', '--dtype', 'float32', huge, '-o', `${tmp.dir}/h.onnx`]);
    expect(h.code).toBe(1);
    expect(h.stderr).toMatch(/column "cap": its mean, 1e\+39, is outside the range of float32; export it as float64/);
  });
});
