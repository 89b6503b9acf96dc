// CSV/TSV records in bytes (RFC 4180), as field offsets: nothing is copied
// and no string is made. The grammar, in one place:
//
// - Fields are separated by a one-byte delimiter; records end at LF or CRLF
//   (both may appear in one file). A CR not followed by LF is data.
// - A field that starts with a quote runs to the matching quote; inside it,
//   `""` is a quote, and delimiters and line breaks are data.
// - A quote inside an unquoted field, or anything but a delimiter or line end
//   after a closing quote, makes the record malformed; so does the end of the
//   input inside quotes. A malformed record runs to the end of its physical
//   line, and is reported with its error so the caller can stop or skip it.
// - Blank lines are no records.
//
// Two readers share this grammar: tokenizeCsv reads every field of whole
// records (a piece, in a worker or in-process), and CsvRecordEnds finds where
// records end in a stream of bytes, to cut it into such pieces, jumping from
// quote to quote so that bytes without quotes cost one native search.
// csv-parse (bom, skip_empty_lines, record_delimiter [CRLF, LF]) reads every
// well-formed input the same way; a property test checks that.
//
// Given the columns that hold numbers, tokenizeCsv also reads each of their
// fields that is a plain decimal while it is at hand (the common case), so
// that decoding only looks at the rest.

import { parsePlainDecimal } from './decimal.js';

export const QUOTE = 34;
export const LF = 10;
export const CR = 13;

/** The field was quoted: its content is between the quotes. */
export const FIELD_QUOTED = 1;
/** A quoted field holding `""`: its content must be unescaped. */
export const FIELD_ESCAPED = 2;
/** An unquoted field holding a CR (data): writing it back needs quotes. */
export const FIELD_BARE_CR = 4;

/** The records of a piece as offsets into its bytes; arrays are reused from piece to piece. */
export class CsvRecords {
  /** Records read, malformed ones included. */
  count = 0;
  /** Fields of all records. */
  fields = 0;
  /** Field f's content is bytes[fieldStart[f], fieldEnd[f]) (between the quotes of a quoted field). */
  fieldStart = new Int32Array(1024);
  fieldEnd = new Int32Array(1024);
  fieldFlags = new Uint8Array(1024);
  /** Record r's fields are firstField[r] to firstField[r + 1] − 1. */
  firstField = new Int32Array(257);
  /** The physical line on which record r starts. */
  line = new Float64Array(256);
  /** Where record r's bytes start, and end (after its line break). */
  recordStart = new Int32Array(256);
  recordEnd = new Int32Array(256);
  /** The error of each malformed record, by record index. */
  readonly errors = new Map<number, string>();
  /**
   * With number columns (tokenizeCsv's `numberSlots`): record r's value of
   * slot k at numbers[r·slots + k] if that field is a plain decimal, else NaN.
   */
  numbers = new Float64Array(0);
  /** Whether the last tokenizeCsv read numbers (was given number columns). */
  numbersRead = false;

  clear(): void {
    this.count = 0;
    this.fields = 0;
    this.firstField[0] = 0;
    this.errors.clear();
  }

  /** Fields of record r. */
  width(r: number): number {
    return this.firstField[r + 1] - this.firstField[r];
  }

  /** Doubles the room for fields (keeping those read). */
  growFields(): void {
    const f = this.fieldStart.length * 2;
    this.fieldStart = grown(this.fieldStart, f);
    this.fieldEnd = grown(this.fieldEnd, f);
    this.fieldFlags = grown(this.fieldFlags, f);
  }

  /** Ends record `count` (its fields are those added since the last one). */
  endRecord(start: number, end: number, line: number, error: string | undefined): void {
    const r = this.count;
    if (r + 1 >= this.line.length) {
      this.line = grown(this.line, (r + 1) * 2);
      this.recordStart = grown(this.recordStart, (r + 1) * 2);
      this.recordEnd = grown(this.recordEnd, (r + 1) * 2);
      this.firstField = grown(this.firstField, (r + 1) * 2 + 1);
    }
    if (error !== undefined) {
      this.errors.set(r, error);
      this.fields = this.firstField[r]; // a malformed record has no fields
    }
    this.line[r] = line;
    this.recordStart[r] = start;
    this.recordEnd[r] = end;
    this.count = r + 1;
    this.firstField[r + 1] = this.fields;
  }
}

function grown<T extends Int32Array | Uint8Array | Float64Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array);
  return bigger;
}

/**
 * Reads the records of bytes[start, end), which starts where a record
 * starts and ends where one ends (or at the end of the input), into `out`
 * (cleared first). `firstLine` is the physical line of bytes[start]. At most
 * `maxRecords` records are read; returns the offset after the last one.
 */
export function tokenizeCsv(
  bytes: Uint8Array,
  start: number,
  end: number,
  delimiter: number,
  firstLine: number,
  out: CsvRecords,
  maxRecords = Infinity,
  numberSlots?: Int32Array,
  slots = 0,
): number {
  out.clear();
  out.numbersRead = numberSlots !== undefined;
  let numbers = out.numbers;
  // Bytes above this need no look: they are none of delimiter, LF, CR, quote.
  const highest = delimiter > QUOTE ? delimiter : QUOTE;
  // The field arrays in locals (this is the hottest loop there is); out.fields is kept up to date at each record's end.
  let fieldStarts = out.fieldStart;
  let fieldEnds = out.fieldEnd;
  let fieldFlags = out.fieldFlags;
  let capacity = fieldStarts.length;
  let fields = 0;
  let i = start;
  let line = firstLine;
  while (i < end && out.count < maxRecords) {
    const recordStart = i;
    const recordLine = line;
    const firstOfRecord = fields;
    let c = bytes[i];
    // A blank line is no record.
    if (c === LF) {
      i++;
      line++;
      continue;
    }
    if (c === CR && i + 1 < end && bytes[i + 1] === LF) {
      i += 2;
      line++;
      continue;
    }
    const numbersAt = out.count * slots;
    if (numbersAt + slots > numbers.length) {
      const bigger = new Float64Array(Math.max(2 * numbers.length, numbersAt + slots, 1024));
      bigger.set(numbers);
      out.numbers = numbers = bigger;
    }
    let error: string | undefined;
    // One field per turn; the record ends at a line break, the end, or an error.
    for (;;) {
      let fieldStart: number;
      let fieldEnd: number;
      let flags = 0;
      /** After the field: true if the record goes on (a delimiter). */
      let more = false;
      if (i < end && bytes[i] === QUOTE) {
        // Quoted: to the closing quote, past doubled ones.
        fieldStart = i + 1;
        flags = FIELD_QUOTED;
        let j = fieldStart;
        let close = -1;
        while (j < end) {
          const q = bytes.indexOf(QUOTE, j);
          if (q < 0 || q >= end) break;
          for (let k = j; k < q; k++) if (bytes[k] === LF) line++;
          if (q + 1 < end && bytes[q + 1] === QUOTE) {
            flags |= FIELD_ESCAPED;
            j = q + 2;
            continue;
          }
          close = q;
          break;
        }
        if (close < 0) {
          for (let k = j; k < end; k++) if (bytes[k] === LF) line++;
          error = `unterminated quoted field (the quote opened on line ${recordLineOfQuote(bytes, recordStart, fieldStart, recordLine)} is never closed)`;
          i = end;
          break;
        }
        fieldEnd = close;
        i = close + 1;
        if (numberSlots !== undefined) {
          const column = fields - firstOfRecord;
          const slot = column < numberSlots.length ? numberSlots[column] : -1;
          if (slot >= 0) numbers[numbersAt + slot] = NaN;
        }
        if (i < end) {
          c = bytes[i];
          if (c === delimiter) {
            i++;
            more = true;
          } else if (c === LF) {
            i++;
            line++;
          } else if (c === CR && i + 1 < end && bytes[i + 1] === LF) {
            i += 2;
            line++;
          } else {
            error = `unexpected ${describeByte(bytes, i, end)} after a closing quote`;
            i = skipLine(bytes, i, end);
            if (bytes[i - 1] === LF) line++;
            break;
          }
        }
      } else {
        // Unquoted: to a delimiter, a line end, or a (misplaced) quote.
        fieldStart = i;
        for (;;) {
          while (i < end && (c = bytes[i]) > highest) i++;
          if (i >= end) break;
          if (c === delimiter || c === LF || c === QUOTE) break;
          if (c === CR) {
            if (i + 1 < end && bytes[i + 1] === LF) break;
            flags = FIELD_BARE_CR;
          }
          i++;
        }
        fieldEnd = i;
        if (numberSlots !== undefined) {
          const column = fields - firstOfRecord;
          const slot = column < numberSlots.length ? numberSlots[column] : -1;
          if (slot >= 0) numbers[numbersAt + slot] = parsePlainDecimal(bytes, fieldStart, fieldEnd);
        }
        if (i < end) {
          if (c === QUOTE) {
            error = 'quote inside an unquoted field (quote a field that contains quotes, and double them: "a ""b"" c")';
            i = skipLine(bytes, i, end);
            if (bytes[i - 1] === LF) line++;
            break;
          }
          if (c === delimiter) {
            i++;
            more = true;
          } else {
            i += c === CR ? 2 : 1;
            line++;
          }
        }
      }
      if (fields === capacity) {
        out.fields = fields;
        out.growFields();
        fieldStarts = out.fieldStart;
        fieldEnds = out.fieldEnd;
        fieldFlags = out.fieldFlags;
        capacity = fieldStarts.length;
      }
      fieldStarts[fields] = fieldStart;
      fieldEnds[fields] = fieldEnd;
      fieldFlags[fields] = flags;
      fields++;
      if (!more) break;
    }
    // A lone empty unquoted field is a blank line (e.g. the last line, without a line break).
    if (error === undefined && fields - firstOfRecord === 1 && fieldStarts[firstOfRecord] === fieldEnds[firstOfRecord] && fieldFlags[firstOfRecord] === 0) {
      fields = firstOfRecord;
      continue;
    }
    out.fields = fields;
    out.endRecord(recordStart, i, recordLine, error);
    fields = out.fields;
  }
  out.fields = fields;
  return i;
}

/** The line a record's quote opened on: the record's line plus its line breaks before the quote. */
function recordLineOfQuote(bytes: Uint8Array, recordStart: number, contentStart: number, recordLine: number): number {
  let line = recordLine;
  for (let k = recordStart; k < contentStart; k++) if (bytes[k] === LF) line++;
  return line;
}

/** The offset after the LF that ends the physical line at `from` (or `end`). */
function skipLine(bytes: Uint8Array, from: number, end: number): number {
  const lf = bytes.indexOf(LF, from);
  return lf < 0 || lf >= end ? end : lf + 1;
}

/** The character at bytes[at], as a message shows it: JSON-quoted, UTF-8 decoded. */
function describeByte(bytes: Uint8Array, at: number, end: number): string {
  const b = bytes[at];
  const length = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
  return JSON.stringify(new TextDecoder().decode(bytes.subarray(at, Math.min(end, at + length))));
}

const enum Scan {
  FieldStart,
  Unquoted,
  Quoted,
  /** A quote inside a quoted field: an escaped quote or the closing one. */
  QuoteInQuoted,
  /** A CR just after a closing quote: only an LF may follow. */
  CrAfterQuote,
  /** A malformed record: its line runs to the next LF. */
  SkipLine,
}

/**
 * Where records end in a stream of bytes, by the grammar above: an LF outside
 * quotes, after a closing quote, or ending a malformed line. The bytes come
 * in consecutive ranges (chunks); the state carries over.
 */
export class CsvRecordEnds {
  private state = Scan.FieldStart;

  constructor(private readonly delimiter: number) {}

  /** Whether the bytes scanned so far end inside a quoted field. */
  get inQuotes(): boolean {
    return this.state === Scan.Quoted || this.state === Scan.QuoteInQuoted;
  }

  /** Continues over bytes[from, to); returns the offset after the last record end in it, or −1. */
  scan(buffer: Uint8Array, from: number, to: number): number {
    // Searches stop at `to`: the buffer beyond it holds nothing yet, and a
    // record without a line end (binary data) must not be searched again and
    // again for each new chunk.
    const bytes = to === buffer.length ? buffer : buffer.subarray(0, to);
    const delimiter = this.delimiter;
    let state = this.state;
    let lastEnd = -1;
    let i = from;
    while (i < to) {
      switch (state) {
        case Scan.FieldStart:
        case Scan.Unquoted: {
          const q = bytes.indexOf(QUOTE, i);
          const stop = q < 0 ? to : q;
          const lf = lastLineFeed(bytes, i, stop);
          if (lf >= 0) lastEnd = lf + 1;
          if (stop === to) {
            const final = bytes[to - 1];
            state = final === LF || final === delimiter ? Scan.FieldStart : Scan.Unquoted;
            i = to;
            break;
          }
          // A quote opens a quoted field at the start of a field, and is an error anywhere else.
          const atFieldStart = q === i ? state === Scan.FieldStart : bytes[q - 1] === delimiter || bytes[q - 1] === LF;
          state = atFieldStart ? Scan.Quoted : Scan.SkipLine;
          i = q + 1;
          break;
        }
        case Scan.Quoted: {
          const q = bytes.indexOf(QUOTE, i);
          if (q < 0) {
            i = to;
            break;
          }
          state = Scan.QuoteInQuoted;
          i = q + 1;
          break;
        }
        case Scan.QuoteInQuoted: {
          const c = bytes[i++];
          if (c === QUOTE) state = Scan.Quoted;
          else if (c === delimiter) state = Scan.FieldStart;
          else if (c === LF) {
            state = Scan.FieldStart;
            lastEnd = i;
          } else if (c === CR) state = Scan.CrAfterQuote;
          else state = Scan.SkipLine;
          break;
        }
        case Scan.CrAfterQuote:
          if (bytes[i] === LF) {
            state = Scan.FieldStart;
            lastEnd = ++i;
          } else state = Scan.SkipLine;
          break;
        case Scan.SkipLine: {
          const lf = bytes.indexOf(LF, i);
          if (lf < 0) {
            i = to;
            break;
          }
          state = Scan.FieldStart;
          i = lf + 1;
          lastEnd = i;
          break;
        }
      }
    }
    this.state = state;
    return lastEnd;
  }
}

/**
 * The offset of the last LF in bytes[from, to), or −1. (lastIndexOf alone
 * would search on below `from`, to the start of a record without line ends.)
 */
export function lastLineFeed(bytes: Uint8Array, from: number, to: number): number {
  if (to - from <= 64) {
    for (let k = to - 1; k >= from; k--) if (bytes[k] === LF) return k;
    return -1;
  }
  const at = bytes.subarray(from, to).lastIndexOf(LF);
  return at < 0 ? -1 : from + at;
}

/** The content of field f, unescaped (`""` → `"`), as UTF-8 text; `bytes` may be a Buffer (saves making one). */
export function fieldText(bytes: Uint8Array, records: CsvRecords, f: number): string {
  const start = records.fieldStart[f];
  const end = records.fieldEnd[f];
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if ((records.fieldFlags[f] & FIELD_ESCAPED) === 0) return buffer.toString('utf8', start, end);
  // `""` → `"` on the bytes, run by run: replaceAll on the text keeps a part for each match, and a
  // field of millions of escapes took hundreds of megabytes.
  const unescaped = Buffer.allocUnsafe(end - start);
  let length = 0;
  for (let at = start; at < end; ) {
    const quote = buffer.indexOf(QUOTE, at);
    const stop = quote < 0 || quote >= end ? end : quote + 1;
    length += buffer.copy(unescaped, length, at, stop);
    at = stop + 1; // past the second quote of the pair
  }
  return unescaped.toString('utf8', 0, length);
}

/** Delimiters a header line is sniffed for, the default first (it wins a tie). */
const SNIFFED_DELIMITERS = [44 /* , */, 9 /* tab */, 59 /* ; */, 124 /* | */] as const;

/**
 * The delimiter of a header line, for input that names none (stdin, a file
 * without a known extension): of comma, tab, semicolon and pipe, the one that
 * occurs most often outside quotes; a comma if none does (one column).
 */
export function sniffDelimiter(line: Uint8Array): number {
  const counts = new Map<number, number>(SNIFFED_DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const b = line[i];
    if (b === QUOTE) quoted = !quoted;
    else if (!quoted) {
      const count = counts.get(b);
      if (count !== undefined) counts.set(b, count + 1);
    }
  }
  let best: number = SNIFFED_DELIMITERS[0];
  for (const d of SNIFFED_DELIMITERS) if ((counts.get(d) as number) > (counts.get(best) as number)) best = d;
  return best;
}
