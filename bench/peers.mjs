#!/usr/bin/env node
// The peers' side of `npm run bench -- --peers`: one job of the benchmark
// done by Polars (nodejs-polars) or DuckDB (@duckdb/node-api), on the same
// file, writing the same kind of output to stdout:
//
//   node peers.mjs <polars|duckdb> <job> <data.csv|data.parquet> [fit.json | out.parquet]
//
// Jobs: layer (per-row z-score of the 16 features), batch (per-column
// z-score, the statistics computed over the file), batch-params (per-column
// with the statistics of finorm's fit.json), fit (mean, variance, min, max,
// count per column), stats (summary statistics with quantiles), layer-ndjson,
// batch-groups (per ticker), window (trailing 20 rows per ticker), and
// layer-parquet (layer from Parquet to a Parquet file; `layer` on a .parquet
// input reads Parquet and writes CSV). The peers
// are loaded from FINORM_BENCH_PEERS (a directory outside the repository,
// where bench.mjs installs them); they are never dependencies of finorm.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const [engine, job, data, extra] = process.argv.slice(2);
const require = createRequire(`${process.env.FINORM_BENCH_PEERS}/`);
const EPSILON = 1e-5;
const parquet = data.endsWith('.parquet');
// The bench table's columns: date, ticker, then the features (read from the CSV's header).
const header = parquet ? undefined : readFileSync(data, 'utf8').slice(0, 4096).split('\n')[0].split(',');
let features = header?.slice(2);
const params = job === 'batch-params' ? JSON.parse(readFileSync(extra, 'utf8')) : undefined;
const parquetOut = job === 'layer-parquet' ? extra : undefined;
const fitted = (name) => params.columns.find((c) => c.name === name);

if (engine === 'polars') await polars();
else if (engine === 'duckdb') await duckdb();
else throw new Error(`unknown engine ${engine}`);

async function polars() {
  const pl = require('nodejs-polars');
  const frame = parquet ? pl.readParquet(data) : pl.readCSV(data, { inferSchemaLength: 1000 });
  features ??= frame.columns.slice(2);
  const c = (name) => pl.col(name);
  const root = (expr) => expr.add(EPSILON).pow(0.5);
  let out;
  switch (job) {
    case 'layer':
    case 'layer-parquet':
    case 'layer-ndjson': {
      const mean = pl.sumHorizontal(features.map(c)).div(features.length).alias('__mean');
      const withMean = frame.withColumns(mean);
      const variance = pl.sumHorizontal(features.map((f) => c(f).sub(c('__mean')).pow(2))).div(features.length).alias('__var');
      out = withMean
        .withColumns(variance)
        .withColumns(...features.map((f) => c(f).sub(c('__mean')).div(root(c('__var'))).alias(f)))
        .drop(['__mean', '__var']);
      break;
    }
    case 'batch':
      out = frame.withColumns(...features.map((f) => c(f).sub(c(f).mean()).div(root(c(f).var(0))).alias(f)));
      break;
    case 'batch-params':
      out = frame.withColumns(...features.map((f) => c(f).sub(fitted(f).mean).div(Math.sqrt(fitted(f).variance + EPSILON)).alias(f)));
      break;
    case 'batch-groups':
      out = frame.withColumns(...features.map((f) => c(f).sub(c(f).mean().over('ticker')).div(root(c(f).var(0).over('ticker'))).alias(f)));
      break;
    case 'window':
      out = frame.withColumns(
        ...features.map((f) => c(f).sub(c(f).rollingMean(20).over('ticker')).div(root(c(f).rollingVar({ windowSize: 20, ddof: 0 }).over('ticker'))).alias(f)),
      );
      break;
    case 'fit': {
      const stats = frame.select(
        ...features.flatMap((f) => [c(f).mean().alias(`${f} mean`), c(f).var(0).alias(`${f} var`), c(f).min().alias(`${f} min`), c(f).max().alias(`${f} max`), c(f).count().alias(`${f} n`)]),
      );
      process.stdout.write(JSON.stringify(stats.toRecords()) + '\n');
      return;
    }
    case 'stats':
      process.stdout.write(String(frame.select(...features).describe()) + '\n');
      return;
    default:
      throw new Error(`unknown job ${job}`);
  }
  if (job === 'layer-ndjson') out.writeJSON('/dev/stdout', { format: 'lines' });
  else if (job === 'layer-parquet') out.writeParquet(parquetOut, { compression: 'snappy' });
  else out.writeCSV('/dev/stdout');
}

async function duckdb() {
  const { DuckDBInstance } = await import(require.resolve('@duckdb/node-api'));
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  const source = parquet ? `read_parquet('${data}')` : `read_csv('${data}', header = true)`;
  if (features === undefined) {
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`);
    features = described.getRows().map((row) => String(row[0])).slice(2);
  }
  const q = (name) => `"${name}"`;
  const z = (f, mean, variance) => `(${q(f)} - (${mean})::DOUBLE) / sqrt((${variance})::DOUBLE + ${EPSILON}) AS ${q(f)}`;
  let select;
  switch (job) {
    case 'layer':
    case 'layer-parquet': {
      const mean = `(${features.map(q).join(' + ')}) / ${features.length}`;
      const withMean = `SELECT *, ${mean} AS __mean FROM ${source}`;
      const variance = `(${features.map((f) => `(${q(f)} - __mean) * (${q(f)} - __mean)`).join(' + ')}) / ${features.length}`;
      select = `SELECT date, ticker, ${features.map((f) => z(f, '__mean', '__var')).join(', ')} FROM (SELECT *, ${variance} AS __var FROM (${withMean}))`;
      break;
    }
    case 'batch':
      select = `SELECT date, ticker, ${features.map((f) => z(f, `avg(${q(f)}) OVER ()`, `var_pop(${q(f)}) OVER ()`)).join(', ')} FROM ${source}`;
      break;
    case 'batch-params':
      select = `SELECT date, ticker, ${features.map((f) => z(f, fitted(f).mean, fitted(f).variance)).join(', ')} FROM ${source}`;
      break;
    case 'fit': {
      const result = await connection.runAndReadAll(
        `SELECT ${features.map((f) => `avg(${q(f)}), var_pop(${q(f)}), min(${q(f)}), max(${q(f)}), count(${q(f)})`).join(', ')} FROM ${source}`,
      );
      process.stdout.write(JSON.stringify(result.getRows().map((row) => row.map(String))) + '\n');
      return;
    }
    default:
      throw new Error(`unknown job ${job} for duckdb`);
  }
  if (parquetOut !== undefined) await connection.run(`COPY (${select}) TO '${parquetOut}' (FORMAT parquet, COMPRESSION snappy)`);
  else await connection.run(`COPY (${select}) TO '/dev/stdout' (FORMAT csv)`);
}
