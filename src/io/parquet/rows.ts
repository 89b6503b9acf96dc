// Rows out as Parquet: the rows of a piece (CSV/TSV records, NDJSON records
// or a Parquet block), with their computed feature values, as one page per
// output column (encode.ts). Each call adds a page set to the page table:
// [rows, then per output column: bytes, uncompressed bytes, nulls].

import { DataError } from '../../errors.js';
import { type CsvRecords, FIELD_ESCAPED, fieldText } from '../csv.js';
import type { NdjsonRecords } from '../ndjson.js';
import type { OutputBytes } from '../output-bytes.js';
import type { ColumnBlock } from './decode.js';
import { PageBuilder, type ParquetOutputColumn } from './encode.js';
import { PhysicalType } from './metadata.js';

/** What rows-to-pages needs of the output layout (render.ts's OutputLayout). */
export interface ParquetLayout {
  columns: readonly string[];
  slotOf: Int32Array;
  fieldOf: Int32Array;
  features: number;
  parquet: ParquetOutputColumn[];
}

/** Where a row came from, for the message of a value that cannot be written in its column's type. */
type Where = (i: number) => { file: string; line: number; unit?: 'row' };

const INTEGER = /^-?(0|[1-9][0-9]{0,17})$/;

export class ParquetRows {
  private readonly page = new PageBuilder();
  private table: number[] = [];

  constructor(private readonly layout: ParquetLayout) {}

  /** The page sets written since the last call. */
  takeTable(): Float64Array | undefined {
    if (this.table.length === 0) return undefined;
    const table = Float64Array.from(this.table);
    this.table = [];
    return table;
  }

  /** The pages of `count` rows; `cell(c, i, page)` adds row i's value of output column c (not a feature) to the page. */
  private write(out: OutputBytes, count: number, values: Float64Array, cell: (c: number, i: number, page: PageBuilder) => void): void {
    const { slotOf, parquet, features } = this.layout;
    const set = [count];
    for (let c = 0; c < slotOf.length; c++) {
      const page = this.page;
      page.start(count);
      const slot = slotOf[c];
      if (slot >= 0) page.doubles(values, slot, features, count);
      else for (let i = 0; i < count; i++) cell(c, i, page);
      const [size, uncompressed] = page.encode(parquet[c].physical, out);
      set.push(size, uncompressed, page.nulls);
    }
    this.table.push(...set);
  }

  /** Text columns written as integers must hold integers: checked before anything is written, so a piece fails whole. */
  private checkIntegers(count: number, text: (c: number, i: number) => string | undefined, where: Where): void {
    const { parquet, columns, slotOf } = this.layout;
    for (let c = 0; c < parquet.length; c++) {
      if (slotOf[c] >= 0 || parquet[c].from !== 'integer') continue;
      for (let i = 0; i < count; i++) {
        const value = text(c, i);
        if (value !== undefined && !INTEGER.test(value)) {
          throw new DataError(
            `column ${JSON.stringify(columns[c])} is written to Parquet as INT64 (its first rows hold integers), but this row holds ${JSON.stringify(value)}; a Parquet column has one type`,
            where(i),
          );
        }
      }
    }
  }

  writeCsvRows(out: OutputBytes, bytes: Uint8Array, records: CsvRecords, rows: Int32Array, count: number, values: Float64Array, source: string): void {
    const { fieldOf, parquet } = this.layout;
    const { fieldStart, fieldEnd, fieldFlags, firstField } = records;
    const text = (c: number, i: number): string | undefined => {
      const f = firstField[rows[i]] + fieldOf[c];
      return fieldEnd[f] === fieldStart[f] ? undefined : fieldText(bytes, records, f);
    };
    this.checkIntegers(count, text, (i) => ({ file: source, line: records.line[rows[i]] }));
    this.write(out, count, values, (c, i, page) => {
      const f = firstField[rows[i]] + fieldOf[c];
      const s = fieldStart[f];
      const e = fieldEnd[f];
      if (s === e) page.null();
      else if (parquet[c].from === 'integer') page.int64(BigInt(fieldText(bytes, records, f)));
      else if ((fieldFlags[f] & FIELD_ESCAPED) !== 0) page.unescapedBytes(bytes, s, e);
      else page.bytes(bytes, s, e);
    });
  }

  writeNdjsonRows(out: OutputBytes, records: NdjsonRecords, rows: Int32Array, count: number, values: Float64Array, source: string): void {
    const { fieldOf, parquet, columns } = this.layout;
    const width = records.columns.length;
    const cellOf = (c: number, i: number): unknown => records.cells[rows[i] * width + fieldOf[c]];
    const where: Where = (i) => ({ file: source, line: records.line[rows[i]] });
    this.checkIntegers(count, (c, i) => {
      const cell = cellOf(c, i);
      return cell === null || cell === undefined ? undefined : typeof cell === 'number' && Number.isSafeInteger(cell) ? String(cell) : JSON.stringify(cell);
    }, where);
    for (let c = 0; c < parquet.length; c++) {
      const from = parquet[c].from;
      if (from !== 'double' && from !== 'boolean') continue;
      for (let i = 0; i < count; i++) {
        const cell = cellOf(c, i);
        if (cell !== null && cell !== undefined && typeof cell !== (from === 'double' ? 'number' : 'boolean')) {
          throw new DataError(`column ${JSON.stringify(columns[c])} is written to Parquet as ${from === 'double' ? 'DOUBLE' : 'BOOLEAN'} (its first rows hold ${from === 'double' ? 'numbers' : 'booleans'}), but this row holds ${JSON.stringify(cell)}; a Parquet column has one type`, where(i));
        }
      }
    }
    this.write(out, count, values, (c, i, page) => {
      const cell = cellOf(c, i);
      if (cell === null || cell === undefined) return page.null();
      switch (parquet[c].from) {
        case 'integer':
          return page.int64(BigInt(cell as number));
        case 'double':
          return page.double(cell as number);
        case 'boolean':
          return page.boolean(cell as boolean);
        default:
          return page.text(typeof cell === 'string' ? cell : JSON.stringify(cell));
      }
    });
  }

  writeBlockRows(out: OutputBytes, block: ColumnBlock, rows: Int32Array, count: number, values: Float64Array): void {
    const { fieldOf, parquet } = this.layout;
    this.write(out, count, values, (c, i, page) => {
      const column = block.columns[fieldOf[c]];
      const r = rows[i];
      if (column.valid !== undefined && column.valid[r] === 0) return page.null();
      switch (parquet[c].physical) {
        case PhysicalType.BOOLEAN:
          return page.boolean((column.values as Uint8Array)[r] === 1);
        case PhysicalType.INT32:
          return page.int32((column.values as Int32Array)[r]);
        case PhysicalType.INT64:
          return page.int64((column.values as BigInt64Array)[r]);
        case PhysicalType.FLOAT:
          return page.float((column.values as Float32Array)[r]);
        case PhysicalType.DOUBLE:
          return page.double((column.values as Float64Array)[r]);
        default: {
          const offsets = column.offsets as Int32Array;
          return page.bytes(column.data as Uint8Array, offsets[r], offsets[r + 1], parquet[c].physical !== PhysicalType.BYTE_ARRAY);
        }
      }
    });
  }
}
