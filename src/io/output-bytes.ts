// A piece's output as UTF-8 bytes, written straight into the buffer that
// carries it to the writer: a written output's buffer that came back with the
// piece (its "spare") when there is one, grown only if the output outgrows it.

const EMPTY = new Uint8Array(0);
const SMALLEST = 1 << 16;

export class OutputBytes {
  /** The buffer written into; valid until the next reserve. */
  buffer: Uint8Array = EMPTY;
  /** Bytes written so far. */
  length = 0;

  /** Starts a piece's output, in `spare` if it is bigger than the buffer at hand; returns the spare if it is not used. */
  start(spare: ArrayBuffer | undefined): ArrayBuffer | undefined {
    this.length = 0;
    if (spare === undefined || spare.byteLength <= this.buffer.length) return spare;
    this.buffer = new Uint8Array(spare);
    return undefined;
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

  /**
   * The bytes written, as a view on the whole buffer, which goes to the
   * writer with them; the next output starts with no buffer of its own.
   */
  take(): Uint8Array {
    if (this.length === 0) return EMPTY;
    const bytes = this.buffer.subarray(0, this.length);
    this.buffer = EMPTY;
    this.length = 0;
    return bytes;
  }
}
