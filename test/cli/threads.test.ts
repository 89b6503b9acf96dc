// The worker-thread path must be invisible: for every input and option, the
// same bytes on stdout, the same messages on stderr and the same exit code as
// one thread. Small pieces (FINORM_PIECE_BYTES) make even small files many
// pieces, so records, quotes and errors fall on every kind of boundary.

import { execFileSync, spawn } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runFinorm, type RunResult } from '../support/cli.js';
import { slowlyRead } from '../support/fifo.js';
import { seededRandom } from '../support/random.js';
import { tempDir } from '../support/temp.js';

const { file, dir } = tempDir();

/** A price table with the awkward parts of real files: quoted names with commas and line breaks, missing values, CRLF. */
function table(seed: number, rows: number, options: { crlf?: boolean; bom?: boolean; bad?: boolean } = {}): string {
  const random = seededRandom(seed);
  const eol = options.crlf ? '\r\n' : '\n';
  const lines = ['date,ticker,name,open,close,volume,mkt_cap'];
  const names = ['Apple Inc.', '"Tesla, Inc."', '"Berkshire ""B"""', '"Two\nLines Corp"', 'Société Générale', ''];
  for (let r = 0; r < rows; r++) {
    const price = (100 * Math.exp(random() * 2 - 1)).toFixed(4);
    const cells = [
      `2024-01-${String(1 + (r % 28)).padStart(2, '0')}`,
      `T${r % 7}`,
      names[r % names.length],
      random() < 0.05 ? '' : price,
      random() < 0.05 ? 'NA' : (Number(price) * (1 + (random() - 0.5) / 10)).toFixed(4),
      String(Math.floor(random() * 1e7)),
      (random() * 1e12).toExponential(6),
    ];
    if (options.bad && r % 37 === 5) cells[4] = 'n/a?';
    if (options.bad && r % 53 === 40) cells.pop();
    lines.push(cells.join(','));
    if (r % 41 === 0) lines.push('');
  }
  return (options.bom ? '\ufeff' : '') + lines.join(eol) + eol;
}

/** `finorm <command> --threads 1 ...` and `--threads 2`, the latter in pieces of ~300 bytes. */
async function both([command, ...args]: string[], input?: string | Buffer): Promise<[RunResult, RunResult]> {
  const one = await runFinorm([command, '--threads', '1', ...args], { input });
  const two = await runFinorm([command, '--threads', '2', ...args], { input, env: { FINORM_PIECE_BYTES: '300' } });
  return [one, two];
}

/**
 * The same table both ways, but numbers only to rounding: statistics gathered
 * by workers are merged piece by piece, which can move their last bit (both
 * stay within a few ulps of the exact value; see test/core/moments.test.ts).
 */
function expectSameTable([one, two]: [RunResult, RunResult], minimumNumbers = 100): void {
  expect(one.code, one.stderr).toBe(0);
  expect(two.code).toBe(0);
  expect(two.stderr).toBe(one.stderr);
  const a = parse(one.stdout, { relax_column_count: true }) as string[][];
  const b = parse(two.stdout, { relax_column_count: true }) as string[][];
  expect(b.map((row) => row.length)).toEqual(a.map((row) => row.length));
  let numbers = 0;
  a.forEach((row, r) =>
    row.forEach((cell, c) => {
      const other = b[r][c];
      if (cell === '' || Number.isNaN(Number(cell))) return expect(other).toBe(cell);
      numbers++;
      expect(Math.abs(Number(other) - Number(cell))).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(Number(cell))));
    }),
  );
  expect(numbers).toBeGreaterThanOrEqual(minimumNumbers);
}

/** A fit's JSON as a CSV table of its numbers, for expectSameTable. */
function fitAsTable(run: RunResult): RunResult {
  if (run.code !== 0) return run;
  const columns = JSON.parse(run.stdout).columns as Record<string, unknown>[];
  const keys = Object.keys(columns[0]).filter((key) => key !== 'meanLo');
  return { ...run, stdout: columns.map((c) => keys.map((k) => String(c[k])).join(',')).join('\n') + '\n' };
}

/** The same run both ways; `code` is the exit code expected of both. */
function expectSame([one, two]: [RunResult, RunResult], code = 0): void {
  expect(one.code, one.stderr).toBe(code);
  expect(two.stderr).toBe(one.stderr);
  expect(two.code).toBe(one.code);
  expect(two.stdout).toBe(one.stdout);
}

describe('--threads', () => {
  const plain = file('plain.csv', table(1, 400));
  const crlf = file('crlf.csv', table(2, 300, { crlf: true, bom: true }));
  const gz = file('more.csv.gz', gzipSync(table(3, 200)));
  const bad = file('bad.csv', table(4, 400, { bad: true }));
  const params = file('fit.json', '');

  it('layer: same output for plain, CRLF with a byte-order mark, gzip, and several files in a row', async () => {
    for (const args of [[plain], [crlf], [gz], [plain, crlf, gz]]) {
      const result = await both(['layer', '-q', ...args]);
      expect(result[0].stdout.split('\n').length).toBeGreaterThan(200);
      expectSame(result);
    }
  });

  it('output to a file or a slowly read pipe gets the same bytes, though both are written asynchronously', async () => {
    // Output buffers are filled again once written; test/io/output.test.ts checks the sinks say when that is.
    const big = file('big.csv', table(5, 4000));
    const one = await runFinorm(['layer', '-q', '--threads', '1', big]);
    expect(one.stdout.length).toBeGreaterThan(400_000);
    const env = { FINORM_PIECE_BYTES: '2000' };
    const out = `${dir}/big-out.csv`;
    const toFile = await runFinorm(['layer', '-q', '--threads', '2', '-o', out, big], { env });
    expect(toFile.code, toFile.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(one.stdout);
    // A reader that takes its time keeps writes pending (`-o` names an existing FIFO: written in place).
    const fifo = `${dir}/slow-out`;
    execFileSync('mkfifo', [fifo]);
    const read = slowlyRead(fifo);
    const toPipe = await runFinorm(['layer', '-q', '--threads', '2', '-o', fifo, big], { env });
    expect(toPipe.code, toPipe.stderr).toBe(0);
    expect((await read).toString('utf8')).toBe(one.stdout);
  });

  it('a record far longer than a piece is processed on the main thread, in its place', async () => {
    // Pieces of 300 bytes: a piece above 600 bytes (two pieces' worth) stays on the main thread.
    const rowsOf = (seed: number): string => table(seed, 100).replace(/^[^\n]*\n/, '');
    const long = file(
      'long.csv',
      table(6, 100) +
        `2024-02-01,T9,"${'Very long name, '.repeat(400)}",1.5,2.5,100,3e9\n` +
        rowsOf(7) +
        `2024-02-02,T9,"${'x'.repeat(9000)}",1.5,2.5,100,3e9\n` +
        rowsOf(8),
    );
    const [one, two] = await both(['layer', '-q', long]);
    expectSame([one, two]);
    expect(one.stdout).toContain('x'.repeat(9000));
    expectSameTable(await both(['batch', '-q', '-g', 'ticker', long]));
  });

  it('stdin: plain, gzip, next to a file, and spooled for the two passes of batch', async () => {
    const text = readFileSync(plain);
    expectSame(await both(['layer', '-q'], text));
    expectSame(await both(['layer', '-q'], gzipSync(text)));
    expectSame(await both(['layer', '-q', '-', crlf], text));
    expectSame(await both(['layer', '-q', '--output-format', 'ndjson', '-f', 'csv', gz, '-'], text));
    expectSameTable(await both(['batch', '-q'], text));
    const [fitOne, fitTwo] = await both(['fit', '-q'], text);
    expectSameTable([fitAsTable(fitOne), fitAsTable(fitTwo)], 20);
  });

  it('a named pipe given as a file is read once, on one thread', async () => {
    const fifo = `${dir}/rows.csv`;
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `cat "${plain}" > "${fifo}"`]);
    const written = new Promise((resolve) => writer.on('close', resolve));
    const viaFifo = await runFinorm(['layer', '-q', '--threads', '2', fifo]);
    await written;
    const direct = await runFinorm(['layer', '-q', '--threads', '1', plain]);
    expect(viaFifo.code, viaFifo.stderr).toBe(0);
    expect(viaFifo.stdout).toBe(direct.stdout);
  });

  it('layer with γ and β, clipping, precision, TSV and NDJSON output', async () => {
    expectSame(await both(['layer', '-q', '--clip', '1', '-p', '6', plain]));
    expectSame(await both(['layer', '-q', '--params', `${FIXTURES}params/layer-affine.json`, `${FIXTURES}sp500-sample.csv`]));
    expectSame(await both(['layer', '-q', '--output-format', 'ndjson', plain]));
    const tsv = file('plain.tsv', readFileSync(plain, 'utf8').replaceAll(',', '\t'));
    expectSame(await both(['layer', '-q', '--output-format', 'tsv', '-c', 'open,close,volume', tsv]));
  });

  it('batch: two passes, and with the statistics of a parameter file', async () => {
    expectSameTable(await both(['batch', '-q', plain, gz]));
    const fit = await runFinorm(['fit', '-o', params, plain]);
    expect(fit.code).toBe(0);
    expectSame(await both(['batch', '-q', '--params', params, plain]));
    expectSame(await both(['batch', '-q', '--params', `${FIXTURES}params/sp500-fit.json`, `${FIXTURES}sp500-financials.csv`]));
  });

  it('--group-by: the fit per group and the two passes of batch', async () => {
    const grouped = await both(['batch', '-q', '--group-by', 'ticker', '-c', 'open,close,volume,mkt_cap', plain, gz]);
    expectSameTable(grouped);
    expectSameTable(await both(['batch', '-q', '-g', 'ticker,date', '-c', 'open,close'], readFileSync(plain)));
    const [a, b] = (await both(['fit', '-g', 'ticker', '-c', 'open,close', plain])).map((run) => JSON.parse(run.stdout));
    // The same groups in the same order (first appearance), with the same statistics to rounding.
    expect(b.groups.map((g: { key: string[] }) => g.key)).toEqual(a.groups.map((g: { key: string[] }) => g.key));
    expect(a.groups.length).toBe(7);
    const numbers = (fit: unknown): number[] => JSON.stringify(fit).match(/-?\d+(\.\d+)?(e[-+]?\d+)?/g)?.map(Number) ?? [];
    const [x, y] = [numbers(a), numbers(b)];
    expect(y.length).toBe(x.length);
    x.forEach((value, i) => expect(Math.abs(y[i] - value)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(value))));
  });

  it('the summary and the --stats file are the same', async () => {
    const stats1 = `${dir}/stats1.json`;
    const stats2 = `${dir}/stats2.json`;
    const one = await runFinorm(['layer', '--threads', '1', '--summary', '--stats', stats1, plain]);
    const two = await runFinorm(['layer', '--threads', '2', '--summary', '--stats', stats2, plain], { env: { FINORM_PIECE_BYTES: '300' } });
    expect(two.stderr).toBe(one.stderr);
    expect(two.stdout).toBe(one.stdout);
    // Moments from exact sums: the same bits however the rows were cut and shared out.
    const { execution: ranOne, ...a } = JSON.parse(readFileSync(stats1, 'utf8'));
    const { execution: ranTwo, ...b } = JSON.parse(readFileSync(stats2, 'utf8'));
    expect(b).toEqual(a);
    // And the record of how each ran shows that the workers did run.
    expect(ranOne).toMatchObject({ threads: 1, passes: [{ workers: 0, piecesPerWorker: [] }] });
    expect(ranOne.pieces).toBe(ranOne.passes[0].piecesOnMainThread);
    expect(ranTwo.threads).toBe(2);
    expect(ranTwo.pieces).toBeGreaterThan(50);
    expect(ranTwo.passes[0].piecesOnMainThread).toBe(0);
    for (const pieces of ranTwo.passes[0].piecesPerWorker) expect(pieces).toBeGreaterThan(10);
  });

  it('bad rows: the first stops the run at the same line; skipped rows are counted and shown alike', async () => {
    const features = ['-c', 'open,close,volume,mkt_cap'];
    const stop = await both(['layer', ...features, bad]);
    expect(stop[0].stderr).toMatch(/bad\.csv:\d+: column "close": value "n\/a\?" is not a number/);
    expectSame(stop, 1);
    const skip = await both(['layer', ...features, '--on-error', 'skip', '--summary', bad]);
    expect(skip[0].stderr).toMatch(/skipped/);
    expectSame(skip);
    expectSameTable(await both(['batch', ...features, '--on-error', 'skip', '--summary', bad]));
  });

  it('fit and stats: the same statistics, to the last bit or two', async () => {
    const fit = await both(['fit', plain, crlf]);
    expect(fit[0].code, fit[0].stderr).toBe(0);
    const [a, b] = fit.map((run) => JSON.parse(run.stdout));
    expect(b.columns.map((c: { name: string }) => c.name)).toEqual(a.columns.map((c: { name: string }) => c.name));
    a.columns.forEach((column: Record<string, unknown>, j: number) => {
      for (const [key, x] of Object.entries(column)) {
        const y = b.columns[j][key];
        if (typeof x !== 'number') {
          expect(y).toEqual(x);
          continue;
        }
        // meanLo is the rounding error of the mean: it counts as part of the mean.
        const scale = Math.abs(key === 'meanLo' ? (column.mean as number) : x);
        expect(Math.abs(y - x), `${column.name} ${key}`).toBeLessThanOrEqual(4e-16 * scale);
      }
    });
    // Quantile sketches merge exactly, and the table rounds the moments.
    expectSame(await both(['stats', plain, crlf, gz]));
    const stats = await both(['stats', '--json', '--quantiles', '0.01,0.5,0.99', plain]);
    const [s1, s2] = stats.map((run) => JSON.parse(run.stdout));
    s1.columns.forEach((column: Record<string, unknown>, j: number) => {
      const other = s2.columns[j];
      expect(other.quantiles).toEqual(column.quantiles);
      expect([other.count, other.missing, other.min, other.max]).toEqual([column.count, column.missing, column.min, column.max]);
      for (const key of ['mean', 'std'] as const) {
        expect(Math.abs(other[key] - (column[key] as number))).toBeLessThanOrEqual(4e-16 * Math.abs(column[key] as number));
      }
    });
  });

  it('the first error in line order wins, and every row before it is written', async () => {
    // γ = 1e308 on e: a row whose e stands 2σ out overflows (z = 2 with five values).
    const gamma = file(
      'huge-gamma.json',
      JSON.stringify({ format: 'finorm-params', version: 1, columns: 'abcde'.split('').map((name) => ({ name, gamma: name === 'e' ? 1e308 : 1, beta: 0 })) }),
    );
    const ordinary = Array.from({ length: 400 }, (_, i) => `${i},${i + 1},${i + 2},${i + 3},${i + 4}`);
    const withRows = (rows: [number, string][]): string => {
      const lines = ['a,b,c,d,e', ...ordinary];
      for (const [at, row] of rows) lines.splice(at, 0, row);
      return lines.join('\n') + '\n';
    };
    const overflowFirst = file('overflow-first.csv', withRows([[150, '0,0,0,0,10'], [300, '1,2,x,4,5']]));
    const badFirst = file('bad-first.csv', withRows([[150, '1,2,x,4,5'], [300, '0,0,0,0,10']]));
    const a = await both(['layer', '--params', gamma, overflowFirst]);
    expect(a[0].stderr).toMatch(/overflow-first\.csv:151: column "e": the normalized value overflows/);
    expect(a[0].stdout.trimEnd().split('\n')).toHaveLength(150);
    expectSame(a, 1);
    const b = await both(['layer', '--params', gamma, badFirst]);
    expect(b[0].stderr).toMatch(/bad-first\.csv:151: column "c": value "x" is not a number/);
    expect(b[0].stdout.trimEnd().split('\n')).toHaveLength(150);
    expectSame(b, 1);
  });

  it('a later file whose header differs fails the same way', async () => {
    const other = file('other.csv', table(5, 50).replace('mkt_cap', 'market_cap'));
    const result = await both(['layer', '-q', plain, other]);
    expect(result[0].stderr).toMatch(/header differs/);
    expectSame(result, 1);
  });

  it('an unterminated quote is reported on the line it opened, whatever piece it falls in', async () => {
    const after = '2024-02-02,T1,plain,1,2,3,4\n'.repeat(20);
    const broken = file('broken.csv', table(6, 300) + '2024-02-01,T1,"never closed,1,2,3,4\n' + after);
    const result = await both(['layer', '-q', broken]);
    expect(result[0].stderr).toMatch(/unterminated quoted field \(the quote opened on line 3\d\d/);
    expectSame(result, 1);
  });

  it('text that is not UTF-8 is reported with its line and byte, whatever piece it falls in', async () => {
    // Far enough in (240 KB) that a worker's piece, not the reader that finds the header, meets it.
    const latin1 = Buffer.from('2024-02-01,T1,Soci\xe9t\xe9 G\xe9n\xe9rale,1,2,3,4\n', 'latin1');
    const bad = file('latin1.csv', Buffer.concat([Buffer.from(table(7, 4000)), latin1, Buffer.from(table(8, 20).replace(/^[^\n]*\n/, ''))]));
    const result = await both(['layer', '-q', bad]);
    const line = table(7, 4000).split('\n').length;
    expect(result[0].stderr).toBe(`finorm: ${bad}:${line}: not valid UTF-8 text (byte 0xE9); if it is Latin-1, convert it first: iconv -f latin1 -t utf-8\n`);
    expect(result[1].stderr).toBe(result[0].stderr);
    expect(result[1].code).toBe(result[0].code);
    // A named pipe too: pieces carry their lines, so nothing is read again, and no hang.
    const fifo = `${dir}/latin1-pipe.csv`;
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `cat "${bad}" > "${fifo}"`]);
    const written = new Promise((resolve) => writer.on('close', resolve));
    const viaFifo = await runFinorm(['layer', '-q', fifo]);
    await written;
    expect(viaFifo.code).toBe(result[0].code);
    expect(viaFifo.stderr).toBe(`finorm: ${fifo}:${line}: not valid UTF-8 text (byte 0xE9); if it is Latin-1, convert it first: iconv -f latin1 -t utf-8\n`);
  });

  it('a record of megabytes stays on the main thread, beyond a worker heap', async () => {
    // 12 MB of text outside Latin-1 in one field: decoded, copied and rendered, more than a worker's old generation takes.
    const name = '€ Société '.repeat(1_000_000);
    const big = file('big-record.csv', `${table(9, 50)}2024-03-01,T9,"${name}",1.5,2.5,100,3e9\n${table(10, 50).replace(/^[^\n]*\n/, '')}`);
    const one = await runFinorm(['layer', '-q', '--threads', '1', big]);
    const two = await runFinorm(['layer', '-q', '--threads', '2', big]);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout === one.stdout).toBe(true);
    expect(one.stdout.length).toBeGreaterThan(10_000_000);
  });
});
