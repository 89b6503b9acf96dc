#!/usr/bin/env node
// npm run bench [-- --rows N] [--peers] [--memory-check] [--repeat N] [--threads N] [--only a,b] [--json]
//
// Generates a deterministic synthetic table (date, ticker and 16 numeric
// features from 0.01 to 5e9, about 160 bytes a row), and the same table with
// the ticker quoted and holding a comma ("T000 Inc., Class A"), in a
// temporary directory; runs the built CLI on it the way a user would, and
// prints for each command its wall time, MB/s, rows/s and the child's peak
// RSS. With --peers, Polars (nodejs-polars) and DuckDB (@duckdb/node-api)
// do the same jobs on the same files in the same run, and each finorm
// command's time is given as a multiple of Polars': the peers are installed,
// pinned, into a cache outside the repository (FINORM_BENCH_PEERS, else
// ~/.cache/finorm-bench-peers), never as dependencies of finorm. A floor
// (Node copying the file to /dev/null) is measured in every run. The table is
// also written as Parquet (snappy, DuckDB's default row groups) by DuckDB,
// finorm's dev dependency, for the Parquet rows; their size column is the
// Parquet file's.
// Nothing is committed: the data is removed at the end.

import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/finorm.js', import.meta.url));
const RSS_PROBE = new URL('./rss-probe.mjs', import.meta.url).href;
const CSV_REFERENCE = fileURLToPath(new URL('./csv-reference.mjs', import.meta.url));
const PEERS_SCRIPT = fileURLToPath(new URL('./peers.mjs', import.meta.url));

/** The peers, pinned. Polars' native part is a package per platform, which npm leaves out when an engine check fails. */
const POLARS = '0.26.1';
const DUCKDB = '1.5.6-r.1';

function parseArgs(argv) {
  const args = { rows: 1_000_000, repeat: 1, json: false, memoryCheck: false, only: undefined, threads: undefined, peers: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--rows') args.rows = Number(value());
    else if (a === '--repeat') args.repeat = Number(value());
    else if (a === '--json') args.json = true;
    else if (a === '--memory-check') args.memoryCheck = true;
    // Row names hold ", " ("layer, Parquet → Parquet"): only a comma without a space after it separates names.
    else if (a === '--only') args.only = value().split(/,(?! )/);
    else if (a === '--threads') args.threads = value();
    else if (a === '--peers') args.peers = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: npm run bench -- [--rows N (1000000)] [--peers] [--repeat N (1)] [--threads N (finorm\'s default)] [--memory-check] [--only name,...] [--json]');
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (!(Number.isInteger(args.rows) && args.rows > 0)) throw new Error('--rows must be a positive whole number');
  if (!(Number.isInteger(args.repeat) && args.repeat > 0)) throw new Error('--repeat must be a positive whole number');
  return args;
}

/** mulberry32: a small seeded generator, so every run writes the same bytes. */
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FEATURES = [
  // name, magnitude, decimals: prices, ratios, yields, volumes, caps
  ['open', 150, 4], ['high', 155, 4], ['low', 145, 4], ['close', 150, 4],
  ['vwap', 150, 4], ['ret_1d', 0.02, 6], ['ret_5d', 0.05, 6], ['vol_20d', 0.3, 6],
  ['volume', 5e6, 0], ['turnover', 7e8, 2], ['pe', 25, 6], ['pb', 4, 6],
  ['div_yield', 0.02, 5], ['mkt_cap', 5e9, 0], ['spread_bp', 3, 3], ['beta', 1.1, 4],
];

/**
 * Writes `rows` rows of the benchmark table to `path`; returns its size in
 * bytes. `quoted`: the ticker is a quoted name with a comma, as in real files.
 */
function writeDataset(path, rows, quoted = false) {
  const next = generator(20261125);
  const tickers = Array.from({ length: 500 }, (_, i) => (quoted ? `"T${String(i).padStart(3, '0')} Inc., Class A"` : 'T' + String(i).padStart(3, '0')));
  const fd = openSync(path, 'w');
  let chunk = 'date,ticker,' + FEATURES.map((f) => f[0]).join(',') + '\n';
  const day = new Date(Date.UTC(2000, 0, 3));
  for (let r = 0; r < rows; r++) {
    if (r % tickers.length === 0 && r > 0) day.setUTCDate(day.getUTCDate() + 1);
    let line = day.toISOString().slice(0, 10) + ',' + tickers[r % tickers.length];
    for (const [, magnitude, decimals] of FEATURES) {
      // Log-uniform over two orders of magnitude around the column's scale, signed for returns.
      let x = magnitude * Math.pow(10, next() * 2 - 1);
      if (magnitude < 0.1 && next() < 0.5) x = -x;
      line += ',' + (x < 0.01 && x > -0.01 && decimals < 3 ? '0.01' : x.toFixed(decimals));
    }
    chunk += line + '\n';
    if (chunk.length > 1 << 20) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk);
  closeSync(fd);
  return statSync(path).size;
}

/** Runs one child process; resolves to its wall time (s) and peak RSS (bytes). */
function runChild(args, { input, rssFile, env = {} }) {
  return new Promise((resolve, reject) => {
    const stdin = input ? openSync(input, 'r') : 'ignore';
    const devnull = openSync('/dev/null', 'w');
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--import', RSS_PROBE, ...args], {
      stdio: [stdin, devnull, 'pipe'],
      env: { ...process.env, ...env, FINORM_BENCH_RSS_FILE: rssFile, NO_COLOR: '1' },
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (typeof stdin === 'number') closeSync(stdin);
      closeSync(devnull);
      if (code !== 0) return reject(new Error(`${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
      let rss = NaN;
      try {
        // maxRSS is in kilobytes.
        rss = Number(readFileSync(rssFile, 'utf8')) * 1024;
      } catch {
        // The probe did not run (killed by a signal): leave RSS unknown.
      }
      resolve({ seconds, rss });
    });
  });
}

/**
 * The commands measured, as a user would type them (with --threads N if
 * given); `peer` names the peers' job for the same work.
 */
function commandsFor(dir, data, quoted, threads, parquet) {
  const params = join(dir, 'fit.json');
  const parquetOut = join(dir, 'out.parquet');
  const commands = [
    { name: 'floor (read + write, no parsing)', args: ['-e', 'require("fs").createReadStream(process.argv[1]).pipe(process.stdout)', data], baseline: true },
    // The first issue's "no math at all" pipeline: a CPU-bound yardstick for comparing machines.
    { name: 'csv-parse → csv-stringify, no math', args: [CSV_REFERENCE, data], baseline: true },
    { name: 'layer', args: [BIN, 'layer', data], peer: ['layer', data] },
    { name: 'batch (two passes)', args: [BIN, 'batch', data], peer: ['batch', data] },
    { name: 'fit', args: [BIN, 'fit', '-o', params, data], peer: ['fit', data] },
    { name: 'batch --params', args: [BIN, 'batch', '--params', params, data], peer: ['batch-params', data, params] },
    { name: 'stats', args: [BIN, 'stats', '--csv', data], peer: ['stats', data] },
    { name: 'layer, CSV → NDJSON', args: [BIN, 'layer', '--output-format', 'ndjson', data], peer: ['layer-ndjson', data] },
    { name: 'batch --group-by ticker', args: [BIN, 'batch', '--group-by', 'ticker', data], peer: ['batch-groups', data] },
    { name: 'batch --window 20 -g ticker', args: [BIN, 'batch', '--window', '20', '--group-by', 'ticker', data], peer: ['window', data] },
    { name: 'layer, quoted ticker', args: [BIN, 'layer', quoted], peer: ['layer', quoted] },
    { name: 'layer, Parquet → Parquet', args: [BIN, 'layer', '-o', parquetOut, parquet], peer: ['layer-parquet', parquet, parquetOut] },
    { name: 'layer, Parquet → CSV', args: [BIN, 'layer', '--output-format', 'csv', parquet], peer: ['layer', parquet] },
  ];
  if (threads === undefined) return commands;
  // Every finorm command here takes --threads right after its name.
  return commands.map((c) => (c.args[0] === BIN ? { ...c, args: [BIN, c.args[1], '--threads', threads, ...c.args.slice(2)] } : c));
}

/** Jobs DuckDB is given too (its SQL for the others would measure SQL, not the engine). */
const DUCKDB_JOBS = new Set(['layer', 'batch', 'batch-params', 'fit', 'layer-parquet']);

/** The table as Parquet, written by DuckDB (snappy, its default row groups of 122,880 rows). */
async function writeParquet(csv, parquet) {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const connection = await (await DuckDBInstance.create(':memory:')).connect();
  await connection.run(`COPY (SELECT * FROM read_csv('${csv}', header = true)) TO '${parquet}' (FORMAT parquet, COMPRESSION snappy)`);
  connection.closeSync?.();
  return statSync(parquet).size;
}

/** Installs the pinned peers into a cache outside the repository, once; returns the directory. */
function installPeers() {
  const root = process.env.FINORM_BENCH_PEERS ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'finorm-bench-peers');
  const dir = join(root, `polars-${POLARS}-duckdb-${DUCKDB}`);
  const platform = `${process.platform}-${process.arch}${process.platform === 'linux' ? (process.report?.getReport().header.glibcVersionRuntime ? '-gnu' : '-musl') : ''}`;
  const packages = [`nodejs-polars@${POLARS}`, `nodejs-polars-${platform}@${POLARS}`, `@duckdb/node-api@${DUCKDB}`];
  if (!existsSync(join(dir, 'node_modules', 'nodejs-polars')) || !existsSync(join(dir, 'node_modules', '@duckdb', 'node-api'))) {
    mkdirSync(dir, { recursive: true });
    console.error(`bench: installing ${packages.join(', ')} into ${dir}`);
    execFileSync('npm', ['install', '--prefix', dir, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel', 'error', ...packages], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  return dir;
}

async function measure(rows, options) {
  const dir = mkdtempSync(join(tmpdir(), 'finorm-bench-'));
  try {
    const data = join(dir, 'bench.csv');
    const quoted = join(dir, 'bench-quoted.csv');
    const bytes = writeDataset(data, rows);
    writeDataset(quoted, rows, true);
    const parquet = join(dir, 'bench.parquet');
    const parquetBytes = await writeParquet(data, parquet);
    const results = [];
    const run = async (name, args, env) => {
      let best;
      for (let i = 0; i < options.repeat; i++) {
        const result = await runChild(args, { rssFile: join(dir, 'rss'), env });
        if (!best || result.seconds < best.seconds) best = { ...result, rss: Math.max(result.rss, best?.rss ?? 0) };
      }
      const size = args.includes(quoted) ? statSync(quoted).size : args.includes(parquet) ? parquetBytes : bytes;
      return { name, seconds: best.seconds, mbPerSecond: size / 1e6 / best.seconds, rowsPerSecond: rows / best.seconds, peakRssMb: best.rss / 1e6 };
    };
    for (const command of commandsFor(dir, data, quoted, options.threads, parquet)) {
      if (options.only && !command.baseline && !options.only.some((o) => command.name.startsWith(o))) continue;
      const result = await run(command.name, command.args);
      // The peers right after the same command, so that drift between them stays small.
      if (options.peers && command.peer) {
        const env = { FINORM_BENCH_PEERS: options.peersDir };
        result.polars = await run(`Polars ${command.peer[0]}`, [PEERS_SCRIPT, 'polars', ...command.peer], env);
        result.ratioToPolars = result.seconds / result.polars.seconds;
        if (DUCKDB_JOBS.has(command.peer[0])) {
          result.duckdb = await run(`DuckDB ${command.peer[0]}`, [PEERS_SCRIPT, 'duckdb', ...command.peer], env);
          result.ratioToDuckdb = result.seconds / result.duckdb.seconds;
        }
      }
      results.push(result);
    }
    const floor = results[0].seconds;
    const reference = results[1].seconds;
    for (const r of results) {
      r.ratioToFloor = r.seconds / floor;
      r.ratioToCsvParse = r.seconds / reference;
    }
    return { rows, bytes, parquetBytes, results };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function table(run) {
  const peers = run.results.some((r) => r.polars);
  const header = ['command', 'time s', 'MB/s', 'rows/s', 'peak RSS MB', '× floor', '× csv-parse'];
  if (peers) header.push('Polars s', 'Polars RSS MB', '× Polars', 'DuckDB s', '× DuckDB');
  const fixed = (x, digits) => (x === undefined || Number.isNaN(x) ? '' : x.toFixed(digits));
  const lines = run.results.map((r) => {
    const cells = [
      r.name,
      r.seconds.toFixed(2),
      r.mbPerSecond.toFixed(1),
      Math.round(r.rowsPerSecond).toLocaleString('en-US'),
      Number.isNaN(r.peakRssMb) ? '?' : r.peakRssMb.toFixed(0),
      r.ratioToFloor.toFixed(1),
      r.ratioToCsvParse.toFixed(2),
    ];
    if (peers) cells.push(fixed(r.polars?.seconds, 2), fixed(r.polars?.peakRssMb, 0), fixed(r.ratioToPolars, 2), fixed(r.duckdb?.seconds, 2), fixed(r.ratioToDuckdb, 2));
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [row(header), widths.map((w) => '-'.repeat(w)).join('  '), ...lines.map(row)].join('\n');
}

/** Median wall time (ms) of `finorm --version` and of `finorm layer` on a 10-row file. */
async function startup() {
  const dir = mkdtempSync(join(tmpdir(), 'finorm-bench-'));
  try {
    const data = join(dir, 'ten.csv');
    writeDataset(data, 10);
    const median = async (args) => {
      const times = [];
      for (let i = 0; i < 7; i++) times.push((await runChild(args, { rssFile: join(dir, 'rss') })).seconds * 1000);
      return times.sort((a, b) => a - b)[3];
    };
    return { versionMs: await median([BIN, '--version']), tenRowsMs: await median([BIN, 'layer', data]) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (args.peers) args.peersDir = installPeers();
  const sizes = args.memoryCheck ? [args.rows, args.rows * 4] : [args.rows];
  const runs = [];
  for (const rows of sizes) runs.push(await measure(rows, args));
  const start = await startup();
  if (args.json) {
    process.stdout.write(JSON.stringify({ node: process.version, date: new Date().toISOString(), startup: start, runs }, null, 2) + '\n');
    return;
  }
  for (const run of runs) {
    console.log(`\n${run.rows.toLocaleString('en-US')} rows, ${(run.bytes / 1e6).toFixed(1)} MB of CSV, ${(run.parquetBytes / 1e6).toFixed(1)} MB of Parquet (node ${process.version})\n`);
    console.log(table(run));
  }
  console.log(`\nstartup (median of 7): finorm --version ${start.versionMs.toFixed(0)} ms, layer on 10 rows ${start.tenRowsMs.toFixed(0)} ms`);
  if (runs.length === 2) {
    console.log('\npeak RSS, MB: ' + runs[0].results.map((r, i) => `${r.name}: ${r.peakRssMb.toFixed(0)} → ${runs[1].results[i].peakRssMb.toFixed(0)}`).join('; '));
  }
}

main().catch((error) => {
  console.error(`bench: ${error.message}`);
  process.exit(1);
});
