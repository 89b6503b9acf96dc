// Opening the input (header, format, sniffing, gzip, several files) and
// reading it piece by piece into records, as every pass does; bad rows and
// text that is not UTF-8 through a real pass (gatherStatistics).

import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DataError, RowError } from '../../src/errors.js';
import { BadRowPolicy } from '../../src/io/bad-rows.js';
import { CsvRecords, fieldText, tokenizeCsv } from '../../src/io/csv.js';
import { NdjsonRecords, readNdjson } from '../../src/io/ndjson.js';
import { type Format, sourcesFrom } from '../../src/io/sources.js';
import { Input, type InputSettings } from '../../src/pipeline/input.js';
import { gatherStatistics } from '../../src/pipeline/passes.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();

interface ReadOptions {
  format?: Format;
  delimiter?: string;
  header?: boolean;
  badRows?: BadRowPolicy;
}

function settingsOf(options: ReadOptions): InputSettings {
  return {
    format: options.format,
    delimiter: options.delimiter,
    header: options.header ?? true,
    na: { all: new Set(['', 'NA']), byColumn: new Map() },
    onError: options.badRows?.mode ?? 'stop',
  };
}

/** Every record of the input, its cells as text (CSV) or JSON values (NDJSON), with its line and source. */
async function read(files: string[], options: ReadOptions = {}) {
  const badRows = options.badRows ?? new BadRowPolicy('stop');
  const input = await Input.open(sourcesFrom(files), settingsOf(options));
  const records: unknown[][] = [];
  const lines: number[] = [];
  const sources: string[] = [];
  const width = input.columns.length;
  for await (const piece of input.pieces()) {
    if (input.format === 'ndjson') {
      const json = new NdjsonRecords(input.columns);
      readNdjson(piece.bytes, 0, piece.bytes.length, piece.firstLine, json);
      for (let r = 0; r < json.count; r++) {
        const error = json.errors.get(r);
        if (error !== undefined) {
          badRows.handle(new RowError(error, { file: piece.source, line: json.line[r] }));
          continue;
        }
        records.push(json.cells.slice(r * width, (r + 1) * width));
        lines.push(json.line[r]);
        sources.push(piece.source);
      }
      continue;
    }
    const csv = new CsvRecords();
    tokenizeCsv(piece.bytes, 0, piece.bytes.length, input.delimiter.charCodeAt(0), piece.firstLine, csv);
    for (let r = 0; r < csv.count; r++) {
      const error = csv.errors.get(r) ?? (csv.width(r) !== width ? `expected ${width} fields (as in the header), found ${csv.width(r)}` : undefined);
      if (error !== undefined) {
        badRows.handle(new RowError(error, { file: piece.source, line: csv.line[r] }));
        continue;
      }
      records.push(Array.from({ length: width }, (_, c) => fieldText(piece.bytes, csv, csv.firstField[r] + c)));
      lines.push(csv.line[r]);
      sources.push(piece.source);
    }
  }
  return { columns: input.columns, format: input.format, delimiter: input.delimiter, records, lines, sources, badRows };
}

/** A real pass (statistics of the numeric columns) over the input: its bad rows, or the error that stopped it. */
async function pass(files: string[], options: ReadOptions = {}) {
  const input = await Input.open(sourcesFrom(files), settingsOf(options));
  await gatherStatistics(input, { threads: 1 });
  return input;
}

describe('Input', () => {
  it('reads CSV with a BOM, quotes and CRLF', async () => {
    const path = tmp.file('bom.csv', '\ufeffSymbol,Name,Price\r\nAAPL,"Apple, Inc.",309.35\r\nBXP,"BXP ""REIT""",67.67\r\n');
    const t = await read([path]);
    expect(t.columns).toEqual(['Symbol', 'Name', 'Price']);
    expect(t.records).toEqual([
      ['AAPL', 'Apple, Inc.', '309.35'],
      ['BXP', 'BXP "REIT"', '67.67'],
    ]);
    expect(t.lines).toEqual([2, 3]);
    expect(t.format).toBe('csv');
  });

  it('reads TSV by extension and CSV with another delimiter', async () => {
    const tsv = await read([tmp.file('a.tsv', 'a\tb\n1\t2\n')]);
    expect([tsv.format, tsv.delimiter, tsv.records]).toEqual(['tsv', '\t', [['1', '2']]]);
    const tab = await read([tmp.file('a.tab', 'a\tb\n1\t2\n')]);
    expect(tab.format).toBe('tsv');
    const semi = await read([tmp.file('semi.txt', 'a;b\n1,5;2\n')], { delimiter: ';' });
    expect(semi.records).toEqual([['1,5', '2']]);
  });

  it('reads NDJSON by extension or by sniffing, skipping blank lines', async () => {
    const text = '\n{"d":"2024-01-02","x":1.5,"y":null}\n\n{"d":"2024-01-03","y":2}\r\n';
    for (const name of ['a.ndjson', 'a.jsonl', 'a.data']) {
      const t = await read([tmp.file(name, text)]);
      expect(t.format).toBe('ndjson');
      expect(t.columns).toEqual(['d', 'x', 'y']);
      expect(t.records).toEqual([
        ['2024-01-02', 1.5, null],
        ['2024-01-03', undefined, 2],
      ]);
      expect(t.lines).toEqual([2, 4]);
    }
  });

  it('reads gzip files, by extension or by their magic number', async () => {
    const csv = 'a,b\n1,2\n3,4\n';
    for (const name of ['z.csv.gz', 'z-no-extension']) {
      const t = await read([tmp.file(name, gzipSync(csv))], name.endsWith('.gz') ? {} : { format: 'csv' });
      expect(t.records).toEqual([['1', '2'], ['3', '4']]);
    }
  });

  it('fails clearly on corrupt gzip', async () => {
    const broken = gzipSync('a,b\n1,2\n'.repeat(100)).subarray(0, 30);
    await expect(read([tmp.file('broken.csv.gz', broken)])).rejects.toThrow(/broken\.csv\.gz.*gzip/);
  });

  it('reads several files as one table and checks their headers match', async () => {
    const a = tmp.file('p1.csv', 'x,y\n1,2\n');
    const b = tmp.file('p2.csv', 'x,y\n3,4\n5,6\n');
    const t = await read([a, b]);
    expect(t.records).toEqual([['1', '2'], ['3', '4'], ['5', '6']]);
    expect(t.lines).toEqual([2, 2, 3]);
    expect(t.sources).toEqual([a, b, b]);
    const c = tmp.file('p3.csv', 'x,z\n7,8\n');
    await expect(read([a, c])).rejects.toThrow(/p3\.csv: header differs.*column 2 is "z" here but "y"/);
  });

  it('names columns 1..N with --no-header', async () => {
    const t = await read([tmp.file('nh.csv', '1,2,3\n4,5,6\n')], { header: false });
    expect(t.columns).toEqual(['1', '2', '3']);
    expect(t.records).toEqual([['1', '2', '3'], ['4', '5', '6']]);
    expect(t.lines).toEqual([1, 2]);
  });

  it('refuses an empty or blank input (no header: not a table), and gives a header-only table', async () => {
    const empty = tmp.file('empty.csv', '');
    await expect(read([empty])).rejects.toThrow(`${empty}: the input is empty (no header, no rows)`);
    await expect(read([tmp.file('blank.csv', '\n\r\n')])).rejects.toThrow(/the input is empty/);
    const blank = tmp.file('blank.data', '\n \n');
    await expect(read([empty, blank])).rejects.toThrow(`${empty}, ${blank}: every input is empty`);
    const h = await read([tmp.file('header.csv', 'a,b\n')]);
    expect([h.columns, h.records]).toEqual([['a', 'b'], []]);
  });

  it('rejects duplicate column names', async () => {
    await expect(read([tmp.file('dup.csv', 'a,b,a\n1,2,3\n')])).rejects.toThrow(/duplicate column name "a" \(columns 1 and 3\)/);
  });

  it('stops at a row with the wrong number of fields, or skips it under --on-error skip', async () => {
    const path = tmp.file('ragged.csv', 'a,b\n1,2\n3\n4,5,6\n7,8\n');
    await expect(pass([path])).rejects.toThrow(/ragged\.csv:3: expected 2 fields \(as in the header\), found 1/);
    const t = await pass([path], { badRows: new BadRowPolicy('skip') });
    expect(t.rowsKept).toBe(2);
    expect(t.badRows.skipped).toBe(2);
    expect(t.badRows.examples.map((e) => e.location?.line)).toEqual([3, 4]);
  });

  it('treats NDJSON lines that are not objects, and unknown keys, as bad rows', async () => {
    const path = tmp.file('bad.ndjson', '{"a":1}\n[1]\n{"a":2,"b":3}\nnot json\n{"a":4}\n');
    const error = await pass([path]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RowError);
    expect(String((error as Error).message)).toMatch(/bad\.ndjson:2: expected a JSON object per line, got an array/);
    const records = await read([path], { badRows: new BadRowPolicy('skip') });
    expect(records.records).toEqual([[1], [4]]);
    const t = await pass([path], { badRows: new BadRowPolicy('skip') });
    expect(t.badRows.examples.map((e) => [e.location?.line, e.detail.slice(0, 24)])).toEqual([
      [2, 'expected a JSON object p'],
      [3, 'key "b" is not among the'],
      [4, 'not valid JSON (Unexpect'],
    ]);
  });

  it('rejects text that is not UTF-8', async () => {
    const latin1 = Buffer.from('name,price\nSoci\xe9t\xe9 G\xe9n\xe9rale,12\n', 'latin1');
    const error = await pass([tmp.file('latin1.csv', latin1)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataError);
    expect((error as Error).message).toMatch(/latin1\.csv:2: not valid UTF-8 text \(byte 0xE9\); .*iconv/);
  });

  it('names the line of the first byte that is not UTF-8, far into a file, and the byte', async () => {
    const good = Array.from({ length: 30_000 }, (_, i) => `Société ${i},${i}`).join('\n');
    const bytes = Buffer.concat([Buffer.from(`n,i\n${good}\n`), Buffer.from([0x41, 0xc3, 0x28]), Buffer.from(',1\n')]);
    const error = await pass([tmp.file('bad-late.csv', bytes)]).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/bad-late\.csv:30002: not valid UTF-8 text \(byte 0xC3\)/);
  });

  it('finds a byte that is not UTF-8 at the end of a read chunk (64 KiB), where the next must complete it', async () => {
    const head = 'n,i\n' + 'x,1\n'.repeat(16383);
    const bytes = Buffer.concat([Buffer.from(head.slice(0, 65535)), Buffer.from([0xe9]), Buffer.from(',2\ny,3\n')]);
    const error = await pass([tmp.file('bad-at-boundary.csv', bytes)]).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/bad-at-boundary\.csv:16384: not valid UTF-8 text \(byte 0xE9\)/);
  });

  it('reads UTF-8 split across chunk boundaries', async () => {
    const name = 'Société Générale €';
    const rows = Array.from({ length: 60_000 }, (_, i) => `${name},${i}`).join('\n');
    const t = await read([tmp.file('big-utf8.csv', `n,i\n${rows}\n`)]);
    expect(t.records.length).toBe(60_000);
    expect(t.records.every((r) => r[0] === name)).toBe(true);
  });
});
