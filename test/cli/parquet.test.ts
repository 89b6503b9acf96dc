// Parquet in and out through the CLI, against DuckDB: the same table written
// by DuckDB as Parquet (several row groups, nulls, dictionary pages) and as
// CSV gives the same output on every command, on both drivers; finorm's
// Parquet output read back by DuckDB has the input's types, nulls and values;
// a broken file is one line, exit 1, and nothing written.

import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { BIN, runFinorm } from '../support/cli.js';
import { duck, sqlText } from '../support/duckdb.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();
const ROWS = 6000;
const hasScript = spawnSync('script', ['--version']).status === 0;

/** Prices, returns, a volume, nulls; a ticker (dictionary-encoded) and a date that pass through. */
const TABLE = `
  SELECT
    DATE '2020-01-01' + (i // 40)::INTEGER AS date,
    'T' || lpad((i % 40)::VARCHAR, 2, '0') AS ticker,
    round(100 + 50 * sin(i / 17.0), 4) AS close,
    CASE WHEN i % 9 = 0 THEN NULL ELSE round(0.02 * cos(i / 3.0), 6) END AS ret_1d,
    (1000 + (i * 7919) % 100000)::BIGINT AS volume,
    CASE WHEN i % 13 = 0 THEN NULL ELSE round(1e9 + i * 1234.5, 1) END AS mkt_cap,
    CASE WHEN i % 5 = 0 THEN NULL ELSE 'Name ' || (i % 3) || ', "class ' || (i % 2) || '"' END AS label
  FROM range(${ROWS}) AS t(i)`;

let parquet: string;
let csv: string;

beforeAll(async () => {
  parquet = join(tmp.dir, 'table.parquet');
  csv = join(tmp.dir, 'table.csv');
  await duck(
    `COPY (${TABLE}) TO ${sqlText(parquet)} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 2048)`,
    `COPY (${TABLE}) TO ${sqlText(csv)} (FORMAT csv, HEADER)`,
  );
  const groups = await duck(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata(${sqlText(parquet)})`);
  expect(Number(groups[0][0])).toBeGreaterThanOrEqual(3);
});

const DRIVERS = [
  { name: 'one thread', threads: '1', env: {} },
  { name: 'two workers, small pieces', threads: '2', env: { FINORM_PIECE_BYTES: '4096' } },
];

/** Commands whose output from the Parquet file must be the output from the CSV file, byte for byte. */
const COMMANDS: [string, string[]][] = [
  ['layer', ['layer', '--output-format', 'csv']],
  ['layer to NDJSON', ['layer', '--output-format', 'ndjson']],
  ['batch (two passes)', ['batch', '--output-format', 'csv']],
  ['batch --group-by', ['batch', '-g', 'ticker', '--output-format', 'csv']],
  ['batch --window (causal, time order checked)', ['batch', '--window', '5', '-g', 'ticker', '--output-format', 'csv']],
  ['batch --sorted (groups of rows together)', ['batch', '-g', 'date', '--sorted', '--output-format', 'csv']],
  // mkt_cap is a feature: a DOUBLE that passes through is written in shortest form, where the CSV keeps DuckDB's text.
  ['batch --clip -c', ['batch', '-c', 'close,ret_1d,mkt_cap', '--clip', '1', '--output-format', 'csv']],
  ['fit', ['fit']],
  ['fit --group-by', ['fit', '-g', 'ticker']],
  ['stats --json', ['stats', '--json']],
];

/** What a run says, without the record of how it ran (threads, pieces). */
function withoutExecution(text: string, command: string): string {
  if (command !== 'stats') return text;
  const document = JSON.parse(text) as { execution?: unknown };
  delete document.execution;
  return JSON.stringify(document);
}

describe('Parquet input gives what the same table as CSV gives', () => {
  for (const driver of DRIVERS) {
    for (const [name, args] of COMMANDS) {
      it(`${name} (${driver.name})`, async () => {
        const [command, ...rest] = args;
        const run = (file: string) => runFinorm([command, '--threads', driver.threads, ...rest, file], { env: driver.env });
        const [fromParquet, fromCsv] = await Promise.all([run(parquet), run(csv)]);
        expect(fromCsv.code, fromCsv.stderr).toBe(0);
        expect(fromParquet.code, fromParquet.stderr).toBe(0);
        expect(fromParquet.stdout.length).toBeGreaterThan(100);
        expect(withoutExecution(fromParquet.stdout, command)).toBe(withoutExecution(fromCsv.stdout, command));
      });
    }
  }

  it('reads on the workers, every block (--stats)', async () => {
    const stats = join(tmp.dir, 'threads.json');
    const r = await runFinorm(['layer', '--threads', '2', '--stats', stats, '-o', '/dev/null', parquet], { env: { FINORM_PIECE_BYTES: '4096' } });
    expect(r.code, r.stderr).toBe(0);
    const { execution } = JSON.parse(readFileSync(stats, 'utf8'));
    expect(execution.passes[0].pieces).toBeGreaterThan(10);
    expect(execution.passes[0].piecesOnMainThread).toBe(0);
    expect(execution.passes[0].piecesPerWorker.every((n: number) => n > 0)).toBe(true);
  });

  it('reads stdin (spooled), also twice for two-pass batch, and a file named otherwise (by its magic bytes or -f)', async () => {
    const expected = await runFinorm(['batch', '--output-format', 'csv', csv]);
    const bytes = readFileSync(parquet);
    const fromStdin = await runFinorm(['batch', '--output-format', 'csv'], { input: bytes });
    expect(fromStdin.code, fromStdin.stderr).toBe(0);
    expect(fromStdin.stdout).toBe(expected.stdout);
    const renamed = tmp.file('table.dat', bytes);
    for (const args of [['batch', '--output-format', 'csv', renamed], ['batch', '-f', 'parquet', '--output-format', 'csv', renamed]]) {
      const r = await runFinorm(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(expected.stdout);
    }
  });

  it('reads several files as one table', async () => {
    const both = await runFinorm(['layer', '--output-format', 'csv', parquet, parquet]);
    const once = await runFinorm(['layer', '--output-format', 'csv', parquet]);
    const [header, ...rows] = once.stdout.trimEnd().split('\n');
    expect(both.stdout).toBe([header, ...rows, ...rows].join('\n') + '\n');
  });
});

describe('Parquet output, read back by DuckDB', () => {
  it('keeps the input types and values of pass-through columns, and writes features as nullable DOUBLEs equal to the CSV path', async () => {
    const out = join(tmp.dir, 'layer.parquet');
    const r = await runFinorm(['layer', '-o', out, '--row-group-size', '1000', parquet]);
    expect(r.code, r.stderr).toBe(0);
    const types = (path: string) => duck(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${sqlText(path)})`);
    const features = ['close', 'ret_1d', 'volume', 'mkt_cap'];
    const input = await types(parquet);
    expect(input).toEqual([['date', 'DATE'], ['ticker', 'VARCHAR'], ['close', 'DOUBLE'], ['ret_1d', 'DOUBLE'], ['volume', 'BIGINT'], ['mkt_cap', 'DOUBLE'], ['label', 'VARCHAR']]);
    expect(await types(out)).toEqual(input.map(([name, type]) => [name, features.includes(name as string) ? 'DOUBLE' : type]));
    // Pass-through columns: the same rows, in the same order, nulls included.
    const differ = await duck(
      `SELECT count(*) FROM (SELECT row_number() OVER () AS n, date, ticker, label FROM ${sqlText(out)} EXCEPT SELECT row_number() OVER () AS n, date, ticker, label FROM ${sqlText(parquet)})`,
    );
    expect(Number(differ[0][0])).toBe(0);
    // Features: DuckDB's doubles are exactly the numbers the CSV path writes (shortest round trip), nulls where it writes nothing.
    const fromCsv = parseCsv((await runFinorm(['layer', csv])).stdout, { columns: true }) as Record<string, string>[];
    const values = await duck(`SELECT ${features.join(', ')} FROM ${sqlText(out)}`);
    expect(values).toHaveLength(ROWS);
    values.forEach((row, i) => features.forEach((name, j) => expect(row[j], `${name}, row ${i + 1}`).toBe(fromCsv[i][name] === '' ? null : Number(fromCsv[i][name]))));
    const groups = await duck(`SELECT count(DISTINCT row_group_id) FROM parquet_metadata(${sqlText(out)})`);
    expect(Number(groups[0][0])).toBeGreaterThanOrEqual(3);
  });

  it('--sorted writes its groups as they end, as the CSV path does', async () => {
    const out = join(tmp.dir, 'sorted.parquet');
    const r = await runFinorm(['batch', '-g', 'date', '--sorted', '--threads', '1', '-o', out, parquet], { env: { FINORM_PIECE_BYTES: '4096' } });
    expect(r.code, r.stderr).toBe(0);
    const fromCsv = parseCsv((await runFinorm(['batch', '-g', 'date', '--sorted', csv])).stdout, { columns: true }) as Record<string, string>[];
    const values = await duck(`SELECT ticker, close, mkt_cap FROM ${sqlText(out)}`);
    expect(values).toHaveLength(ROWS);
    values.forEach((row, i) => {
      expect(row[0]).toBe(fromCsv[i].ticker);
      expect(row[1]).toBe(Number(fromCsv[i].close));
      expect(row[2]).toBe(fromCsv[i].mkt_cap === '' ? null : Number(fromCsv[i].mkt_cap));
    });
  });

  it('from CSV: text columns as VARCHAR, integer columns as BIGINT, features as DOUBLE, empty cells as nulls', async () => {
    const input = tmp.file('mixed.csv', 'date,id,zip,name,x\n2024-01-02,7,02134,"Acme, Inc.",1.5\n2024-01-03,,10001,"say ""hi""",\n2024-01-04,9,,plain,-2\n');
    const out = join(tmp.dir, 'mixed.parquet');
    const r = await runFinorm(['batch', '-c', 'x', '-e', '0', '-o', out, input]);
    expect(r.code, r.stderr).toBe(0);
    const types = await duck(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${sqlText(out)})`);
    expect(types).toEqual([['date', 'VARCHAR'], ['id', 'BIGINT'], ['zip', 'VARCHAR'], ['name', 'VARCHAR'], ['x', 'DOUBLE']]);
    const rows = await duck(`SELECT date, id::VARCHAR, zip, name, round(x, 12) FROM ${sqlText(out)}`);
    expect(rows).toEqual([
      ['2024-01-02', '7', '02134', 'Acme, Inc.', 1],
      ['2024-01-03', null, '10001', 'say "hi"', null],
      ['2024-01-04', '9', null, 'plain', -1],
    ]);
  });

  it('from NDJSON: numbers, integers and booleans keep their JSON types', async () => {
    const input = tmp.file('mixed.ndjson', '{"day":"2024-01-02","n":3,"w":0.5,"ok":true,"x":1}\n{"day":"2024-01-03","n":null,"w":1.25,"ok":false,"x":3}\n');
    const out = join(tmp.dir, 'ndjson.parquet');
    const r = await runFinorm(['layer', '-c', 'x,w', '--output-format', 'parquet', '-o', out, input]);
    expect(r.code, r.stderr).toBe(0);
    const types = await duck(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM ${sqlText(out)})`);
    expect(types).toEqual([['day', 'VARCHAR'], ['n', 'BIGINT'], ['w', 'DOUBLE'], ['ok', 'BOOLEAN'], ['x', 'DOUBLE']]);
  });

  it('writes to a pipe', async () => {
    const piped = await runFinorm(['layer', parquet]);
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout.startsWith('PAR1')).toBe(true);
  });

  it.skipIf(!hasScript)('refuses a terminal as stdout (exit 2), before reading a row', () => {
    const r = spawnSync('script', ['-qfec', [process.execPath, BIN, 'layer', parquet].join(' '), '/dev/null'], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(r.status).toBe(2);
    expect(r.stdout).toMatch(/^finorm: Parquet is binary and stdout is a terminal: write it to a file \(-o FILE\.parquet\) or a pipe, or choose --output-format csv\r?\n$/);
  });

  it('a file with no rows: the header (CSV), and a Parquet file DuckDB reads as empty', async () => {
    const empty = join(tmp.dir, 'empty.parquet');
    await duck(`COPY (SELECT * FROM (${TABLE}) WHERE false) TO ${sqlText(empty)} (FORMAT parquet)`);
    const csvOut = await runFinorm(['layer', '-c', 'close,ret_1d', '--output-format', 'csv', empty]);
    expect(csvOut.code, csvOut.stderr).toBe(0);
    expect(csvOut.stdout).toBe('date,ticker,close,ret_1d,volume,mkt_cap,label\n');
    const out = join(tmp.dir, 'empty-out.parquet');
    const r = await runFinorm(['layer', '-c', 'close,ret_1d', '-o', out, empty]);
    expect(r.code, r.stderr).toBe(0);
    expect(await duck(`SELECT count(*) FROM ${sqlText(out)}`)).toEqual([[0n]]);
  });
});

describe('a broken Parquet file: one line, exit 1, nothing written', () => {
  /** A directory with a previous output, which must stay as it was. */
  function outputDir(name: string): { dir: string; previous: string } {
    const dir = join(tmp.dir, name);
    mkdirSync(dir);
    const previous = join(dir, 'out.parquet');
    writeFileSync(previous, 'previous\n');
    return { dir, previous };
  }

  const cases: [string, () => Promise<string>, RegExp][] = [
    [
      'a truncated footer',
      async () => {
        const path = tmp.file('truncated.parquet', readFileSync(parquet));
        truncateSync(path, statSync(path).size - 100);
        return path;
      },
      /truncated\.parquet: not a readable Parquet file: the footer is missing \(the file is truncated, or still being written\)$/,
    ],
    [
      'a corrupt page',
      async () => {
        const bytes = readFileSync(parquet);
        const [[offset, size]] = await duck(
          `SELECT data_page_offset, total_compressed_size FROM parquet_metadata(${sqlText(parquet)}) WHERE path_in_schema = 'close' AND row_group_id = 2`,
        );
        // The middle of a compressed page: its header still reads, its bytes do not decompress.
        bytes.fill(0xff, Number(offset) + 40, Number(offset) + Number(size) - 40);
        return tmp.file('corrupt.parquet', bytes);
      },
      /corrupt\.parquet: column "close", row group 3: a page cannot be decompressed/,
    ],
    [
      'an unsupported type',
      async () => {
        const path = join(tmp.dir, 'list.parquet');
        await duck(`COPY (SELECT 1.5 AS x, [1, 2] AS tags) TO ${sqlText(path)} (FORMAT parquet)`);
        return path;
      },
      /list\.parquet: not a readable Parquet file: column "tags" is a nested field \(a list, map or struct\), which finorm cannot read$/,
    ],
  ];
  for (const [name, make, message] of cases) {
    it(name, async () => {
      const input = await make();
      for (const command of [['layer'], ['batch'], ['fit']]) {
        const { dir, previous } = outputDir(`${name.replace(/\W+/g, '-')}-${command[0]}`);
        const r = await runFinorm([...command, '-o', previous, input]);
        expect(r.code).toBe(1);
        const lines = r.stderr.trimEnd().split('\n');
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^finorm: /);
        expect(lines[0]).toMatch(message);
        expect(readFileSync(previous, 'utf8')).toBe('previous\n');
        expect(readdirSync(dir)).toEqual(['out.parquet']);
      }
    });
  }

  it('a feature value that is infinite is a bad row, named by its row', async () => {
    const path = join(tmp.dir, 'infinite.parquet');
    await duck(`COPY (SELECT i::DOUBLE AS a, CASE WHEN i = 4 THEN 'inf'::DOUBLE ELSE i * 2.0 END AS b FROM range(6) t(i)) TO ${sqlText(path)} (FORMAT parquet)`);
    const r = await runFinorm(['layer', '--output-format', 'csv', path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`finorm: ${path}: row 5: column "b": value Infinity is infinite; finorm reads finite numbers only\n`);
    const skipped = await runFinorm(['layer', '--output-format', 'csv', '--on-error', 'skip', path]);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout.trimEnd().split('\n')).toHaveLength(1 + 5);
  });

  it('--na numbers are missing values; an INT64 beyond 2^53 goes to NDJSON as a string', async () => {
    const path = join(tmp.dir, 'sentinel.parquet');
    await duck(`COPY (SELECT i AS a, CASE WHEN i = 2 THEN -999 ELSE i * 1.5 END AS b, (1::BIGINT << 60) + i AS big FROM range(4) t(i)) TO ${sqlText(path)} (FORMAT parquet)`);
    const r = await runFinorm(['layer', '-c', 'a,b', '--na', '-999', '--output-format', 'ndjson', path]);
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(rows[2].b).toBeNull();
    expect(rows[2].a).toBe(0); // a row with one present value gives β
    expect(rows[1].big).toBe('1152921504606846977');
  });

  it('a date named as a feature is refused before anything is read', async () => {
    const r = await runFinorm(['layer', '-c', 'date,close', '--output-format', 'csv', parquet]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/column "date" of .*table\.parquet holds date values, not numbers: it cannot be a feature/);
    expect(existsSync(join(tmp.dir, 'nothing'))).toBe(false);
  });
});
