// Records → rows: the feature cells of a piece's records read into a
// row-major Float64Array (NaN = missing), and every record that cannot be a
// row (malformed, a wrong field count, a feature value that is not a number)
// handed to the bad-row policy in line order (under --on-error null a bad
// value is made missing instead, its row kept). Under --on-error stop the first
// bad row ends the piece: the rows before it are decoded, and its error is
// returned for the caller to raise once they are done.

import { RowError, showValue } from '../errors.js';
import type { BadRowPolicy } from '../io/bad-rows.js';
import { type CsvRecords, FIELD_ESCAPED, fieldText } from '../io/csv.js';
import { explainNotANumber, parseDecimal, parseDecimalBytes } from '../io/decimal.js';
import { NdjsonRecords } from '../io/ndjson.js';
import { cellText, isNumericKind, numberOf } from '../io/parquet/cells.js';
import type { ColumnBlock } from '../io/parquet/decode.js';
import type { TableLayout } from './job.js';

/** The rows of a piece that survived decoding: which record each is, and its feature values. */
export class DecodedRows {
  count = 0;
  record = new Int32Array(1024);
  values: Float64Array;

  constructor(readonly features: number) {
    this.values = new Float64Array(1024 * Math.max(1, features));
  }

  /** Room for `rows` rows. */
  reserve(rows: number): void {
    if (rows <= this.record.length) return;
    const capacity = Math.max(rows, this.record.length * 2);
    this.record = new Int32Array(capacity);
    this.values = new Float64Array(capacity * Math.max(1, this.features));
  }
}

const encoder = new TextEncoder();

/** A CSV/TSV piece's bytes and its records. */
export interface CsvPiece {
  bytes: Uint8Array;
  records: CsvRecords;
}

export class RowDecoder {
  private readonly features: Int32Array;
  private readonly width: number;
  /** Per feature slot: the texts that mean missing, as text and as bytes. */
  private readonly na: ReadonlySet<string>[];
  private readonly naBytes: Uint8Array[][];
  /** Per slot: some missing token reads as a number (a sentinel such as -999 or 0.0): look tokens up before parsing. */
  private readonly numericNa: Uint8Array;
  private readonly emptyIsMissing: Uint8Array;
  /**
   * For the tokenizer: each column's feature slot, or −1, where it may read
   * plain decimals itself (not where a missing token is a number, which must
   * be looked up before parsing).
   */
  readonly numberSlots: Int32Array;
  /** Per slot: the values of the tokens that are numbers, for NDJSON numbers (whose text is gone). */
  private readonly naNumbers: ReadonlySet<number>[];

  constructor(private readonly table: TableLayout) {
    this.features = Int32Array.from(table.features);
    this.width = table.columns.length;
    this.na = table.na.map((tokens) => new Set(tokens));
    this.naBytes = table.na.map((tokens) => tokens.map((token) => encoder.encode(token)));
    this.numericNa = Uint8Array.from(table.na, (tokens) => (tokens.some((token) => !Number.isNaN(parseDecimal(token))) ? 1 : 0));
    this.emptyIsMissing = Uint8Array.from(this.na, (tokens) => (tokens.has('') ? 1 : 0));
    this.naNumbers = table.na.map((tokens) => new Set(tokens.map((token) => parseDecimal(token)).filter((x) => !Number.isNaN(x))));
    this.numberSlots = new Int32Array(this.width).fill(-1);
    table.features.forEach((column, slot) => {
      if (this.numericNa[slot] === 0) this.numberSlots[column] = slot;
    });
  }

  /**
   * Decodes the first `limit` records of a piece (CSV/TSV or NDJSON) into
   * `rows`, handing every record that cannot be a row to the policy in line
   * order; returns the bad row that stops the run (under stop), if one does.
   */
  decode(piece: CsvPiece | NdjsonRecords, limit: number, rows: DecodedRows, badRows: BadRowPolicy, source: string): RowError | undefined {
    const h = this.features.length;
    rows.reserve(limit);
    const { values, record } = rows;
    const csv = piece instanceof NdjsonRecords ? undefined : piece;
    let kept = 0;
    for (let r = 0; r < limit; r++) {
      const error = csv ? this.csvRow(csv, r, values, kept * h, source, badRows) : this.ndjsonRow(piece as NdjsonRecords, r, values, kept * h, source, badRows);
      if (error !== undefined) {
        if (badRows.mode === 'stop') {
          rows.count = kept;
          return error;
        }
        badRows.handle(error);
        continue;
      }
      record[kept++] = r;
    }
    rows.count = kept;
    return undefined;
  }

  /** Record r of a CSV/TSV piece into values[base …]; the error that makes it a bad row, if any. */
  private csvRow({ bytes, records }: CsvPiece, r: number, values: Float64Array, base: number, source: string, badRows: BadRowPolicy): RowError | undefined {
    const { features, width } = this;
    const h = features.length;
    const { fieldStart, fieldEnd, fieldFlags, firstField } = records;
    const message = records.errors.size > 0 ? records.errors.get(r) : undefined;
    if (message !== undefined) return new RowError(message, { file: source, line: records.line[r] });
    const first = firstField[r];
    if (firstField[r + 1] - first !== width) {
      return new RowError(`expected ${width} fields (as in the header), found ${firstField[r + 1] - first}`, { file: source, line: records.line[r] });
    }
    // The plain decimals the tokenizer read (numberSlots): only the other fields need a look here.
    const numbers = records.numbersRead ? records.numbers : undefined;
    const { numericNa } = this;
    for (let j = 0; j < h; j++) {
      let value = numbers !== undefined && numericNa[j] === 0 ? numbers[r * h + j] : NaN;
      if (value === value) {
        values[base + j] = value;
        continue;
      }
      const f = first + features[j];
      const s = fieldStart[f];
      const e = fieldEnd[f];
      if (e === s) value = this.emptyIsMissing[j] ? NaN : Infinity;
      else if (this.numericNa[j] && (fieldFlags[f] & FIELD_ESCAPED) === 0 && this.isNaToken(j, bytes, s, e)) value = NaN;
      else {
        value = (fieldFlags[f] & FIELD_ESCAPED) === 0 ? parseDecimalBytes(bytes, s, e) : NaN;
        if (value !== value || value === Infinity || value === -Infinity) value = this.missingOrBad(j, bytes, records, f);
      }
      if (value === Infinity) {
        const text = fieldText(bytes, records, f);
        const error = new RowError(`value ${showValue(text)} ${explainNotANumber(text)}`, { file: source, line: records.line[r], column: this.table.names[j] });
        if (badRows.mode !== 'null') return error;
        badRows.makeMissing(error);
        value = NaN;
      }
      values[base + j] = value;
    }
    return undefined;
  }

  /** NaN if field f is a missing token of slot j; Infinity (the mark of a bad value) if it is not. */
  private missingOrBad(j: number, bytes: Uint8Array, records: CsvRecords, f: number): number {
    if ((records.fieldFlags[f] & FIELD_ESCAPED) !== 0) return this.na[j].has(fieldText(bytes, records, f)) ? NaN : Infinity;
    return this.isNaToken(j, bytes, records.fieldStart[f], records.fieldEnd[f]) ? NaN : Infinity;
  }

  private isNaToken(j: number, bytes: Uint8Array, start: number, end: number): boolean {
    const length = end - start;
    for (const token of this.naBytes[j]) {
      if (token.length !== length) continue;
      let same = true;
      for (let k = 0; k < length && same; k++) same = token[k] === bytes[start + k];
      if (same) return true;
    }
    return false;
  }

  /**
   * The rows of a Parquet block into `rows` (row i is the block's row i
   * until a bad row is skipped): numbers as they are, text columns named as
   * features read as decimals. Bad values go to the policy in row order, as
   * for text; returns the bad row that stops the run (under stop), if one does.
   */
  decodeBlock(block: ColumnBlock, rows: DecodedRows, badRows: BadRowPolicy, source: string): RowError | undefined {
    const h = this.features.length;
    const info = this.table.parquet ?? [];
    const n = block.rows;
    rows.reserve(n);
    const { values, record } = rows;
    /** Bad values, in row order within each slot: [row, slot, error]. */
    let bad: [number, number, RowError][] | undefined;
    for (let j = 0; j < h; j++) {
      const c = this.features[j];
      const column = block.columns[c];
      const kind = info[c].kind;
      const numericNa = this.numericNa[j] === 1;
      let copied = false;
      if (kind === 'number' && column.valid === undefined && !numericNa) {
        // The common case: numbers without nulls, copied (unless one is infinite: then as below, to report it).
        const source = column.values as Float64Array | Int32Array | Float32Array | BigInt64Array;
        let finite = true;
        if (source instanceof BigInt64Array) {
          // An INT64 from its two 32-bit halves (little-endian, as Parquet): the sum rounds once, as Number(bigint)
          // does, without a bigint per value to collect.
          const words = new Int32Array(source.buffer, source.byteOffset, 2 * n);
          for (let r = 0, at = j; r < n; r++, at += h) values[at] = words[2 * r + 1] * 4294967296 + (words[2 * r] >>> 0);
        } else {
          for (let r = 0, at = j; r < n; r++, at += h) {
            const x = source[r];
            values[at] = x;
            if (x === Infinity || x === -Infinity) finite = false;
          }
        }
        copied = finite;
      }
      if (!copied) {
        for (let r = 0, at = j; r < n; r++, at += h) {
          let x: number;
          let problem: string | undefined;
          if (isNumericKind(kind)) {
            x = numberOf(info[c], column, r);
            if (numericNa && this.naNumbers[j].has(x)) x = NaN;
            if (x === Infinity || x === -Infinity) problem = `value ${x > 0 ? 'Infinity' : '-Infinity'} is infinite; finorm reads finite numbers only`;
          } else {
            const text = cellText(info[c], column, r);
            x = text === undefined || this.na[j].has(text) ? NaN : parseDecimal(text);
            if (text !== undefined && !Number.isFinite(x) && !this.na[j].has(text)) problem = `value ${showValue(text)} ${explainNotANumber(text)}`;
          }
          if (problem !== undefined) {
            (bad ??= []).push([r, j, new RowError(problem, { file: source, line: block.firstRow + r, column: this.table.names[j], unit: 'row' })]);
            x = NaN;
          }
          values[at] = x;
        }
      }
    }
    for (let r = 0; r < n; r++) record[r] = r;
    rows.count = n;
    if (bad === undefined) return undefined;
    bad.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    if (badRows.mode === 'stop') {
      rows.count = bad[0][0];
      return bad[0][2];
    }
    if (badRows.mode === 'null') {
      for (const [, , error] of bad) badRows.makeMissing(error);
      return undefined;
    }
    // skip: each bad row once, then the rows after it move up.
    const skipped = new Set<number>();
    for (const [r, , error] of bad) {
      if (skipped.has(r)) continue;
      skipped.add(r);
      badRows.handle(error);
    }
    let kept = 0;
    for (let r = 0; r < n; r++) {
      if (skipped.has(r)) continue;
      if (kept !== r) values.copyWithin(kept * h, r * h, (r + 1) * h);
      record[kept++] = r;
    }
    rows.count = kept;
    return undefined;
  }

  /** Record r of an NDJSON piece into values[base …]: numbers must be JSON numbers (or null, or a missing token). */
  private ndjsonRow(records: NdjsonRecords, r: number, values: Float64Array, base: number, source: string, badRows: BadRowPolicy): RowError | undefined {
    const { features } = this;
    const width = records.columns.length;
    const message = records.errors.size > 0 ? records.errors.get(r) : undefined;
    if (message !== undefined) return new RowError(message, { file: source, line: records.line[r] });
    const cells = records.cells;
    for (let j = 0; j < features.length; j++) {
      const cell = cells[r * width + features[j]];
      if (typeof cell === 'number') values[base + j] = this.numericNa[j] && this.naNumbers[j].has(cell) ? NaN : cell;
      else if (cell === null || cell === undefined || (typeof cell === 'string' && this.na[j].has(cell))) values[base + j] = NaN;
      else {
        const at = { file: source, line: records.line[r], column: this.table.names[j] };
        const kind = Array.isArray(cell) ? 'an array' : typeof cell === 'object' ? 'an object' : `a ${typeof cell}`;
        const error =
          typeof cell === 'string'
            ? new RowError(`value ${showValue(cell)} is a JSON string, not a JSON number`, at)
            : new RowError(`value ${showValue(JSON.stringify(cell))} is ${kind}, not a number`, at);
        if (badRows.mode !== 'null') return error;
        badRows.makeMissing(error);
        values[base + j] = NaN;
      }
    }
    return undefined;
  }
}
