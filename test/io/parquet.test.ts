// The Parquet reader and writer against DuckDB: DuckDB writes files in every
// compression, with nulls, dictionary pages, several row groups and both data
// page versions; finorm's reader must give every cell as DuckDB reads it.
// finorm's writer's files are read back by DuckDB, which must see the same
// types, nulls and values. Blocks of a few rows end inside pages; pages
// bigger than a column's read window, page headers longer than the first
// read, and a file of many pages (read as the rows need them) too.

import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bytesReadSoFar } from '../../src/io/byte-stream.js';
import { cellText, numberOf } from '../../src/io/parquet/cells.js';
import { ColumnChunkReader, newBlockColumn } from '../../src/io/parquet/decode.js';
import { Codec, PhysicalType, dataPageHeaderBytes } from '../../src/io/parquet/metadata.js';
import { ParquetReader } from '../../src/io/parquet/reader.js';
import { T, structOf } from '../../src/io/parquet/thrift.js';
import { runFinorm } from '../support/cli.js';
import { duck, sqlText } from '../support/duckdb.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();
const ROWS = 5000;

/** A table of every kind of column finorm reads: numbers of several types and scales, text, dates, times, nulls. */
const table = (rows: number): string => `
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
  FROM range(${rows}) AS t(i)`;
const TABLE = table(ROWS);

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

async function readAll(path: string, blockRows?: number): Promise<{ reader: ParquetReader; cells: { numbers: number[][]; texts: (string | undefined)[][] } }> {
  const reader = await ParquetReader.open(path, 'test.parquet', blockRows);
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

/** finorm reads every cell of `path` (`rows` rows of TABLE) as DuckDB does. */
async function expectDuckDbCells(path: string, rows: number, blockRows?: number): Promise<void> {
  const { reader, cells } = await readAll(path, blockRows);
  expect(reader.columns).toEqual(COLUMNS);
  const expected = await duck(`SELECT ${COLUMNS.map((c) => (NUMERIC.has(c) ? `CAST(${c} AS DOUBLE)` : textSql(c))).join(', ')} FROM ${sqlText(path)}`);
  expect(expected).toHaveLength(rows);
  COLUMNS.forEach((column, c) => {
    for (let r = 0; r < rows; r++) {
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
      // Blocks as the pipeline cuts them, and of 37 rows: most end inside a page.
      for (const blockRows of [undefined, 37]) await expectDuckDbCells(path, ROWS, blockRows);
    });
  }

  it('reads pages bigger than a column\'s read window (64 KiB), compressed or not', async () => {
    const rows = 40_000;
    for (const codec of ['uncompressed', 'snappy', 'zstd']) {
      const path = join(tmp.dir, `big-pages-${codec}.parquet`);
      await duck(`COPY (${table(rows)}) TO ${sqlText(path)} (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 100000)`);
      const sizes = await duck(`SELECT path_in_schema, total_compressed_size FROM parquet_metadata(${sqlText(path)}) WHERE path_in_schema IN ('level', 'code')`);
      // DuckDB writes a column chunk of a row group as one page (and a dictionary page, if it has one).
      for (const [, size] of sizes) expect(Number(size)).toBeGreaterThan(1 << 16);
      await expectDuckDbCells(path, rows, 1000);
    }
  });

  it('reads the pages of a row group as its rows need them, not the row group at once', async () => {
    // finorm writes a page per column per piece: small pieces make a row group of many pages.
    const csv = join(tmp.dir, 'many-pages.csv');
    const path = join(tmp.dir, 'many-pages.parquet');
    writeFileSync(csv, 'x,y\n' + Array.from({ length: 50_000 }, (_, i) => `${(i * 0.37) % 101},${(i * 1.3) % 7}`).join('\n') + '\n');
    const written = await runFinorm(['layer', '--threads', '1', '--row-group-size', '1000000', '-o', path, csv], { env: { FINORM_PIECE_BYTES: '8192' } });
    expect(written.stderr).toBe('');
    const groups = await duck(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata(${sqlText(path)})`);
    expect(Number(groups[0][0])).toBe(1);
    const reader = await ParquetReader.open(path, 'many-pages.parquet', 100);
    const before = bytesReadSoFar();
    const block = await reader.next();
    expect(block?.rows).toBe(100);
    // Each column's first read window (64 KiB at most), where the whole row group is some 800 KB.
    expect(bytesReadSoFar() - before).toBeLessThan(2 * (1 << 16));
    expect(statSync(path).size).toBeGreaterThan(8 * (1 << 16));
    let rows = block?.rows ?? 0;
    for (let next = await reader.next(); next; next = await reader.next()) rows += next.rows;
    await reader.close();
    expect(rows).toBe(50_000);
    expect(bytesReadSoFar() - before).toBeGreaterThan(statSync(path).size * 0.9);
  });

  it('reads a page header longer than its first read (statistics of long values)', async () => {
    const values = new Float64Array([1.5, -2.25, 1e12, 3e-4]);
    // Definition levels: an RLE run of 4 ones; then the values, PLAIN.
    const body = new Uint8Array([2, 0, 0, 0, 4 << 1, 1, ...new Uint8Array(values.buffer)]);
    const statistics = structOf([[5, T.binary, new Uint8Array(3000).fill(0x61)], [6, T.binary, new Uint8Array(3000).fill(0x62)]]);
    const header = dataPageHeaderBytes(body.length, body.length, values.length, statistics);
    expect(header.length).toBeGreaterThan(6000);
    const chunk = new Uint8Array([...header, ...body]);
    const reads: number[] = [];
    const source = { length: chunk.length, read: async (offset: number, length: number) => (reads.push(length), chunk.subarray(offset, offset + length)) };
    const column = { name: 'x', physical: PhysicalType.DOUBLE, typeLength: 0, maxDefinition: 1, kind: 'number' as const, scale: 0, perSecond: 0, utc: false, element: new Map() };
    const reader = new ColumnChunkReader(column);
    reader.start(Codec.UNCOMPRESSED, source);
    await reader.nextPage();
    const into = newBlockColumn(column, 4);
    expect(reader.take(4, into, 0)).toBe(4);
    expect([...(into.values as Float64Array)]).toEqual([...values]);
    expect(into.valid).toBeUndefined();
    // The first read was too short for the header, and was made again, longer.
    expect(reads[0]).toBeLessThan(header.length);
    expect(reads.length).toBeGreaterThan(2);
  });

  it('refuses a nested column, naming it and what it is', async () => {
    const path = join(tmp.dir, 'nested.parquet');
    await duck(`COPY (SELECT 1.5 AS x, [1, 2] AS tags) TO ${sqlText(path)} (FORMAT parquet)`);
    await expect(ParquetReader.open(path, 'nested.parquet')).rejects.toThrow(/column "tags" is a nested field/);
  });
});
