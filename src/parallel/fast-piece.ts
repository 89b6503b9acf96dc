// The fast lane of a worker: a piece of plain CSV/TSV (no quotes, no bad
// rows, ASCII only, written back in the same format) is read and written as
// bytes, without a string per field or per line. Numbers are parsed straight
// from the bytes; pass-through fields are copied byte for byte. Whatever is
// not plain makes it decline, and the piece takes the general path
// (piece.ts), which handles everything; a property test checks that both
// lanes write the same bytes.

import { roundToPrecision, writeShortest } from '../io/format-number.js';
import { parseDecimal } from '../io/numbers.js';
import type { OutputBytes } from './output-bytes.js';

const LF = 10;
const CR = 13;
const QUOTE = 34;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const COMMA = 44;
const BACKSLASH = 92;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;

export interface FastLaneSetup {
  delimiter: number;
  /** Fields per record. */
  width: number;
  /** For each column: its feature slot, or −1 to copy the field. */
  slotOf: Int32Array;
  features: number;
  na: ReadonlySet<string>;
  precision: number | undefined;
  /** NDJSON output: each column's `"name":` as UTF-8; undefined for the input's own delimited format. */
  jsonKeys?: Uint8Array[];
}

/** A piece's rows as the fast lane read them: valid until the lane reads the next piece. */
export interface PlainRows {
  rows: number;
  /** rows × features, row-major. */
  values: Float64Array;
}

/**
 * One worker's fast lane. Its arrays are kept from piece to piece, so a
 * piece allocates little more than its output.
 */
export class FastLane {
  private capacity = 0;
  private values = new Float64Array(0);
  /** Where each copied field of each row starts and ends in the piece. */
  private fieldStart = new Int32Array(0);
  private fieldEnd = new Int32Array(0);

  constructor(private readonly setup: FastLaneSetup) {}

  /** Reads every record of `bytes`, or returns undefined if anything is not plain. */
  read(bytes: Buffer): PlainRows | undefined {
    if (bytes.indexOf(QUOTE) >= 0) return undefined;
    const { delimiter, width, slotOf, features, na } = this.setup;
    const n = bytes.length;
    let rows = 0;
    let seen = 0; // OR of all bytes: a high bit means non-ASCII text
    let i = 0;
    while (i < n) {
      // A blank line (LF or CRLF alone) is skipped, as the tokenizer does.
      if (bytes[i] === LF) {
        i++;
        continue;
      }
      if (bytes[i] === CR && i + 1 < n && bytes[i + 1] === LF) {
        i += 2;
        continue;
      }
      if (rows === this.capacity) this.grow(Math.max(1024, rows * 2));
      const { values, fieldStart, fieldEnd } = this;
      let column = 0;
      let atEnd = false;
      while (!atEnd) {
        const start = i;
        let c = 0;
        while (i < n) {
          c = bytes[i];
          seen |= c;
          if (c === delimiter || c === LF) break;
          if (c === CR) {
            // CR is a line end only before LF; elsewhere the general path decides.
            if (i + 1 < n && bytes[i + 1] === LF) break;
            return undefined;
          }
          i++;
        }
        const end = i;
        if (i >= n) atEnd = true;
        else if (c === delimiter) i++;
        else {
          atEnd = true;
          i += c === CR ? 2 : 1;
        }
        if (column >= width) return undefined;
        const slot = slotOf[column];
        if (slot >= 0) {
          const value = valueOf(bytes, start, end, na);
          if (value === undefined) return undefined;
          values[rows * features + slot] = value;
        } else {
          fieldStart[rows * width + column] = start;
          fieldEnd[rows * width + column] = end;
        }
        column++;
      }
      if (column !== width) return undefined;
      rows++;
    }
    if (seen > 127) return undefined;
    const size = rows * features;
    return { rows, values: this.values.subarray(0, size) };
  }

  /**
   * Writes the rows back, features from `out`, at the end of `output`: as
   * CSV/TSV with the copied fields as they were, or as NDJSON with them as
   * JSON strings. Returns false if a copied field needs JSON escapes (the
   * general path writes it).
   */
  write(bytes: Uint8Array, read: PlainRows, out: Float64Array, output: OutputBytes): boolean {
    if (this.setup.jsonKeys) return this.writeJson(bytes, read, out, this.setup.jsonKeys, output);
    this.writeDelimited(bytes, read, out, output);
    return true;
  }

  private writeDelimited(bytes: Uint8Array, read: PlainRows, out: Float64Array, output: OutputBytes): void {
    const { delimiter, width, slotOf, features, precision } = this.setup;
    const { fieldStart, fieldEnd } = this;
    let buffer = output.buffer;
    let p = output.length;
    for (let r = 0; r < read.rows; r++) {
      for (let c = 0; c < width; c++) {
        // Room for the field, and a delimiter or LF.
        const need = this.widest(r, c) + 1;
        if (p + need > buffer.length) buffer = this.roomFor(output, p, need, bytes.length);
        if (c > 0) buffer[p++] = delimiter;
        const slot = slotOf[c];
        if (slot >= 0) {
          const y = out[r * features + slot];
          if (y === y) p = writeShortest(precision === undefined ? y : roundToPrecision(y, precision), buffer, p);
        } else {
          const end = fieldEnd[r * width + c];
          for (let k = fieldStart[r * width + c]; k < end; k++) buffer[p++] = bytes[k];
        }
      }
      buffer[p++] = LF;
    }
    output.length = p;
  }

  private writeJson(bytes: Uint8Array, read: PlainRows, out: Float64Array, keys: Uint8Array[], output: OutputBytes): boolean {
    const { width, slotOf, features, precision } = this.setup;
    const { fieldStart, fieldEnd } = this;
    let buffer = output.buffer;
    let p = output.length;
    for (let r = 0; r < read.rows; r++) {
      for (let c = 0; c < width; c++) {
        // Room for `{` or `,`, the key, the value (quoted, or null), and `}` LF.
        const need = keys[c].length + this.widest(r, c) + 5;
        if (p + need > buffer.length) buffer = this.roomFor(output, p, need, bytes.length * 2);
        buffer[p++] = c === 0 ? OPEN_BRACE : COMMA;
        buffer.set(keys[c], p);
        p += keys[c].length;
        const slot = slotOf[c];
        if (slot >= 0) {
          const y = out[r * features + slot];
          p = y === y ? writeShortest(precision === undefined ? y : roundToPrecision(y, precision), buffer, p) : putAscii(buffer, p, 'null');
        } else {
          buffer[p++] = QUOTE;
          const end = fieldEnd[r * width + c];
          for (let k = fieldStart[r * width + c]; k < end; k++) {
            const b = bytes[k];
            // A backslash or a control character needs an escape.
            if (b < 32 || b === BACKSLASH) return false;
            buffer[p++] = b;
          }
          buffer[p++] = QUOTE;
        }
      }
      buffer[p++] = CLOSE_BRACE;
      buffer[p++] = LF;
    }
    output.length = p;
    return true;
  }

  /** The text of copied field c of row r (ASCII: the piece was read as plain). */
  fieldText(bytes: Buffer, r: number, c: number): string {
    const width = this.setup.width;
    return bytes.toString('latin1', this.fieldStart[r * width + c], this.fieldEnd[r * width + c]);
  }

  /** The most bytes field c of row r can take as text: a number's, or the copied field and two quotes. */
  private widest(r: number, c: number): number {
    const width = this.setup.width;
    return this.setup.slotOf[c] >= 0 ? 32 : this.fieldEnd[r * width + c] - this.fieldStart[r * width + c] + 2;
  }

  /**
   * Room for `need` more bytes after the first `used` of the output; a
   * growing output takes `ahead` bytes more at once (a piece's worth),
   * not one field's worth at a time.
   */
  private roomFor(output: OutputBytes, used: number, need: number, ahead: number): Uint8Array {
    output.length = used;
    return output.reserve(Math.max(need, ahead));
  }

  private grow(capacity: number): void {
    const { features, width } = this.setup;
    this.values = enlarged(this.values, capacity * features);
    this.fieldStart = enlarged(this.fieldStart, capacity * width);
    this.fieldEnd = enlarged(this.fieldEnd, capacity * width);
    this.capacity = capacity;
  }
}

/** Writes an ASCII text (a formatted number) at `p`; returns the position after it. */
function putAscii(buffer: Uint8Array, p: number, text: string): number {
  for (let k = 0; k < text.length; k++) buffer[p++] = text.charCodeAt(k);
  return p;
}

/** The number in a feature field, NaN if it is a missing token, undefined if neither. */
function valueOf(bytes: Buffer, start: number, end: number, na: ReadonlySet<string>): number | undefined {
  const simple = parseSimpleDecimal(bytes, start, end);
  if (simple === simple) return simple;
  // Anything else (exponents, spaces, long mantissas, missing tokens) as the general path reads it.
  const text = bytes.toString('latin1', start, end);
  const value = parseDecimal(text);
  if (value === value && value !== Infinity && value !== -Infinity) return value;
  return na.has(text) ? NaN : undefined;
}

const POWERS_OF_TEN = Array.from({ length: 16 }, (_, k) => Number(`1e${k}`));

/**
 * `[+-]digits[.digits]` with at most 15 digits, or NaN. Such a mantissa is
 * exact in a double, so one division by an exact power of ten rounds
 * correctly: the value parseDecimal gives, at a fraction of the cost.
 */
export function parseSimpleDecimal(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  const negative = bytes[i] === MINUS;
  if (negative || bytes[i] === PLUS) i++;
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  let d = 0;
  while (i < end && (d = bytes[i] - ZERO) >= 0 && d <= 9) {
    mantissa = mantissa * 10 + d;
    digits++;
    i++;
  }
  if (i < end && bytes[i] === DOT) {
    i++;
    while (i < end && (d = bytes[i] - ZERO) >= 0 && d <= 9) {
      mantissa = mantissa * 10 + d;
      digits++;
      scale++;
      i++;
    }
  }
  if (i !== end || digits === 0 || digits > 15) return NaN;
  const value = scale === 0 ? mantissa : mantissa / POWERS_OF_TEN[scale];
  return negative ? -value : value;
}

function enlarged<T extends Float64Array | Int32Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array);
  return bigger;
}
