// The Parquet reader and writer against DuckDB: DuckDB writes files in every
// compression, with nulls, dictionary pages, several row groups and both data
// page versions; finorm's reader must give every cell as DuckDB reads it.
// finorm's writer's files are read back by DuckDB, which must see the same
// types, nulls and values.

import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cellText, numberOf } from '../../src/io/parquet/cells.js';
import { ParquetReader } from '../../src/io/parquet/reader.js';
import { duck, sqlText } from '../support/duckdb.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();
const ROWS = 5000;

/** A table of every kind of column finorm reads: numbers of several types and scales, text, dates, times, nulls. */
const TABLE = `
  SELECT
    i::INTEGER AS id,
    CASE WHEN i % 7 = 0 THEN NULL ELSE (i * 1.25e-3 - 2.5)::DOUBLE END AS price,
    (i * 0.1 + 1e9)::DOUBLE AS level,
    CASE WHEN i % 11 = 0 THEN NULL ELSE (i % 13 - 6)::FLOAT / 3 END AS ratio,
    (i * 1000003)::BIGINT AS volume,
    ((i * 7 - 9000) / 100)::DECIMAL(9, 2) AS small_decimal,
    CASE WHEN i % 5 = 0 THEN NULL ELSE ((i * 123456789) / 10000)::DECIMAL(18, 4) END AS big_decimal,
    (i * 3)::DECIMAL(38, 3) AS huge_decimal,
    (i % 200)::UTINYINT AS small_unsigned,
    'T' || lpad((i % 37)::VARCHAR, 3, '0') AS ticker,
    CASE WHEN i % 3 = 0 THEN NULL ELSE 'note ' || (i % 5) || ', "quoted"' END AS note,
    DATE '2000-01-03' + (i // 10)::INTEGER AS day,
    TIMESTAMP '2024-01-31 09:30:00' + to_microseconds(i * 1234567) AS ts,
    TIMESTAMPTZ '2024-01-31 09:30:00+00' + to_milliseconds(i * 1000) AS ts_utc,
    i % 2 = 0 AS flag,
    md5(i::VARCHAR) AS code
  FROM range(${ROWS}) AS t(i)`;

const COLUMNS = ['id', 'price', 'level', 'ratio', 'volume', 'small_decimal', 'big_decimal', 'huge_decimal', 'small_unsigned', 'ticker', 'note', 'day', 'ts', 'ts_utc', 'flag', 'code'];
const NUMERIC = new Set(['id', 'price', 'level', 'ratio', 'volume', 'small_decimal', 'big_decimal', 'huge_decimal', 'small_unsigned']);

/** DuckDB's text of a cell, written as finorm writes it (ISO timestamps, the fraction without trailing zeros). */
function textSql(column: string): string {
  if (column === 'ts' || column === 'ts_utc') {
    const ts = column === 'ts_utc' ? `(${column} AT TIME ZONE 'UTC')` : column;
    const zone = column === 'ts_utc' ? `|| 'Z'` : '';
    return `CASE WHEN ${column} IS NULL THEN NULL WHEN microsecond(${ts}) % 1000000 = 0 THEN strftime(${ts}, '%Y-%m-%dT%H:%M:%S') ${zone} ELSE rtrim(strftime(${ts}, '%Y-%m-%dT%H:%M:%S.%f'), '0') ${zone} END`;
  }
  return `CAST(${column} AS VARCHAR)`;
}

async function readAll(path: string): Promise<{ reader: ParquetReader; cells: { numbers: number[][]; texts: (string | undefined)[][] } }> {
  const reader = await ParquetReader.open(path, 'test.parquet');
  const info = reader.columnInfo;
  const numbers: number[][] = info.map(() => []);
  const texts: (string | undefined)[][] = info.map(() => []);
  for (let block = await reader.next(); block; block = await reader.next()) {
    for (let r = 0; r < block.rows; r++) {
      info.forEach((column, c) => {
        numbers[c].push(numberOf(column, block.columns[c], r));
        texts[c].push(cellText(column, block.columns[c], r));
      });
    }
  }
  await reader.close();
  return { reader, cells: { numbers, texts } };
}

const WRITERS = [
  ...['uncompressed', 'snappy', 'gzip', 'zstd', 'brotli', 'lz4'].map((codec) => ({ name: codec, options: `COMPRESSION ${codec}, ROW_GROUP_SIZE 2048` })),
  // DuckDB's v2 writer uses DELTA_BINARY_PACKED (integers), BYTE_STREAM_SPLIT (floats) and, past the dictionary limit, DELTA_LENGTH_BYTE_ARRAY.
  { name: 'data page v2, zstd', options: "COMPRESSION zstd, ROW_GROUP_SIZE 2048, PARQUET_VERSION 'v2', DICTIONARY_SIZE_LIMIT 1000", v2: true },
];

describe('reading Parquet written by DuckDB', () => {
  for (const writer of WRITERS) {
    it(`gives every cell as DuckDB reads it (${writer.name})`, async () => {
      const path = join(tmp.dir, `${writer.name.replace(/\W+/g, '-')}.parquet`);
      await duck(`COPY (${TABLE}) TO ${sqlText(path)} (FORMAT parquet, ${writer.options})`);
      const types = await duck(`SELECT path_in_schema, type FROM parquet_metadata(${sqlText(path)}) WHERE row_group_id = 0`);
      expect(Object.fromEntries(types.map(([name, type]) => [name, type]))).toMatchObject({ small_decimal: 'INT32', big_decimal: 'INT64', huge_decimal: 'FIXED_LEN_BYTE_ARRAY', ratio: 'FLOAT' });
      const groups = await duck(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata(${sqlText(path)})`);
      expect(Number(groups[0][0])).toBeGreaterThanOrEqual(3);
      const dictionaries = await duck(`SELECT count(*) FROM parquet_metadata(${sqlText(path)}) WHERE dictionary_page_offset IS NOT NULL AND path_in_schema = 'ticker'`);
      expect(Number(dictionaries[0][0]), 'the ticker column has dictionary pages').toBeGreaterThan(0);
      if ('v2' in writer) {
        const encodings = (await duck(`SELECT DISTINCT encodings FROM parquet_metadata(${sqlText(path)})`)).map((row) => String(row[0])).join(',');
        for (const encoding of ['DELTA_BINARY_PACKED', 'BYTE_STREAM_SPLIT', 'DELTA_LENGTH_BYTE_ARRAY']) expect(encodings).toContain(encoding);
      }
      const { reader, cells } = await readAll(path);
      expect(reader.columns).toEqual(COLUMNS);
      const expected = await duck(`SELECT ${COLUMNS.map((c) => (NUMERIC.has(c) ? `CAST(${c} AS DOUBLE)` : textSql(c))).join(', ')} FROM ${sqlText(path)}`);
      expect(expected).toHaveLength(ROWS);
      COLUMNS.forEach((column, c) => {
        for (let r = 0; r < ROWS; r++) {
          const want = expected[r][c];
          if (NUMERIC.has(column)) {
            const got = cells.numbers[c][r];
            if (want === null) expect(got, `${column} row ${r + 1}`).toBeNaN();
            else expect(got, `${column} row ${r + 1}`).toBe(want);
          } else {
            expect(cells.texts[c][r] ?? null, `${column} row ${r + 1}`).toBe(want);
          }
        }
      });
    });
  }

  it('refuses a nested column, naming it and what it is', async () => {
    const path = join(tmp.dir, 'nested.parquet');
    await duck(`COPY (SELECT 1.5 AS x, [1, 2] AS tags) TO ${sqlText(path)} (FORMAT parquet)`);
    await expect(ParquetReader.open(path, 'nested.parquet')).rejects.toThrow(/column "tags" is a nested field/);
  });
});
