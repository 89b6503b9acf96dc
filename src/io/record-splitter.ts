// Finds where CSV/TSV records end in raw bytes, so that the input can be cut
// into pieces that each tokenize on their own (in a worker thread, starting
// at the piece's first line) into the same records, with the same line
// numbers, as tokenizing the whole input in one go.
//
// It follows CsvTokenizer's states byte by byte, but only far enough to know
// where records end: an LF outside quotes (or after a closing quote), or the
// LF that ends a malformed line the tokenizer skips. Bytes without quote
// characters, scanned from a record boundary, need no state machine: their
// last LF ends a record. LF bytes never occur inside a UTF-8 sequence.

const QUOTE = 34;
const LF = 10;
const CR = 13;

const enum Scan {
  FieldStart,
  Unquoted,
  Quoted,
  QuoteInQuoted,
  /** A CR just after a closing quote: only an LF may follow. */
  CrAfterQuote,
  /** A malformed record: its line is skipped up to the next LF. */
  SkipLine,
}

export class RecordSplitter {
  private readonly delimiter: number;
  private state = Scan.FieldStart;
  /** Offset just past the last record end that scan() found; the caller sets it to 0 when it cuts there. */
  lastEnd = 0;

  /** `delimiter`: one ASCII character. */
  constructor(delimiter: string) {
    this.delimiter = delimiter.charCodeAt(0);
  }

  /** Continues the scan over bytes[start, end), which follow the bytes scanned before. */
  scan(bytes: Uint8Array, start: number, end: number): void {
    let state = this.state;
    if ((state === Scan.FieldStart || state === Scan.Unquoted) && !includes(bytes, QUOTE, start, end)) {
      // The common case: no quote, so every LF ends a record, and the state
      // after the last byte depends only on that byte.
      if (end === start) return;
      const last = lastIndexOf(bytes, LF, start, end);
      if (last >= 0) this.lastEnd = last + 1;
      const final = bytes[end - 1];
      this.state = final === LF || final === this.delimiter ? Scan.FieldStart : Scan.Unquoted;
      return;
    }
    const delimiter = this.delimiter;
    for (let i = start; i < end; i++) {
      const c = bytes[i];
      switch (state) {
        case Scan.FieldStart:
        case Scan.Unquoted:
          // A quote opens a quoted field at the start of a field, and makes
          // the record malformed anywhere else.
          if (c === QUOTE) state = state === Scan.FieldStart ? Scan.Quoted : Scan.SkipLine;
          else if (c === LF) {
            state = Scan.FieldStart;
            this.lastEnd = i + 1;
          } else if (c === delimiter) state = Scan.FieldStart;
          else state = Scan.Unquoted;
          break;
        case Scan.Quoted:
          if (c === QUOTE) state = Scan.QuoteInQuoted;
          break;
        case Scan.QuoteInQuoted:
          if (c === QUOTE) state = Scan.Quoted;
          else if (c === delimiter) state = Scan.FieldStart;
          else if (c === LF) {
            state = Scan.FieldStart;
            this.lastEnd = i + 1;
          } else if (c === CR) state = Scan.CrAfterQuote;
          else state = Scan.SkipLine;
          break;
        case Scan.CrAfterQuote:
        case Scan.SkipLine:
          if (c === LF) {
            state = Scan.FieldStart;
            this.lastEnd = i + 1;
          } else state = Scan.SkipLine;
          break;
      }
    }
    this.state = state;
  }
}

function includes(bytes: Uint8Array, byte: number, start: number, end: number): boolean {
  const i = bytes.indexOf(byte, start);
  return i >= 0 && i < end;
}

function lastIndexOf(bytes: Uint8Array, byte: number, start: number, end: number): number {
  const i = bytes.lastIndexOf(byte, end - 1);
  return i >= start ? i : -1;
}
