// A piece's output as UTF-8 bytes, written straight into the buffer that
// will carry it to the main thread: a written output's buffer that came back
// with the piece (its "spare"), grown only if the output does not fit.

const EMPTY = new Uint8Array(0);
const SMALLEST = 1 << 16;

export class OutputBytes {
  /** The buffer written into; valid until the next reserve. */
  buffer: Uint8Array = EMPTY;
  /** Bytes written so far. */
  length = 0;
  private readonly encoder = new TextEncoder();

  /** Starts a piece's output, in `spare` if one came with it; returns the spare if it is not needed. */
  start(spare: ArrayBuffer | undefined): ArrayBuffer | undefined {
    this.length = 0;
    if (spare === undefined || spare.byteLength <= this.buffer.length) return spare;
    this.buffer = new Uint8Array(spare);
    return undefined;
  }

  /** Forgets what was written (the piece is read again another way). */
  clear(): void {
    this.length = 0;
  }

  /** Makes room for `bytes` more bytes; returns the buffer to write them into, at `length`. */
  reserve(bytes: number): Uint8Array {
    if (this.length + bytes > this.buffer.length) {
      const bigger = new Uint8Array(Math.max(this.length + bytes, this.buffer.length * 2, SMALLEST));
      bigger.set(this.buffer.subarray(0, this.length));
      this.buffer = bigger;
    }
    return this.buffer;
  }

  appendText(text: string): void {
    this.reserve(text.length * 3);
    this.length += this.encoder.encodeInto(text, this.buffer.subarray(this.length)).written;
  }

  /**
   * The bytes written, as a view on the whole buffer, which moves to the
   * main thread with them; the next piece starts with no buffer of its own.
   */
  take(): Uint8Array {
    if (this.length === 0) return EMPTY;
    const bytes = this.buffer.subarray(0, this.length);
    this.buffer = EMPTY;
    this.length = 0;
    return bytes;
  }
}
