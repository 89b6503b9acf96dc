// The worker-thread path must be invisible: for every input and option, the
// same bytes on stdout, the same messages on stderr and the same exit code as
// one thread, fitted statistics included (they come from exact sums). Small
// pieces (FINORM_PIECE_BYTES) make even small files many pieces, so records,
// quotes and errors fall on every kind of boundary.

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

  it('a record far longer than a piece: the piece grows to hold it, in its place', async () => {
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
    expectSame(await both(['batch', '-q', '-g', 'ticker', long]));
  });

  it('stdin: plain, gzip, next to a file, and spooled for the two passes of batch', async () => {
    const text = readFileSync(plain);
    expectSame(await both(['layer', '-q'], text));
    expectSame(await both(['layer', '-q'], gzipSync(text)));
    expectSame(await both(['layer', '-q', '-', crlf], text));
    expectSame(await both(['layer', '-q', '--output-format', 'ndjson', '-f', 'csv', gz, '-'], text));
    expectSame(await both(['batch', '-q'], text));
    expectSame(await both(['fit', '-q'], text));
  });

  it('a named pipe given as a file is read once, by workers too', async () => {
    const fifo = `${dir}/rows.csv`;
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `cat "${plain}" > "${fifo}"`]);
    const written = new Promise((resolve) => writer.on('close', resolve));
    const viaFifo = await runFinorm(['layer', '-q', '--threads', '2', fifo]);
    await written;
    const direct = await runFinorm(['layer', '-q', '--threads', '1', plain]);
    expect(viaFifo.code, `signal ${viaFifo.signal}: ${viaFifo.stderr}`).toBe(0);
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
    expectSame(await both(['batch', '-q', plain, gz]));
    const fit = await runFinorm(['fit', '-o', params, plain]);
    expect(fit.code).toBe(0);
    expectSame(await both(['batch', '-q', '--params', params, plain]));
    expectSame(await both(['batch', '-q', '--params', `${FIXTURES}params/sp500-fit.json`, `${FIXTURES}sp500-financials.csv`]));
  });

  it('--group-by: the fit per group and the two passes of batch', async () => {
    expectSame(await both(['batch', '-q', '--group-by', 'ticker', '-c', 'open,close,volume,mkt_cap', plain, gz]));
    expectSame(await both(['batch', '-q', '-g', 'ticker,date', '-c', 'open,close'], readFileSync(plain)));
    // The same groups in the same order (first appearance), with the same statistics, to the last bit.
    const fits = await both(['fit', '-g', 'ticker', '-c', 'open,close', plain]);
    expectSame(fits);
    expect(JSON.parse(fits[0].stdout).groups.length).toBe(7);
  });

  it('--group-by with thousands of groups (fit, two passes, a fit applied with unseen groups, --inverse), the threads handing their tables over at every piece: the same bytes', async () => {
    const random = seededRandom(77);
    const lines = ['key,a,b,c'];
    for (let r = 0; r < 8000; r++) lines.push(`K${Math.floor(random() * 3000)},${(100 * random()).toFixed(3)},${random() < 0.1 ? '' : (random() - 0.5).toFixed(6)},${Math.floor(random() * 1e9)}`);
    const keys = file('keys.csv', lines.join('\n') + '\n');
    const fit = `${dir}/keys-fit.ndjson`;
    expect((await runFinorm(['fit', '-g', 'key', '-o', fit, keys])).code).toBe(0);
    // A second input with keys the fit lacks (K3000…) and columns in another order.
    const more = ['b,key,c,a', ...lines.slice(1, 2000).map((line) => line.split(',')).map(([k, a, b, c]) => `${b},${k},${c},${a}`)];
    for (let r = 0; r < 500; r++) more.push(`0.5,K${3000 + (r % 40)},${r},${r / 7}`);
    const other = file('keys-more.csv', more.join('\n') + '\n');
    for (const command of [
      ['fit', '-g', 'key'],
      ['batch', '-q', '-g', 'key'],
      ['batch', '-q', '--params', fit, '--unseen', 'global', '--clip', '2'],
      ['batch', '-q', '--params', fit, '--unseen', 'global', '--inverse'],
    ]) {
      const input = command.includes('--params') ? other : keys;
      const one = await runFinorm([command[0], '--threads', '1', ...command.slice(1), input]);
      expect(one.code, one.stderr).toBe(0);
      const two = await runFinorm([command[0], '--threads', '2', ...command.slice(1), input], { env: { FINORM_PIECE_BYTES: '2000', FINORM_GROUP_TABLE_BYTES: '1' } });
      expect(two.code, two.stderr).toBe(0);
      expect(two.stdout === one.stdout, command.join(' ')).toBe(true);
    }
  });

  it('batch -g date (a cross-section per day) on a table of a few megabytes: the same bytes for any threads and pieces', async () => {
    // The shape of the benchmark table: 20 tickers a day, prices, returns, volumes, caps.
    const random = seededRandom(2024);
    const lines = ['date,ticker,open,close,ret,volume,mkt_cap'];
    for (let r = 0; r < 30_000; r++) {
      const price = 150 * 10 ** (random() * 2 - 1);
      lines.push(
        `2020-${String(1 + Math.floor(r / 20 / 28) % 12).padStart(2, '0')}-${String(1 + (Math.floor(r / 20) % 28)).padStart(2, '0')},T${r % 20},` +
          `${price.toFixed(4)},${(price * (1 + (random() - 0.5) / 20)).toFixed(4)},${((random() - 0.5) / 10).toFixed(6)},${Math.floor(random() * 1e7)},${Math.floor(random() * 5e10)}`,
      );
    }
    const panel = file('panel.csv', lines.join('\n') + '\n');
    const one = await runFinorm(['batch', '-q', '--threads', '1', '-g', 'date', panel]);
    expect(one.code, one.stderr).toBe(0);
    expect(one.stdout.length).toBeGreaterThan(2_000_000);
    for (const [threads, pieceBytes] of [['2', '300'], ['2', '65536'], ['3', '4096']]) {
      const other = await runFinorm(['batch', '-q', '--threads', threads, '-g', 'date', panel], { env: { FINORM_PIECE_BYTES: pieceBytes } });
      expect(other.code, other.stderr).toBe(0);
      expect(other.stdout === one.stdout, `--threads ${threads}, pieces of ${pieceBytes} bytes`).toBe(true);
    }
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
    expectSame(await both(['batch', ...features, '--on-error', 'skip', '--summary', bad]));
  });

  it('fit and stats: the same statistics, to the last bit, and the workers ran', async () => {
    expectSame(await both(['fit', plain, crlf]));
    expectSame(await both(['stats', plain, crlf, gz]));
    const [one, two] = await both(['stats', '--json', '--quantiles', '0.01,0.5,0.99', plain]);
    const { execution: ranOne, ...a } = JSON.parse(one.stdout);
    const { execution: ranTwo, ...b } = JSON.parse(two.stdout);
    expect(b).toEqual(a);
    expect(ranOne.threads).toBe(1);
    expect(ranTwo.threads).toBe(2);
    for (const pieces of ranTwo.passes[0].piecesPerWorker) expect(pieces).toBeGreaterThan(10);
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
    const stats = `${dir}/big-record.stats.json`;
    const two = await runFinorm(['layer', '-q', '--threads', '2', '--stats', stats, big]);
    expect(two.code, two.stderr).toBe(0);
    expect(two.stdout === one.stdout).toBe(true);
    expect(one.stdout.length).toBeGreaterThan(10_000_000);
    // The piece that holds it went to the main thread; the others to the workers.
    const [pass] = JSON.parse(readFileSync(stats, 'utf8')).execution.passes;
    expect(pass.piecesOnMainThread).toBe(1);
    expect(pass.piecesPerWorker.reduce((a: number, b: number) => a + b, 0)).toBe(pass.pieces - 1);
  });
});
