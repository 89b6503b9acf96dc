// Rows out as Parquet pages: for each output column, one data page (v1,
// PLAIN values, RLE/bit-packed definition levels, snappy) of the rows a
// piece wrote. A piece's pages are its output bytes, column after column;
// the page table says where each column's page ends. The main thread
// (writer.ts) gathers the pages of each column into row groups.

import type { OutputBytes } from '../output-bytes.js';
import { dataPageHeaderBytes } from './metadata.js';
import { PhysicalType } from './metadata.js';
import { maxCompressedLength, snappyCompress } from './snappy.js';
import { T, type ThriftStruct, structOf } from './thrift.js';

/**
 * An output column: its physical type, the schema element written to the
 * footer (name, type, annotations), and what its values are made of: a
 * feature value (DOUBLE), an input Parquet column's values (its own type),
 * or a text cell written as text, as an integer (INT64), or, from NDJSON, as
 * a number (DOUBLE) or a boolean.
 */
export interface ParquetOutputColumn {
  physical: number;
  element: ThriftStruct;
  from: 'feature' | 'parquet' | 'text' | 'integer' | 'double' | 'boolean';
}

/** Collects one column's values for a page, then encodes it. */
export class PageBuilder {
  private levels = new Uint8Array(1024);
  private values = new Uint8Array(1 << 14);
  private view = new DataView(this.values.buffer);
  /** The values as doubles (a DOUBLE page holds nothing else, so its values stay 8-byte aligned). */
  private doublesView = new Float64Array(this.values.buffer);
  private length = 0;
  /** The page's body before compression (levels and values), and after, reused from page to page. */
  private body = new Uint8Array(1 << 16);
  private compressed = new Uint8Array(maxCompressedLength(1 << 16));
  count = 0;
  nulls = 0;

  start(rows: number): void {
    if (this.levels.length < rows) this.levels = new Uint8Array(Math.max(rows, 2 * this.levels.length));
    this.length = 0;
    this.count = 0;
    this.nulls = 0;
  }

  private room(bytes: number): void {
    if (this.length + bytes <= this.values.length) return;
    const bigger = new Uint8Array(Math.max(2 * this.values.length, this.length + bytes));
    bigger.set(this.values.subarray(0, this.length));
    this.values = bigger;
    this.view = new DataView(bigger.buffer);
    this.doublesView = new Float64Array(bigger.buffer, 0, bigger.length >> 3);
  }

  null(): void {
    this.levels[this.count++] = 0;
    this.nulls++;
  }

  /** A double as it is (NaN too: a pass-through value, not a missing one). */
  double(x: number): void {
    this.levels[this.count++] = 1;
    this.room(8);
    this.view.setFloat64(this.length, x, true);
    this.length += 8;
  }

  /** Several doubles at once: values[from + k·stride], k < n (NaN is null). */
  doubles(values: Float64Array, from: number, stride: number, n: number): void {
    this.room(8 * n + 8);
    const { levels } = this;
    if (this.length % 8 !== 0) {
      for (let k = 0, i = from; k < n; k++, i += stride) {
        if (values[i] !== values[i]) this.null();
        else this.double(values[i]);
      }
      return;
    }
    // Little-endian, as Parquet: the platform's doubles are the page's bytes.
    const out = this.doublesView;
    let q = this.length >> 3;
    let c = this.count;
    let nulls = 0;
    for (let k = 0, i = from; k < n; k++, i += stride) {
      const x = values[i];
      if (x !== x) {
        levels[c++] = 0;
        nulls++;
        continue;
      }
      levels[c++] = 1;
      out[q++] = x;
    }
    this.length = q << 3;
    this.count = c;
    this.nulls += nulls;
  }

  int32(x: number): void {
    this.levels[this.count++] = 1;
    this.room(4);
    this.view.setInt32(this.length, x, true);
    this.length += 4;
  }

  int64(x: bigint): void {
    this.levels[this.count++] = 1;
    this.room(8);
    this.view.setBigInt64(this.length, x, true);
    this.length += 8;
  }

  float(x: number): void {
    this.levels[this.count++] = 1;
    this.room(4);
    this.view.setFloat32(this.length, x, true);
    this.length += 4;
  }

  /** A BOOLEAN value: kept one byte each here, bit-packed when encoded. */
  boolean(x: boolean): void {
    this.levels[this.count++] = 1;
    this.room(1);
    this.values[this.length++] = x ? 1 : 0;
  }

  /** BYTE_ARRAY (length-prefixed) or, with `fixed`, FIXED_LEN_BYTE_ARRAY / INT96 bytes. */
  bytes(source: Uint8Array, start: number, end: number, fixed = false): void {
    this.levels[this.count++] = 1;
    const n = end - start;
    this.room(n + 4);
    if (!fixed) {
      this.view.setInt32(this.length, n, true);
      this.length += 4;
    }
    // Short values (tickers, dates as text) byte by byte: a subarray for each would be garbage to collect.
    const values = this.values;
    if (n <= 32) for (let k = 0, at = this.length; k < n; k++) values[at + k] = source[start + k];
    else values.set(source.subarray(start, end), this.length);
    this.length += n;
  }

  /** A CSV field's content with `""` read as one quote. */
  unescapedBytes(source: Uint8Array, start: number, end: number): void {
    this.levels[this.count++] = 1;
    this.room(end - start + 4);
    const at = this.length;
    let p = at + 4;
    for (let k = start; k < end; k++) {
      this.values[p++] = source[k];
      if (source[k] === 34) k++;
    }
    this.view.setInt32(at, p - at - 4, true);
    this.length = p;
  }

  /** Text as BYTE_ARRAY. */
  text(value: string): void {
    const bytes = Buffer.from(value, 'utf8');
    this.bytes(bytes, 0, bytes.length);
  }

  /**
   * The page (header and snappy-compressed body) appended to `out` at
   * `out.length`; returns its [size, uncompressed size] in the output.
   */
  encode(physical: number, out: OutputBytes): [number, number] {
    let values = this.values.subarray(0, this.length);
    if (physical === PhysicalType.BOOLEAN) {
      const packed = new Uint8Array(Math.ceil(this.length / 8));
      for (let k = 0; k < this.length; k++) if (values[k]) packed[k >> 3] |= 1 << (k & 7);
      values = packed;
    }
    const levels = encodeLevels(this.levels, this.count, this.nulls);
    const size = 4 + levels.length + values.length;
    if (this.body.length < size) this.body = new Uint8Array(Math.max(size, 2 * this.body.length));
    const body = this.body.subarray(0, size);
    new DataView(body.buffer).setInt32(0, levels.length, true);
    body.set(levels, 4);
    body.set(values, 4 + levels.length);
    if (this.compressed.length < maxCompressedLength(size)) this.compressed = new Uint8Array(maxCompressedLength(this.body.length));
    const compressed = this.compressed.subarray(0, snappyCompress(body, this.compressed));
    const statistics = structOf([[3, T.i64, this.nulls]]);
    const header = dataPageHeaderBytes(body.length, compressed.length, this.count, statistics);
    const pageSize = header.length + compressed.length;
    const buffer = out.reserve(pageSize);
    buffer.set(header, out.length);
    buffer.set(compressed, out.length + header.length);
    out.length += pageSize;
    return [pageSize, header.length + body.length];
  }
}

/** Definition levels (0 or 1) in the RLE/bit-packed hybrid: one RLE run when there is no null, else bit-packed. */
function encodeLevels(levels: Uint8Array, count: number, nulls: number): Uint8Array {
  if (count === 0) return new Uint8Array(0);
  if (nulls === 0 || nulls === count) {
    const bytes: number[] = [];
    let header = count * 2;
    while (header >= 0x80) {
      bytes.push((header & 0x7f) | 0x80);
      header = Math.floor(header / 0x80);
    }
    bytes.push(header, nulls === 0 ? 1 : 0);
    return Uint8Array.from(bytes);
  }
  const groups = Math.ceil(count / 8);
  const head: number[] = [];
  let header = groups * 2 + 1;
  while (header >= 0x80) {
    head.push((header & 0x7f) | 0x80);
    header = Math.floor(header / 0x80);
  }
  head.push(header);
  const out = new Uint8Array(head.length + groups);
  out.set(head);
  for (let i = 0; i < count; i++) if (levels[i]) out[head.length + (i >> 3)] |= 1 << (i & 7);
  return out;
}
