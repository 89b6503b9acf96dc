// An incremental RFC 4180 tokenizer: text goes in chunk by chunk, records come
// out with the physical line on which each one starts.
//
// - Fields are separated by a one-character delimiter; records end at LF or
//   CRLF (both may appear in one file). A lone CR is data.
// - A field that starts with a quote runs to the matching quote; inside it,
//   `""` is a quote and delimiters and line breaks are data.
// - A quote inside an unquoted field, or anything but a delimiter or line end
//   after a closing quote, makes the record malformed; so does end of input
//   inside quotes. The tokenizer reports the record with its error and
//   resumes at the next line, so the caller can stop or skip it.
// - Blank lines are skipped (as pandas and csv-parse's skip_empty_lines do).
//
// csv-parse (with bom, skip_empty_lines and record_delimiter [CRLF, LF])
// reads every well-formed input the same way; a property test checks that.

const QUOTE = 34;
const LF = 10;
const CR = 13;

export type RecordHandler = (fields: string[], line: number, error: string | undefined) => void;

const enum State {
  /** At the start of a field (possibly the start of a record). */
  FieldStart,
  /** Inside an unquoted field. */
  Unquoted,
  /** Inside a quoted field. */
  Quoted,
  /** Just after a quote inside a quoted field: an escaped quote or the closing one. */
  QuoteInQuoted,
  /** The record is malformed: skip to the end of the physical line. */
  SkipLine,
}

export class CsvTokenizer {
  private readonly delimiter: number;
  private state = State.FieldStart;
  private fields: string[] = [];
  /** Text of the current field gathered from earlier chunks (or before an escaped quote). */
  private field = '';
  /** Unprocessed text held back from the previous chunk (a CR that may start a CRLF). */
  private carry = '';
  private line: number;
  private recordLine: number;
  private quoteLine: number;
  private recordQuoted = false;
  private error: string | undefined;

  /** `firstLine`: the physical line the text starts on (a piece of a larger input starts later). */
  constructor(delimiter: string, firstLine = 1) {
    if (delimiter.length !== 1) throw new Error('delimiter must be one character');
    this.delimiter = delimiter.charCodeAt(0);
    this.line = this.recordLine = this.quoteLine = firstLine;
  }

  push(chunk: string, onRecord: RecordHandler): void {
    const text = this.carry === '' ? chunk : this.carry + chunk;
    this.carry = '';
    const n = text.length;
    const delimiter = this.delimiter;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case State.FieldStart:
          if (text.charCodeAt(i) === QUOTE) {
            this.state = State.Quoted;
            this.quoteLine = this.line;
            this.recordQuoted = true;
            i++;
            break;
          }
          this.state = State.Unquoted;
          break;
        case State.Unquoted: {
          let j = i;
          let c = 0;
          while (j < n) {
            c = text.charCodeAt(j);
            if (c === delimiter || c === LF || c === QUOTE) break;
            if (c === CR) {
              if (j + 1 === n) break;
              if (text.charCodeAt(j + 1) === LF) break;
            }
            j++;
          }
          if (j === n) {
            this.field += text.slice(i, n);
            i = n;
            break;
          }
          if (c === QUOTE) {
            this.fail(`quote inside an unquoted field (quote a field that contains quotes, and double them: "a ""b"" c")`);
            i = j;
            break;
          }
          if (c === CR && j + 1 === n) {
            // Keep the CR back: it may be the first half of a CRLF.
            this.field += text.slice(i, j);
            this.carry = '\r';
            i = n;
            break;
          }
          this.endField(this.field === '' ? text.slice(i, j) : this.field + text.slice(i, j));
          if (c === delimiter) {
            this.state = State.FieldStart;
            i = j + 1;
          } else {
            i = j + (c === CR ? 2 : 1);
            this.endRecord(onRecord);
          }
          break;
        }
        case State.Quoted: {
          let j = text.indexOf('"', i);
          if (j < 0) j = n;
          for (let k = text.indexOf('\n', i); k >= 0 && k < j; k = text.indexOf('\n', k + 1)) this.line++;
          this.field += text.slice(i, j);
          if (j < n) this.state = State.QuoteInQuoted;
          i = j + 1;
          break;
        }
        case State.QuoteInQuoted: {
          const c = text.charCodeAt(i);
          if (c === QUOTE) {
            this.field += '"';
            this.state = State.Quoted;
            i++;
          } else if (c === delimiter) {
            this.endField(this.field);
            this.state = State.FieldStart;
            i++;
          } else if (c === LF) {
            this.endField(this.field);
            this.endRecord(onRecord);
            i++;
          } else if (c === CR && i + 1 === n) {
            this.carry = '\r';
            i = n;
          } else if (c === CR && text.charCodeAt(i + 1) === LF) {
            this.endField(this.field);
            this.endRecord(onRecord);
            i += 2;
          } else {
            this.fail(`unexpected ${JSON.stringify(text[i])} after a closing quote`);
          }
          break;
        }
        case State.SkipLine: {
          const j = text.indexOf('\n', i);
          if (j < 0) {
            i = n;
            break;
          }
          i = j + 1;
          this.endRecord(onRecord);
          break;
        }
      }
    }
  }

  /** Call once at end of input: emits the last record if it has no final line break. */
  end(onRecord: RecordHandler): void {
    if (this.carry !== '') {
      const carried = this.carry;
      this.carry = '';
      if (this.state === State.QuoteInQuoted) {
        // `"...."\r` at the very end: csv-parse rejects a bare CR after a closing quote.
        this.fail('unexpected "\\r" after a closing quote');
      } else {
        this.field += carried;
      }
    }
    switch (this.state) {
      case State.Quoted:
        this.fail(`unterminated quoted field (the quote opened on line ${this.quoteLine} is never closed)`);
        this.endRecord(onRecord);
        return;
      case State.SkipLine:
        this.endRecord(onRecord);
        return;
      case State.FieldStart:
        if (this.fields.length === 0 && this.field === '') return;
        break;
      default:
        break;
    }
    this.endField(this.field);
    this.endRecord(onRecord);
  }

  private endField(value: string): void {
    this.fields.push(value);
    this.field = '';
  }

  private fail(message: string): void {
    if (this.error === undefined) this.error = message;
    this.state = State.SkipLine;
  }

  private endRecord(onRecord: RecordHandler): void {
    const fields = this.fields;
    const blank = fields.length === 1 && fields[0] === '' && !this.recordQuoted && this.error === undefined;
    if (!blank) onRecord(fields, this.recordLine, this.error);
    this.fields = [];
    this.field = '';
    this.error = undefined;
    this.recordQuoted = false;
    this.state = State.FieldStart;
    this.line++;
    this.recordLine = this.line;
  }
}
