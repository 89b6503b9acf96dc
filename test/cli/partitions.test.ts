// Partition-friendly I/O: what a distributed runner (GNU parallel, Hadoop
// Streaming, Spark's pipe) needs. `fit --partial` on each part from stdin,
// `merge -` of the fits as they come concatenated, `--no-output-header` for
// every block but the first. Numbers are checked against exact rational
// arithmetic, and the merged fit against one fit over everything.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFinorm } from '../support/cli.js';
import { exactMean, exactVariance, toDouble } from '../support/exact.js';
import { seededRandom } from '../support/random.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();

/** A table whose columns break naive formulas: prices near 1e9 moving by 1e-3, returns, a sparse column. */
function table(rows: number, seed: number): { header: string; lines: string[]; columns: Record<string, number[]> } {
  const next = seededRandom(seed);
  const header = 'date,ticker,price,ret,sparse';
  const lines: string[] = [];
  const columns: Record<string, number[]> = { price: [], ret: [], sparse: [] };
  for (let i = 0; i < rows; i++) {
    const price = 1e9 + Math.round(next() * 1e6) * 1e-3;
    const ret = (next() - 0.5) / 7;
    // Values only in the second half: early parts have none.
    const sparse = i > rows / 2 && next() < 0.3 ? next() * 100 : undefined;
    columns.price.push(price);
    columns.ret.push(ret);
    if (sparse !== undefined) columns.sparse.push(sparse);
    lines.push(`2024-01-${String((i % 28) + 1).padStart(2, '0')},"T${i % 9}, Inc.",${price},${ret},${sparse ?? ''}`);
  }
  return { header, lines, columns };
}

/** The table cut into `parts` blocks of whole lines, each with the header (what `parallel --pipepart --header :` sends). */
function blocks(t: { header: string; lines: string[] }, parts: number): string[] {
  const size = Math.ceil(t.lines.length / parts);
  return Array.from({ length: parts }, (_, k) => [t.header, ...t.lines.slice(k * size, (k + 1) * size)].join('\n') + '\n');
}

interface Column {
  name: string;
  count: number;
  mean?: number;
  variance?: number;
  sum?: string;
}

const columnsOf = (text: string): Column[] => (JSON.parse(text) as { columns: Column[] }).columns;

async function fitEach(parts: string[], args: string[]): Promise<string> {
  const fits = await Promise.all(parts.map((input) => runFinorm(['fit', '-q', ...args, '-'], { input })));
  for (const f of fits) expect(f.stderr).toBe('');
  return fits.map((f) => f.stdout).join('');
}

describe('fit --partial and merge -', () => {
  const t = table(3000, 3);
  const whole = tmp.file('whole.csv', [t.header, ...t.lines].join('\n') + '\n');

  it('merging the partial fits of blocks read from stdin gives one fit over everything, to the byte', async () => {
    const concatenated = await fitEach(blocks(t, 5), ['--partial', '-c', 'price,ret,sparse']);
    const merged = await runFinorm(['merge', '-'], { input: concatenated });
    expect(merged.stderr).toBe('');
    expect(merged.code).toBe(0);
    const single = await runFinorm(['fit', '-c', 'price,ret,sparse', whole]);
    expect(merged.stdout).toBe(single.stdout);
    // And that fit is the exact one: counts exact, mean and variance correctly rounded.
    for (const column of columnsOf(merged.stdout)) {
      const values = t.columns[column.name];
      expect(column.count).toBe(values.length);
      expect(column.mean).toBe(toDouble(exactMean(values)));
      expect(column.variance).toBe(toDouble(exactVariance(values, 0)));
      expect(column.sum).toBeUndefined(); // the merged fit is a whole fit, not a part
    }
  });

  it('a part without values in a column writes count 0 for it; a block holding only the header writes an empty fit', async () => {
    const [early] = blocks(t, 4);
    const part = columnsOf((await runFinorm(['fit', '--partial', '-c', 'price,sparse', '-'], { input: early })).stdout);
    expect(part.map((c) => c.count)).toEqual([750, 0]);
    expect(part[0].sum).toMatch(/^0x[0-9a-f]+p-?\d+$/);
    const headerOnly = await runFinorm(['fit', '--partial', '-c', 'price,sparse', '-'], { input: `${t.header}\n` });
    expect(headerOnly.code).toBe(0);
    expect(columnsOf(headerOnly.stdout)).toEqual([
      { name: 'price', gamma: 1, beta: 0, count: 0 },
      { name: 'sparse', gamma: 1, beta: 0, count: 0 },
    ]);
    // It merges as nothing: the fits of the blocks plus the empty one are still the fit of the whole.
    const concatenated = (await fitEach(blocks(t, 3), ['--partial', '-c', 'price,sparse'])) + headerOnly.stdout;
    const merged = await runFinorm(['merge', '-'], { input: concatenated });
    expect(merged.stdout).toBe((await runFinorm(['fit', '-c', 'price,sparse', whole])).stdout);
    // Without --partial, a column without values is still an error, in fit as in merge.
    const plain = await runFinorm(['fit', '-c', 'price,sparse', '-'], { input: early });
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/no values to fit in column "sparse"/);
    const earlyFit = await fitEach([early], ['--partial', '-c', 'price,sparse']);
    const empties = await runFinorm(['merge', '-'], { input: earlyFit + headerOnly.stdout });
    expect(empties.code).toBe(1);
    expect(empties.stderr).toMatch(/^finorm: no values to fit in column "sparse"/);
    const combiner = await runFinorm(['merge', '--partial', '-'], { input: earlyFit + headerOnly.stdout });
    expect(combiner.code).toBe(0);
    expect(columnsOf(combiner.stdout).map((c) => [c.count, c.sum === undefined])).toEqual([
      [750, false],
      [0, true],
    ]);
  });

  it('an empty block is an error, never a fit of nothing or an empty output (a retried GNU parallel --pipepart job can get one)', async () => {
    const fit = tmp.file('empty-block.fit.json', (await runFinorm(['fit', '-c', 'price,ret', whole])).stdout);
    for (const args of [
      ['fit', '-q', '--partial', '-c', 'price,ret', '-'],
      ['fit', '-q', '--partial', '-'],
      ['batch', '-q', '--params', fit, '-'],
      ['batch', '-q', '--params', fit, '--no-output-header', '-'],
    ]) {
      const r = await runFinorm(args, { input: '' });
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^finorm: .+\n$/);
    }
  });

  it('per group: merged partial fits are the per-group fit of everything', async () => {
    const concatenated = await fitEach(blocks(t, 4), ['--partial', '-g', 'ticker', '-c', 'price,ret']);
    const merged = await runFinorm(['merge', '-'], { input: concatenated });
    expect(merged.stderr).toBe('');
    expect(merged.stdout).toBe((await runFinorm(['fit', '-g', 'ticker', '-c', 'price,ret', whole])).stdout);
  });

  it('reads fits in the NDJSON layout one after another (a header line, then its groups), and a JSON fit among them', async () => {
    const parts = blocks(t, 3);
    const files = [];
    for (const [k, input] of parts.entries()) {
      const out = join(tmp.dir, `part${k}.ndjson`);
      const r = await runFinorm(['fit', '-q', '--partial', '-g', 'ticker', '-c', 'price,ret', '-o', out, '-'], { input });
      expect(r.stderr).toBe('');
      files.push(readFileSync(out, 'utf8'));
    }
    // Each NDJSON fit is a header line and one line a group: the next header begins the next fit.
    expect(files[0].split('\n')[1]).toMatch(/^\{"key":/);
    const json = (await runFinorm(['fit', '-q', '--partial', '-g', 'ticker', '-c', 'price,ret', '-'], { input: parts[2] })).stdout;
    const merged = await runFinorm(['merge', '-'], { input: files[0] + files[1] + json });
    expect(merged.stderr).toBe('');
    expect(merged.stdout).toBe((await runFinorm(['fit', '-g', 'ticker', '-c', 'price,ret', whole])).stdout);
  });

  it('a per-group part without rows in the NDJSON layout reads back, and byte-order marks before fits are white space', async () => {
    const empty = join(tmp.dir, 'empty.ndjson');
    const e = await runFinorm(['fit', '-q', '--partial', '-g', 'ticker', '-c', 'price', '-o', empty, '-'], { input: `${t.header}\n` });
    expect(e.stderr).toBe('');
    expect(readFileSync(empty, 'utf8')).toMatch(/"groups":\[\]\}\n$/);
    const part = (await runFinorm(['fit', '-q', '--partial', '-g', 'ticker', '-c', 'price', '-'], { input: blocks(t, 1)[0] })).stdout;
    const alone = (await runFinorm(['merge', '-'], { input: part })).stdout;
    const bom = '\ufeff';
    const merged = await runFinorm(['merge', '-'], { input: `${bom}${part}${bom}${readFileSync(empty, 'utf8')}` });
    expect(merged.stderr).toBe('');
    expect(merged.stdout).toBe(alone);
  });

  it('names the line of a problem in a later fit, and of a group in the NDJSON layout', async () => {
    const ndjson = join(tmp.dir, 'named.ndjson');
    await runFinorm(['fit', '-q', '--partial', '-g', 'ticker', '-c', 'price', '-o', ndjson, '-'], { input: blocks(t, 2)[0] });
    const fit = readFileSync(ndjson, 'utf8');
    const lines = fit.split('\n').length - 1;
    const plain = (await runFinorm(['fit', '-q', '-c', 'price', '-'], { input: blocks(t, 2)[1] })).stdout;
    const plainLines = plain.split('\n').length - 1;
    const broken = fit.split('\n');
    broken[3] = broken[3].replace(/"count":\d+/, '"count":"x"');
    const cases: [string, RegExp][] = [
      // The fourth line of the second fit: its third group.
      [fit + broken.join('\n'), new RegExp(`^finorm: <stdin>:${lines + 4} \\(fit 2\\): groups\\[2\\]\\.columns\\[0\\] \\("price"\\)\\.count: `)],
      [broken.join('\n'), /^finorm: <stdin>:4: groups\[2\]\.columns\[0\] \("price"\)\.count: /],
      [`${plain}{"ticker": "T1", "price": 3}\n`, new RegExp(`^finorm: <stdin>:${plainLines + 1}: an object without "format" after a fit that is not per group`)],
      [plain + plain.replace('"version": 1', '"version": 9'), new RegExp(`^finorm: <stdin> \\(fit 2, line ${plainLines + 1}\\): parameter file version 9 is newer than this finorm reads`)],
      [plain.replace('"epsilon"', '"columns": [],\n  "epsilon"'), /^finorm: <stdin>:\d+: "columns" appears twice\n$/],
    ];
    for (const [input, message] of cases) {
      const r = await runFinorm(['merge', '-'], { input });
      expect(r.stderr, input.slice(0, 80)).toMatch(message);
      expect(r.code).toBe(1);
    }
  });

  it('a file of several fits where one is expected is refused, naming the line of the second', async () => {
    const [a, b] = (await Promise.all(blocks(t, 2).map((input) => runFinorm(['fit', '-q', '-c', 'price', '-'], { input })))).map((r) => r.stdout);
    const both = tmp.file('both.json', a + b);
    const r = await runFinorm(['batch', '--params', both, whole]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`finorm: ${both}:${a.split('\n').length}: a second parameter file after the first (a file of several fits is for finorm merge)\n`);
  });

  it('reads any number of fits from each file and from stdin, whatever the white space between them', async () => {
    const [a, b, c] = (await Promise.all(blocks(t, 3).map((input) => runFinorm(['fit', '-q', '--partial', '-c', 'price,ret', '-'], { input })))).map((r) => r.stdout);
    const two = tmp.file('two.json', `${a}\n\n${JSON.stringify(JSON.parse(b))}`);
    const merged = await runFinorm(['merge', two, '-'], { input: `  \r\n${c.trim()}` });
    expect(merged.stderr).toBe('');
    expect(merged.stdout).toBe((await runFinorm(['fit', '-c', 'price,ret', whole])).stdout);
  });

  it('a brace or quote inside a name is no boundary between fits', async () => {
    const input = 'date,"a}{b","c""}"\nd1,2,3\nd2,5,7\n';
    const fits = (await fitEach([input, input.replace('2,5,7', '2,6,8')], ['--partial'])).trim();
    expect(fits.match(/"format"/g)).toHaveLength(2);
    const merged = await runFinorm(['merge', '-'], { input: fits });
    expect(merged.stderr).toBe('');
    expect(columnsOf(merged.stdout).map((c) => [c.name, c.count, c.mean])).toEqual([
      ['a}{b', 4, 3.75],
      ['c"}', 4, 5.25],
    ]);
  });

  it('names what is wrong, and where in the stream', async () => {
    const fit = (await runFinorm(['fit', '-q', '--partial', '-c', 'price', '-'], { input: blocks(t, 2)[0] })).stdout;
    const other = (await runFinorm(['fit', '-q', '--partial', '-c', 'price', '-'], { input: blocks(t, 2)[1] })).stdout;
    const lines = fit.split('\n').length - 1;
    const cases: [string, number, RegExp][] = [
      ['', 1, /^finorm: <stdin>: no parameter file in it \(it is empty\)\n$/],
      [`${fit}price,ret\n`, 1, new RegExp(`^finorm: <stdin>:${lines + 1}: expected a parameter file \\(a JSON object, \\{ … \\}\\), found "p"\\n$`)],
      [`${fit}${other.slice(0, 200)}`, 1, new RegExp(`^finorm: <stdin> \\(fit 2, line ${lines + 1}\\): not a JSON parameter file`)],
      [`${fit}${other}${fit}`, 1, new RegExp(`^finorm: <stdin> and <stdin> \\(fit 3, line ${2 * lines + 1}\\) hold the same fit`)],
      [fit.replace(/"sum": "0x[0-9a-f]/, '"sum": "0x1'), 1, /^finorm: <stdin>: columns\[0\] \("price"\): "sum" and "sumOfSquares" disagree with "mean" and "m2" \(was the file edited\?\)\n$/],
      [fit.replace(/"sum": "[^"]*",/, ''), 1, /^finorm: <stdin>: columns\[0\] \("price"\): give both "sum" and "sumOfSquares", or neither\n$/],
      [fit.replace(/"sum": "[^"]*"/, '"sum": "12.5"'), 1, /^finorm: <stdin>: columns\[0\] \("price"\)\.sum: expected an exact sum written as 0x…p…/],
    ];
    for (const [input, code, message] of cases) {
      const r = await runFinorm(['merge', '-'], { input });
      expect(r.stderr, JSON.stringify(input.slice(-40))).toMatch(message);
      expect(r.code).toBe(code);
    }
    const twice = await runFinorm(['merge', '-', '-'], { input: fit });
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/^finorm: stdin \(-\) can be read only once/);
    // A fit without exact sums (an older file, a whole fit) still merges, to the files' precision.
    const merged = await runFinorm(['merge', '-'], { input: fit.replace(/,\n\s*"sum": "[^"]*",\n\s*"sumOfSquares": "[^"]*"/g, '') + other });
    expect(merged.stderr).toBe('');
    expect(columnsOf(merged.stdout)[0].count).toBe(3000);
  });
});

describe('--no-output-header: blocks normalized apart make one table', () => {
  const t = table(2000, 8);
  const whole = tmp.file('whole-z.csv', [t.header, ...t.lines].join('\n') + '\n');

  it('the first block with its header and the others without it are one batch over everything, byte for byte', async () => {
    const concatenated = await fitEach(blocks(t, 4), ['--partial', '-c', 'price,ret']);
    const fit = tmp.file('blocks.fit.json', (await runFinorm(['merge', '-'], { input: concatenated })).stdout);
    const outputs = await Promise.all(
      blocks(t, 4).map((input, k) => runFinorm(['batch', '-q', '--params', fit, ...(k === 0 ? [] : ['--no-output-header']), '-'], { input })),
    );
    for (const o of outputs) expect(o.stderr).toBe('');
    const single = await runFinorm(['batch', '-q', '-c', 'price,ret', whole]);
    expect(outputs.map((o) => o.stdout).join('')).toBe(single.stdout);
    expect(outputs[1].stdout.startsWith('2024-')).toBe(true);
  });

  it('leaves out only the header: of CSV and TSV, of layer and batch, with --select; NDJSON has none', async () => {
    const csv = 'id,x,y\na,1,2\nb,3,5\n';
    const layer = await runFinorm(['layer', '-e', '0', '--no-output-header', '--select', 'y,id', '-'], { input: csv });
    expect(layer.stdout).toBe((await runFinorm(['layer', '-e', '0', '--select', 'y,id', '-'], { input: csv })).stdout.split('\n').slice(1).join('\n'));
    expect(layer.stdout).toMatch(/^1,a\n1,b\n$/);
    const tsv = await runFinorm(['batch', '-f', 'tsv', '--no-output-header', '-e', '0', '-'], { input: csv.replaceAll(',', '\t') });
    expect(tsv.stdout).toBe('a\t-1\t-1\nb\t1\t1\n');
    const ndjson = await runFinorm(['batch', '--output-format', 'ndjson', '--no-output-header', '-e', '0', '-'], { input: csv });
    expect(ndjson.stdout).toBe('{"id":"a","x":-1,"y":-1}\n{"id":"b","x":1,"y":1}\n');
  });

  it('a block holding only the header writes the header, or nothing with --no-output-header', async () => {
    const fit = tmp.file('header-only.fit.json', (await runFinorm(['fit', '-c', 'price,ret', whole])).stdout);
    const headerOnly = `${t.header}\n`;
    for (const command of [['batch', '--params', fit], ['layer', '-c', 'price,ret']]) {
      const withHeader = await runFinorm([...command, '-'], { input: headerOnly });
      expect([withHeader.code, withHeader.stdout, withHeader.stderr]).toEqual([0, headerOnly, '']);
      const without = await runFinorm([...command, '--no-output-header', '-'], { input: headerOnly });
      expect([without.code, without.stdout, without.stderr]).toEqual([0, '', '']);
    }
  });
});
