// JSON read from a byte stream one value at a time, without ever holding the
// whole text: what lets a parameter file of a million groups (gigabytes of
// JSON, beyond the longest string V8 can hold) be read in constant memory.
// The reader walks the top-level object member by member and an array
// element by element; each value is cut out by its brackets (strings and
// escapes respected) and handed to JSON.parse, so numbers and strings are
// read exactly as JSON.parse reads them.

import { DataError } from '../errors.js';

const SPACE = 0x20;
const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** A syntax problem, with the line it is on. */
export class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

export class JsonValues {
  private buffer: Buffer = Buffer.alloc(0);
  private position = 0;
  private ended = false;
  /** The line of buffer[position] (1-based), counted as bytes are passed. */
  line = 1;

  constructor(private readonly chunks: AsyncIterator<Buffer | Uint8Array | string>) {}

  /** The next byte after whitespace, without taking it; −1 at the end of the text. */
  async peek(): Promise<number> {
    for (;;) {
      while (this.position < this.buffer.length) {
        const c = this.buffer[this.position];
        if (c === SPACE || c === TAB || c === CR) this.position++;
        else if (c === LF) {
          this.position++;
          this.line++;
        } else if (c === 0xef) {
          // A byte-order mark (EF BB BF), as editors on Windows write at the start of a file: white space here.
          if (this.position + 3 > this.buffer.length && (await this.more(true))) continue;
          if (this.buffer[this.position + 1] !== 0xbb || this.buffer[this.position + 2] !== 0xbf) return c;
          this.position += 3;
        } else return c;
      }
      if (!(await this.more())) return -1;
    }
  }

  /** Takes the byte `char` (after whitespace), or fails naming what was expected. */
  async expect(char: string, what: string): Promise<void> {
    const c = await this.peek();
    if (c !== char.charCodeAt(0)) throw this.unexpected(c, what);
    this.position++;
  }

  /** Takes `,` (true) or the closing `close` (false) after a member or element. */
  async separator(close: string): Promise<boolean> {
    const c = await this.peek();
    if (c === 0x2c) {
      this.position++;
      return true;
    }
    if (c === close.charCodeAt(0)) {
      this.position++;
      return false;
    }
    throw this.unexpected(c, `"," or "${close}"`);
  }

  /** The next value (after whitespace), parsed. */
  async value(): Promise<unknown> {
    const line = this.line;
    const text = await this.valueText();
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new JsonSyntaxError((error as Error).message.replace(/\s+/g, ' '), line);
    }
  }

  /** The text of the next value: a string, number, literal, object or array, cut out by its brackets. */
  private async valueText(): Promise<string> {
    if ((await this.peek()) === -1) throw this.unexpected(-1, 'a value');
    // Bytes of the value scanned so far (from `position`), kept across reads of more text.
    let scanned = 0;
    let depth = 0;
    let inString = false;
    let lines = 0;
    for (;;) {
      const buffer = this.buffer;
      const start = this.position;
      let at = start + scanned;
      for (; at < buffer.length; at++) {
        const c = buffer[at];
        if (inString) {
          if (c === BACKSLASH) at++;
          else if (c === QUOTE) {
            inString = false;
            if (depth === 0) return this.take(start, at + 1, lines);
          } else if (c === LF) lines++;
          continue;
        }
        if (c === QUOTE) inString = true;
        else if (c === 0x7b || c === 0x5b) depth++;
        else if (c === 0x7d || c === 0x5d) {
          if (depth === 0) return this.take(start, at, lines);
          if (--depth === 0) return this.take(start, at + 1, lines);
        } else if (c === LF) {
          if (depth === 0) return this.take(start, at, lines);
          lines++;
        } else if (depth === 0 && (c === 0x2c || c === SPACE || c === TAB || c === CR)) return this.take(start, at, lines);
      }
      scanned = at - start;
      if (!(await this.more(true))) {
        if (depth === 0 && !inString) return this.take(this.position, this.buffer.length, lines);
        throw new JsonSyntaxError('a value starts here that the text ends inside', this.line);
      }
    }
  }

  /** Takes buffer[from, to) as text. */
  private take(from: number, to: number, lines: number): string {
    const text = this.buffer.toString('utf8', from, to);
    this.position = to;
    this.line += lines;
    return text;
  }

  /** Reads the next chunk; keeps the bytes from `position` on. False at the end of the text. */
  private async more(keep = false): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.chunks.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    const rest = this.buffer.subarray(keep ? this.position : this.buffer.length);
    this.buffer = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
    this.position = 0;
    return true;
  }

  private unexpected(c: number, what: string): JsonSyntaxError {
    const found = c === -1 ? 'the end of the text' : JSON.stringify(String.fromCharCode(c));
    return new JsonSyntaxError(`expected ${what}, found ${found}`, this.line);
  }
}

/** A syntax problem of file `path` as the one-line message finorm prints. */
export function jsonSyntaxProblem(path: string, what: string, error: unknown): DataError {
  if (error instanceof JsonSyntaxError) return new DataError(`${path}:${error.line}: not ${what} (${error.message})`);
  return error as DataError;
}
