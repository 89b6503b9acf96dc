// Parquet blocks into rows: the feature values the decoder reads out of a
// block's columns are the numbers the columns hold, as JavaScript's own
// conversions give them (Number(bigint) for an INT64: rounded once, to
// nearest), with or without nulls (the second path reads a value at a time).

import { describe, expect, it } from 'vitest';
import { BadRowPolicy } from '../../src/io/bad-rows.js';
import type { ColumnInfo } from '../../src/io/parquet/cells.js';
import type { BlockColumn, ColumnBlock } from '../../src/io/parquet/decode.js';
import { PhysicalType } from '../../src/io/parquet/metadata.js';
import { DecodedRows, RowDecoder } from '../../src/pipeline/decode.js';
import type { TableLayout } from '../../src/pipeline/job.js';

const INT64S = [
  0n,
  -1n,
  1n,
  2n ** 53n - 1n,
  2n ** 53n + 1n, // a tie: to even
  2n ** 53n + 3n,
  -(2n ** 53n) - 1n,
  2n ** 62n + 2n ** 10n + 1n,
  2n ** 63n - 1n,
  -(2n ** 63n),
  -(2n ** 32n),
  2n ** 32n - 1n,
  -(2n ** 31n) - 7n,
  123_456_789_012_345n,
];

function int64Info(name: string): ColumnInfo {
  return { name, physical: PhysicalType.INT64, kind: 'number', scale: 0, perSecond: 0, utc: false };
}

function decode(columns: BlockColumn[], info: ColumnInfo[]): Float64Array {
  const table: TableLayout = {
    format: 'parquet',
    delimiter: 44,
    columns: info.map((column) => column.name),
    features: info.map((_, c) => c),
    names: info.map((column) => column.name),
    na: info.map(() => []),
    onError: 'stop',
    parquet: info,
  };
  const block: ColumnBlock = { rows: INT64S.length, firstRow: 1, columns };
  const rows = new DecodedRows(info.length);
  expect(new RowDecoder(table).decodeBlock(block, rows, new BadRowPolicy('stop'), 'test.parquet')).toBeUndefined();
  expect(rows.count).toBe(INT64S.length);
  return rows.values.slice(0, rows.count * info.length);
}

describe('Parquet blocks into rows', () => {
  it('reads INT64 features as Number(bigint) gives them, with and without nulls', () => {
    const values = BigInt64Array.from(INT64S);
    const valid = Uint8Array.from(INT64S, (_, r) => (r % 5 === 3 ? 0 : 1));
    const decoded = decode(
      [
        { valid: undefined, values, offsets: undefined, data: undefined },
        { valid, values: values.slice(), offsets: undefined, data: undefined },
      ],
      [int64Info('all'), int64Info('some null')],
    );
    INT64S.forEach((x, r) => {
      expect(decoded[2 * r], `${x}`).toBe(Number(x));
      if (valid[r] === 0) expect(decoded[2 * r + 1]).toBeNaN();
      else expect(decoded[2 * r + 1], `${x}`).toBe(Number(x));
    });
  });
});
