// Rows out, as bytes: CSV, TSV or NDJSON, with the feature cells replaced by
// computed numbers (shortest round-trip form) and every other cell passed
// through: CSV fields copied as bytes, quoted only when the output needs it;
// NDJSON values as JSON. It knows nothing of normalization: it is given the
// records, which output column holds which feature value or input cell, and
// the new values.

import { isUtf8 } from 'node:buffer';
import { type CsvRecords, FIELD_BARE_CR, FIELD_ESCAPED, FIELD_QUOTED, QUOTE, LF, CR } from './csv.js';
import { MAX_NUMBER_BYTES, roundToPrecision, writeShortest } from './format-number.js';
import type { NdjsonRecords } from './ndjson.js';
import { type ColumnInfo, cellJson, cellText as parquetCellText } from './parquet/cells.js';
import type { ColumnBlock } from './parquet/decode.js';
import type { ParquetOutputColumn } from './parquet/encode.js';
import type { OutputBytes } from './output-bytes.js';
import type { Format } from './sources.js';

export interface OutputLayout {
  format: Format;
  /** The field delimiter of CSV/TSV output, as a byte (a tab for TSV). */
  delimiter: number;
  /** Write a header line (CSV/TSV). */
  header: boolean;
  /** The output's columns, in order. */
  columns: readonly string[];
  /** For each output column: the feature value it holds (a position among the features), or −1 for an input cell. */
  slotOf: Int32Array;
  /** For each output column that is not a feature value: the input column whose cell it copies. */
  fieldOf: Int32Array;
  /** How many feature values each row has (some may not be written). */
  features: number;
  /**
   * CSV/TSV input written as NDJSON: a pass-through cell that is a JSON
   * number literal is written as that number (false: as a string, --strings).
   * An empty cell is null either way.
   */
  numbersAsNumbers: boolean;
  /** Significant digits, or undefined for the shortest exact form. */
  precision: number | undefined;
  /** Parquet output: each output column's type and where its values come from (parquet/rows.ts writes them). */
  parquet?: ParquetOutputColumn[];
}

const BACKSLASH = 92;
const COMMA = 44;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const NULL = [110, 117, 108, 108];
const HEX = [48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 97, 98, 99, 100, 101, 102];
/** JSON's short escapes for control characters: \b \t \n \f \r. */
const SHORT_ESCAPE = new Map([
  [8, 98],
  [9, 116],
  [10, 110],
  [12, 102],
  [13, 114],
]);
const encoder = new TextEncoder();

export class RowWriter {
  private readonly features: number;
  private readonly keys: Uint8Array[];

  /** `inputDelimiter`: the CSV/TSV input's delimiter byte (0 for NDJSON input). */
  constructor(
    readonly layout: OutputLayout,
    private readonly inputDelimiter: number,
  ) {
    this.features = layout.features;
    this.keys = layout.columns.map((name) => encoder.encode(JSON.stringify(name) + ':'));
  }

  /** The header line (CSV/TSV with a header), empty otherwise. */
  headerBytes(): Uint8Array {
    const { layout } = this;
    if (layout.format === 'ndjson' || !layout.header || layout.columns.length === 0) return new Uint8Array(0);
    const delimiter = String.fromCharCode(layout.delimiter);
    return encoder.encode(layout.columns.map((name) => quotedText(name, layout.delimiter)).join(delimiter) + '\n');
  }

  /**
   * Appends `count` rows of a CSV/TSV piece to `out`: row i is record
   * rows[i] of `records`, with its features values[i·features …].
   */
  writeCsvRows(out: OutputBytes, bytes: Uint8Array, records: CsvRecords, rows: Int32Array, count: number, values: Float64Array): void {
    if (this.layout.format === 'ndjson') return this.csvToJson(out, bytes, records, rows, count, values);
    const { slotOf, fieldOf, precision } = this.layout;
    const delimiter = this.layout.delimiter;
    const sameDelimiter = delimiter === this.inputDelimiter;
    const width = slotOf.length;
    const features = this.features;
    const { fieldStart, fieldEnd, fieldFlags, firstField, recordStart, recordEnd } = records;
    for (let i = 0; i < count; i++) {
      const r = rows[i];
      // Room for the record's bytes twice over (quotes doubled) and every number.
      const buffer = out.reserve(2 * (recordEnd[r] - recordStart[r]) + features * MAX_NUMBER_BYTES + width + 3);
      let p = out.length;
      const rowStart = p;
      const first = firstField[r];
      const base = i * features;
      for (let c = 0; c < width; c++) {
        if (c > 0) buffer[p++] = delimiter;
        const slot = slotOf[c];
        if (slot >= 0) {
          const y = values[base + slot];
          if (y === y) p = writeShortest(precision === undefined ? y : roundToPrecision(y, precision), buffer, p);
          continue;
        }
        const f = first + fieldOf[c];
        const s = fieldStart[f];
        const e = fieldEnd[f];
        const flags = fieldFlags[f];
        if (flags === 0 && sameDelimiter) {
          for (let k = s; k < e; k++) buffer[p++] = bytes[k];
        } else if ((flags & FIELD_ESCAPED) !== 0 || needsQuotes(bytes, s, e, delimiter)) {
          if ((flags & FIELD_QUOTED) !== 0) {
            // The field as it was written, quotes and doubled quotes included.
            for (let k = s - 1; k <= e; k++) buffer[p++] = bytes[k];
          } else {
            buffer[p++] = QUOTE;
            for (let k = s; k < e; k++) buffer[p++] = bytes[k];
            buffer[p++] = QUOTE;
          }
        } else {
          for (let k = s; k < e; k++) buffer[p++] = bytes[k];
        }
      }
      // A lone empty field would read back as a blank line, which readers skip.
      if (width === 1 && p === rowStart) {
        buffer[p++] = QUOTE;
        buffer[p++] = QUOTE;
      }
      buffer[p++] = LF;
      out.length = p;
    }
  }

  private csvToJson(out: OutputBytes, bytes: Uint8Array, records: CsvRecords, rows: Int32Array, count: number, values: Float64Array): void {
    const { slotOf, fieldOf, precision, numbersAsNumbers } = this.layout;
    const width = slotOf.length;
    const features = this.features;
    const keys = this.keys;
    const { fieldStart, fieldEnd, fieldFlags, firstField, recordStart, recordEnd } = records;
    let keyBytes = 0;
    for (const key of keys) keyBytes += key.length + 1;
    for (let i = 0; i < count; i++) {
      const r = rows[i];
      // An escaped byte takes at most 6 (\u00XX).
      const buffer = out.reserve(6 * (recordEnd[r] - recordStart[r]) + features * MAX_NUMBER_BYTES + keyBytes + 3 * width + 3);
      let p = out.length;
      const first = firstField[r];
      const base = i * features;
      for (let c = 0; c < width; c++) {
        buffer[p++] = c === 0 ? OPEN_BRACE : COMMA;
        const key = keys[c];
        for (let k = 0; k < key.length; k++) buffer[p++] = key[k];
        const slot = slotOf[c];
        if (slot >= 0) {
          const y = values[base + slot];
          if (y === y) p = writeShortest(precision === undefined ? y : roundToPrecision(y, precision), buffer, p);
          else for (const b of NULL) buffer[p++] = b;
          continue;
        }
        const f = first + fieldOf[c];
        const s = fieldStart[f];
        const e = fieldEnd[f];
        if (s === e) {
          for (const b of NULL) buffer[p++] = b;
        } else if (numbersAsNumbers && isJsonNumber(bytes, s, e)) {
          for (let k = s; k < e; k++) buffer[p++] = bytes[k];
        } else {
          p = writeJsonString(buffer, p, bytes, s, e, (fieldFlags[f] & FIELD_ESCAPED) !== 0);
        }
      }
      buffer[p++] = CLOSE_BRACE;
      buffer[p++] = LF;
      out.length = p;
    }
  }

  /** Appends `count` rows of a Parquet block to `out` (as writeCsvRows): cells as text, or as JSON values for NDJSON. */
  writeBlockRows(out: OutputBytes, block: ColumnBlock, info: readonly ColumnInfo[], rows: Int32Array, count: number, values: Float64Array): void {
    const { slotOf, fieldOf, precision, format, delimiter } = this.layout;
    const width = slotOf.length;
    const features = this.features;
    const json = format === 'ndjson';
    const keys = this.keys;
    for (let i = 0; i < count; i++) {
      const r = rows[i];
      const rowStart = out.length;
      for (let c = 0; c < width; c++) {
        let buffer = out.reserve(MAX_NUMBER_BYTES + keys[c].length + 2);
        if (json) {
          buffer[out.length++] = c === 0 ? OPEN_BRACE : COMMA;
          buffer.set(keys[c], out.length);
          out.length += keys[c].length;
        } else if (c > 0) buffer[out.length++] = delimiter;
        const slot = slotOf[c];
        if (slot >= 0) {
          const y = values[i * features + slot];
          if (y === y) out.length = writeShortest(precision === undefined ? y : roundToPrecision(y, precision), buffer, out.length);
          else if (json) for (const b of NULL) buffer[out.length++] = b;
          continue;
        }
        const f = fieldOf[c];
        const column = block.columns[f];
        if (!json && info[f].kind === 'string' && column.offsets !== undefined) {
          // Text as its bytes, quoted if it must be (the common case, without building a string).
          const s = column.offsets[r];
          const e = column.offsets[r + 1];
          const data = column.data as Uint8Array;
          if (e === s || isUtf8(data.subarray(s, e))) {
            buffer = out.reserve(2 * (e - s) + 2);
            let p = out.length;
            if (needsQuotes(data, s, e, delimiter)) {
              buffer[p++] = QUOTE;
              for (let k = s; k < e; k++) {
                if (data[k] === QUOTE) buffer[p++] = QUOTE;
                buffer[p++] = data[k];
              }
              buffer[p++] = QUOTE;
            } else for (let k = s; k < e; k++) buffer[p++] = data[k];
            out.length = p;
            continue;
          }
        }
        let text: string;
        if (json) text = cellJson(info[f], column, r);
        else text = quotedText(parquetCellText(info[f], column, r) ?? '', delimiter);
        buffer = out.reserve(3 * text.length);
        out.length += encoder.encodeInto(text, buffer.subarray(out.length)).written;
      }
      const buffer = out.reserve(3);
      if (json) buffer[out.length++] = CLOSE_BRACE;
      else if (width === 1 && out.length === rowStart) {
        buffer[out.length++] = QUOTE;
        buffer[out.length++] = QUOTE;
      }
      buffer[out.length++] = LF;
    }
  }

  /** Appends `count` rows of an NDJSON piece to `out` (as writeCsvRows). */
  writeNdjsonRows(out: OutputBytes, records: NdjsonRecords, rows: Int32Array, count: number, values: Float64Array): void {
    const { slotOf, fieldOf, precision, format } = this.layout;
    const width = slotOf.length;
    const features = this.features;
    const cells = records.cells;
    const json = format === 'ndjson';
    for (let i = 0; i < count; i++) {
      const base = records.columns.length * rows[i];
      let line = '';
      let first = true;
      for (let c = 0; c < width; c++) {
        const slot = slotOf[c];
        let text: string;
        if (slot >= 0) {
          const y = values[i * features + slot];
          if (y === y) {
            const buffer = out.reserve(MAX_NUMBER_BYTES);
            // Numbers go through the byte formatter too, then into the line's text.
            const end = writeShortest(precision === undefined ? y : roundToPrecision(y, precision), buffer, out.length);
            text = '';
            for (let k = out.length; k < end; k++) text += String.fromCharCode(buffer[k]);
          } else {
            text = json ? 'null' : '';
          }
        } else {
          const cell = cells[base + fieldOf[c]];
          if (json) {
            if (cell === undefined) continue; // a key absent from the input stays absent
            text = JSON.stringify(cell);
          } else {
            text = quotedText(cellText(cell), this.layout.delimiter);
          }
        }
        if (json) {
          line += (first ? '{' : ',') + JSON.stringify(this.layout.columns[c]) + ':' + text;
          first = false;
        } else {
          line += (c > 0 ? String.fromCharCode(this.layout.delimiter) : '') + text;
        }
      }
      if (json) line += first ? '{}' : '}';
      else if (width === 1 && line === '') line = '""';
      line += '\n';
      const buffer = out.reserve(3 * line.length);
      out.length += encoder.encodeInto(line, buffer.subarray(out.length)).written;
    }
  }
}

/** Significant digits a double holds exactly: more (a nanosecond timestamp, a long id) would read back changed. */
const EXACT_DIGITS = 15;

/**
 * Is the text a JSON number literal, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?,
 * that reads back as the same number: at most 15 significant digits and an
 * exponent within ±300? (`0123`, `.5`, `+1` and `1.` stay strings, so a zip
 * code keeps its zero; so does `1577836800123456789`, so it keeps its digits.)
 */
export function isJsonNumber(bytes: Uint8Array, start: number, end: number): boolean {
  let k = start;
  let significant = 0;
  let leading = true;
  const digit = (b: number): void => {
    if (leading && b === 48) return;
    leading = false;
    significant++;
  };
  if (k < end && bytes[k] === 45) k++;
  if (k >= end) return false;
  if (bytes[k] === 48) k++;
  else if (bytes[k] >= 49 && bytes[k] <= 57) while (k < end && bytes[k] >= 48 && bytes[k] <= 57) digit(bytes[k++]);
  else return false;
  if (k < end && bytes[k] === 46) {
    k++;
    const digits = k;
    while (k < end && bytes[k] >= 48 && bytes[k] <= 57) digit(bytes[k++]);
    if (k === digits) return false;
  }
  if (k < end && (bytes[k] === 101 || bytes[k] === 69)) {
    k++;
    if (k < end && (bytes[k] === 43 || bytes[k] === 45)) k++;
    const digits = k;
    let exponent = 0;
    while (k < end && bytes[k] >= 48 && bytes[k] <= 57) exponent = Math.min(10_000, exponent * 10 + bytes[k++] - 48);
    if (k === digits || exponent > 300) return false;
  }
  return k === end && significant <= EXACT_DIGITS;
}

/** Does a field's content need quotes in delimited output: a delimiter, quote, CR or LF in it? */
function needsQuotes(bytes: Uint8Array, start: number, end: number, delimiter: number): boolean {
  for (let k = start; k < end; k++) {
    const b = bytes[k];
    if (b === delimiter || b === QUOTE || b === LF || b === CR) return true;
  }
  return false;
}

/** Text as a delimited field: quoted (quotes doubled) if it holds a delimiter, quote, CR or LF. */
export function quotedText(text: string, delimiter: number): string {
  const d = String.fromCharCode(delimiter);
  if (!(text.includes(d) || text.includes('"') || text.includes('\n') || text.includes('\r'))) return text;
  return `"${text.replaceAll('"', '""')}"`;
}

/** A pass-through NDJSON cell as delimited text: strings as they are, null and absent as empty, the rest as JSON. */
export function cellText(cell: unknown): string {
  if (typeof cell === 'string') return cell;
  if (cell === null || cell === undefined) return '';
  return JSON.stringify(cell);
}

/**
 * A CSV field's content bytes as a JSON string, escaped as JSON.stringify
 * escapes (", \, control characters); `escaped`: `""` stands for one quote.
 */
function writeJsonString(buffer: Uint8Array, at: number, bytes: Uint8Array, start: number, end: number, escaped: boolean): number {
  let p = at;
  buffer[p++] = QUOTE;
  for (let k = start; k < end; k++) {
    const b = bytes[k];
    if (b >= 32 && b !== QUOTE && b !== BACKSLASH) {
      buffer[p++] = b;
      continue;
    }
    buffer[p++] = BACKSLASH;
    if (b === QUOTE) {
      buffer[p++] = QUOTE;
      if (escaped) k++;
    } else if (b === BACKSLASH) {
      buffer[p++] = BACKSLASH;
    } else {
      const short = SHORT_ESCAPE.get(b);
      if (short !== undefined) buffer[p++] = short;
      else {
        buffer[p++] = 117; // u00XX
        buffer[p++] = 48;
        buffer[p++] = 48;
        buffer[p++] = HEX[b >> 4];
        buffer[p++] = HEX[b & 15];
      }
    }
  }
  buffer[p++] = QUOTE;
  return p;
}

