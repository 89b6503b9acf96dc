// The row writer: CSV/TSV input rendered as CSV, TSV or NDJSON (fields copied
// as bytes, quoted only when needed), NDJSON input likewise; checked against
// csv-stringify and JSON.stringify.

import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvRecords, tokenizeCsv } from '../../src/io/csv.js';
import { NdjsonRecords, readNdjson } from '../../src/io/ndjson.js';
import { OutputBytes } from '../../src/io/output-bytes.js';
import { RowWriter } from '../../src/io/render.js';
import type { Format } from '../../src/io/sources.js';
import { referenceCsv } from '../support/tokenize.js';

/**
 * Renders records (CSV text cells, or NDJSON values when any is not a
 * string) with features at `features` replaced by `values`, as finorm
 * writes them: the header, then the rows.
 */
function render(
  columns: string[],
  features: number[],
  records: unknown[][],
  values: number[],
  format: Format = 'csv',
  extra: { precision?: number; header?: boolean; delimiter?: string; quoteAll?: boolean; strings?: boolean } = {},
): string {
  const slotOf = new Int32Array(columns.length).fill(-1);
  features.forEach((column, slot) => (slotOf[column] = slot));
  const delimiter = extra.delimiter ?? ',';
  const json = records.some((record) => record.some((cell) => typeof cell !== 'string'));
  const fieldOf = Int32Array.from(slotOf, (slot, i) => (slot >= 0 ? -1 : i));
  const layout = {
    format,
    delimiter: (format === 'tsv' ? '\t' : delimiter).charCodeAt(0),
    header: extra.header ?? true,
    columns,
    slotOf,
    fieldOf,
    features: features.length,
    numbersAsNumbers: !extra.strings,
    precision: extra.precision,
  };
  const writer = new RowWriter(layout, json ? 0 : delimiter.charCodeAt(0));
  const out = new OutputBytes();
  const rows = Int32Array.from(records.keys());
  if (json) {
    const text = records.map((record) => JSON.stringify(Object.fromEntries(columns.map((c, i) => [c, record[i]])))).join('\n');
    const bytes = new TextEncoder().encode(text);
    const parsed = new NdjsonRecords(columns);
    readNdjson(bytes, 0, bytes.length, 1, parsed);
    writer.writeNdjsonRows(out, parsed, rows, records.length, Float64Array.from(values));
  } else {
    const text = stringify(records as string[][], { delimiter, record_delimiter: '\n', quoted: extra.quoteAll ?? false, quoted_match: '\r' });
    const bytes = new TextEncoder().encode(text);
    const parsed = new CsvRecords();
    tokenizeCsv(bytes, 0, bytes.length, delimiter.charCodeAt(0), 1, parsed);
    writer.writeCsvRows(out, bytes, parsed, rows, records.length, Float64Array.from(values));
  }
  const decoder = new TextDecoder();
  return decoder.decode(writer.headerBytes()) + decoder.decode(out.buffer.subarray(0, out.length));
}

describe('CSV writer', () => {
  it('puts features back in place and copies other cells', () => {
    const text = render(['date', 'x', 'ticker', 'y'], [1, 3], [['2024-01-02', '0.5', 'AAPL', '7']], [-0.25, NaN]);
    expect(text).toBe('date,x,ticker,y\n2024-01-02,-0.25,AAPL,\n');
  });

  it('quotes pass-through cells exactly as csv-stringify does, however they were quoted in the input', () => {
    fc.assert(
      fc.property(fc.array(fc.stringMatching(/^[a-z ,"\r\n\té]{0,6}$/), { minLength: 2, maxLength: 4 }), fc.boolean(), (cells, quoteAll) => {
        const columns = cells.map((_, i) => `c${i}`);
        const ours = render(columns, [], [cells], [], 'csv', { quoteAll });
        // We also quote a lone CR (some readers take it for a line break); csv-stringify
        // does that with quoted_match.
        const reference = stringify([columns, cells], { record_delimiter: '\n', quoted_match: '\r' });
        expect(ours).toBe(reference);
        expect(referenceCsv(ours)).toEqual([columns, cells]);
      }),
      { numRuns: 500 },
    );
  });

  it('writes TSV with tabs and quotes only where needed', () => {
    // From CSV input: a tab in a field now needs quotes.
    const text = render(['a', 'b'], [1], [['x\ty', '1']], [2], 'tsv');
    expect(text).toBe('a\tb\n"x\ty"\t2\n');
  });

  it('keeps a lone empty field readable, and writes no header when asked', () => {
    expect(render(['x'], [0], [['NA']], [NaN])).toBe('x\n""\n');
    expect(render(['1', '2'], [1], [['a', '1']], [0.5], 'csv', { header: false })).toBe('a,0.5\n');
  });

  it('writes N significant digits with --precision', () => {
    expect(render(['x'], [0], [['1']], [-0.451426], 'csv', { precision: 3 })).toBe('x\n-0.451\n');
  });
});

describe('NDJSON writer', () => {
  it('writes CSV fields as JSON strings exactly as JSON.stringify does, numbers as numbers and empty cells as null', () => {
    const jsonNumber = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;
    const cell = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 6 }).map((s) => s.replaceAll('\r\n', '\n')),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
      fc.constantFrom('02134', '+1', '.5', '1.', '-0', '0', '1e5', '1E+5', '-', '1e', '0x10', ' 1', '1 ', '1577836800123456789', '123456789012345', '1e400', '0.000123456789012345'),
    );
    fc.assert(
      fc.property(fc.array(cell, { minLength: 2, maxLength: 3 }), (cells) => {
        const columns = cells.map((_, i) => `c${i}`);
        const ours = render(columns, [], [cells], [], 'ndjson');
        // A number that would not read back as written (over 15 significant digits, a huge exponent) stays a string.
        const readsBack = (text: string): boolean => {
          const [mantissa, exponent = '0'] = text.toLowerCase().split('e');
          return mantissa.replace(/[-.]/g, '').replace(/^0+/, '').length <= 15 && Math.abs(Number(exponent)) <= 300;
        };
        const value = (text: string): string => (text === '' ? 'null' : jsonNumber.test(text) && readsBack(text) ? text : JSON.stringify(text));
        expect(ours).toBe(`{${columns.map((c, i) => `${JSON.stringify(c)}:${value(cells[i])}`).join(',')}}\n`);
        // And it is JSON.
        expect(() => JSON.parse(ours) as unknown).not.toThrow();
      }),
      { numRuns: 1000, seed: 3 },
    );
  });

  it('writes CSV fields as JSON strings, numbers too, with --strings (empty cells are still null)', () => {
    expect(render(['a', 'b', 'c'], [], [['1.5', '', 'x']], [], 'ndjson', { strings: true })).toBe('{"a":"1.5","b":null,"c":"x"}\n');
  });

  it('writes one object per line, null for missing, and leaves absent keys absent', () => {
    const text = render(['d', 'x', 'note'], [1], [['2024-01-02', '1', undefined], ['2024-01-03', null, 'a "q"']], [1e-7, NaN], 'ndjson');
    expect(text).toBe('{"d":"2024-01-02","x":1e-7}\n{"d":"2024-01-03","x":null,"note":"a \\"q\\""}\n');
    expect(text.trim().split('\n').map((line) => JSON.parse(line))).toEqual([
      { d: '2024-01-02', x: 1e-7 },
      { d: '2024-01-03', x: null, note: 'a "q"' },
    ]);
  });

  it('writes JSON values from NDJSON input into CSV as JSON text', () => {
    const text = render(['k', 'v'], [], [[true, { a: [1, 2] }]], [], 'csv');
    expect(text).toBe('k,v\ntrue,"{""a"":[1,2]}"\n');
  });
});
