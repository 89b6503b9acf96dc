#!/usr/bin/env node
// Writes the Parquet fixtures with DuckDB (the dev dependency @duckdb/node-api),
// an engine independent of finorm: fixtures/sp500-sample.parquet from
// fixtures/sp500-sample.csv (the README's example), and in each golden case
// folder that has a source.csv, input.parquet from it. Column types are
// DuckDB's own inference (text, DATE, DOUBLE, BIGINT), as a user's file would
// have them; snappy. The reference (fixtures/reference/reference.py) reads
// the source.csv of a Parquet case. error-parquet-truncated-footer's input is
// the sample's Parquet file without its last 100 bytes.
//
//   node scripts/parquet-fixtures.mjs

import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const connection = await (await DuckDBInstance.create(':memory:')).connect();

async function convert(csv, parquet) {
  await connection.run(`COPY (SELECT * FROM read_csv('${csv}', header = true)) TO '${parquet}' (FORMAT parquet, COMPRESSION snappy)`);
  console.log('wrote', parquet);
}

await convert(join(FIXTURES, 'sp500-sample.csv'), join(FIXTURES, 'sp500-sample.parquet'));
const cases = join(FIXTURES, 'cases');
for (const name of readdirSync(cases).sort()) {
  const source = join(cases, name, 'source.csv');
  if (existsSync(source)) await convert(source, join(cases, name, 'input.parquet'));
}
const sample = readFileSync(join(FIXTURES, 'sp500-sample.parquet'));
writeFileSync(join(cases, 'error-parquet-truncated-footer', 'input.parquet'), sample.subarray(0, sample.length - 100));
console.log('wrote', join(cases, 'error-parquet-truncated-footer', 'input.parquet'));
