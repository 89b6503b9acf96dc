import { stringify } from 'csv-stringify/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { OutputSink } from '../../src/io/output.js';
import type { Format } from '../../src/io/sources.js';
import { createTableWriter } from '../../src/io/write-table.js';
import { referenceCsv } from '../support/tokenize.js';

function memorySink(): OutputSink & { text: string; committed: boolean } {
  return {
    text: '',
    committed: false,
    async write(text) {
      this.text += text;
    },
    async commit() {
      this.committed = true;
    },
    async abort() {},
  };
}

async function render(
  columns: string[],
  features: number[],
  records: unknown[][],
  values: number[],
  format: Format = 'csv',
  extra: { precision?: number; header?: boolean; delimiter?: string } = {},
): Promise<string> {
  const slotOf = new Int32Array(columns.length).fill(-1);
  features.forEach((column, slot) => (slotOf[column] = slot));
  const sink = memorySink();
  const writer = createTableWriter(sink, {
    format,
    delimiter: extra.delimiter ?? ',',
    header: extra.header ?? true,
    columns,
    slotOf,
    precision: extra.precision,
  });
  await writer.write({ source: 'test', records, lines: records.map((_, i) => i + 2) }, Float64Array.from(values));
  await writer.close();
  expect(sink.committed).toBe(true);
  return sink.text;
}

describe('CSV writer', () => {
  it('puts features back in place and copies other cells', async () => {
    const text = await render(['date', 'x', 'ticker', 'y'], [1, 3], [['2024-01-02', '0.5', 'AAPL', '7']], [-0.25, NaN]);
    expect(text).toBe('date,x,ticker,y\n2024-01-02,-0.25,AAPL,\n');
  });

  it('quotes pass-through cells exactly as csv-stringify does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.stringMatching(/^[a-z ,"\r\n\t]{0,6}$/), { minLength: 2, maxLength: 4 }), async (cells) => {
        const columns = cells.map((_, i) => `c${i}`);
        const ours = await render(columns, [], [cells], []);
        // We also quote a lone CR (some readers take it for a line break); csv-stringify
        // does that with quoted_match.
        const reference = stringify([columns, cells], { record_delimiter: '\n', quoted_match: '\r' });
        expect(ours).toBe(reference);
        expect(referenceCsv(ours)).toEqual([columns, cells]);
      }),
      { numRuns: 500 },
    );
  });

  it('writes TSV with tabs and quotes only where needed', async () => {
    const text = await render(['a', 'b'], [1], [['x\ty', '1']], [2], 'tsv');
    expect(text).toBe('a\tb\n"x\ty"\t2\n');
  });

  it('keeps a lone empty field readable, and writes no header when asked', async () => {
    expect(await render(['x'], [0], [['NA']], [NaN])).toBe('x\n""\n');
    expect(await render(['1', '2'], [1], [['a', '1']], [0.5], 'csv', { header: false })).toBe('a,0.5\n');
  });

  it('writes N significant digits with --precision', async () => {
    expect(await render(['x'], [0], [['1']], [-0.451426], 'csv', { precision: 3 })).toBe('x\n-0.451\n');
  });
});

describe('NDJSON writer', () => {
  it('writes one object per line, null for missing, and leaves absent keys absent', async () => {
    const text = await render(['d', 'x', 'note'], [1], [['2024-01-02', '1', undefined], ['2024-01-03', null, 'a "q"']], [1e-7, NaN], 'ndjson');
    expect(text).toBe('{"d":"2024-01-02","x":1e-7}\n{"d":"2024-01-03","x":null,"note":"a \\"q\\""}\n');
    expect(text.trim().split('\n').map((line) => JSON.parse(line))).toEqual([
      { d: '2024-01-02', x: 1e-7 },
      { d: '2024-01-03', x: null, note: 'a "q"' },
    ]);
  });

  it('writes JSON values from NDJSON input into CSV as JSON text', async () => {
    const text = await render(['k', 'v'], [], [[true, { a: [1, 2] }]], [], 'csv');
    expect(text).toBe('k,v\ntrue,"{""a"":[1,2]}"\n');
  });
});
