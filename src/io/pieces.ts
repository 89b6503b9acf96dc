// Cuts a source's bytes into pieces of whole records: what a worker thread,
// or the main thread, reads on its own. CSV/TSV records end where the CSV
// engine says (quotes and all); NDJSON records at every LF. A piece is cut
// once it holds about `pieceBytes`, or as soon as a stream has nothing more
// to give for now, so rows from a slow producer flow through at once. Each
// piece is a view on an ArrayBuffer of its own, which moves to a worker and
// comes back to be filled again.

import { DataError } from '../errors.js';
import { CsvRecordEnds, LF, lastLineFeed } from './csv.js';
import type { ColumnBlock } from './parquet/decode.js';
import type { Format } from './sources.js';

/** Pieces of about this size (FINORM_PIECE_BYTES overrides it, for tests). */
export const PIECE_BYTES = Number(process.env.FINORM_PIECE_BYTES) || 1 << 19;
/** How long a piece that is not full waits for a stream's next bytes before it goes (rows from a slow producer flow). */
const FLUSH_AFTER_MS = 20;
/** Room beyond a piece in each buffer, so that the carried start of the next record rarely needs a bigger one. */
const SLACK = 1 << 16;

/**
 * ArrayBuffers that have come back (pieces read, outputs written), ready to
 * hold the next pieces and outputs. Buffers that go round cost nothing;
 * buffers dropped would wait for a collection, tens of megabytes of them.
 */
export class PieceBuffers {
  private readonly free: ArrayBuffer[] = [];

  /** At most `keep` buffers are kept, none bigger than `largest` bytes. */
  constructor(
    private readonly keep: number,
    private readonly largest: number,
  ) {}

  /** A buffer of at least `bytes` bytes: the smallest that fits, so the big ones stay for outputs. */
  take(bytes: number): Uint8Array {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const size = this.free[i].byteLength;
      if (size >= bytes && (best < 0 || size <= this.free[best].byteLength)) best = i;
    }
    if (best >= 0) return new Uint8Array(this.free.splice(best, 1)[0]);
    return new Uint8Array(new ArrayBuffer(bytes));
  }

  /** The biggest buffer there is (for an output), or undefined. */
  takeBiggest(): ArrayBuffer | undefined {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) if (best < 0 || this.free[i].byteLength >= this.free[best].byteLength) best = i;
    return best >= 0 ? this.free.splice(best, 1)[0] : undefined;
  }

  give(buffer: ArrayBuffer): void {
    if (this.free.length < this.keep && buffer.byteLength > 0 && buffer.byteLength <= this.largest) this.free.push(buffer);
  }
}

/** Whole records of a source, and the physical line the first one starts on (or a Parquet file's rows, decoded). */
export interface SourcePiece {
  bytes: Uint8Array;
  firstLine: number;
  /** Parquet: the rows, as columns (bytes is empty; firstLine is the first row's number). */
  block?: ColumnBlock;
}

/** Bytes to cut: a ByteStream (byte-stream.ts). */
export interface PieceSourceBytes {
  /** Reads up to into.length − at bytes at `at`; 0 at the end. */
  read(into: Uint8Array, at: number): Promise<number>;
  /** More bytes can be had without waiting for a producer. */
  readonly ready: boolean;
  /** Resolves true once bytes can be had without waiting, false after `ms`. */
  waitReady(ms: number): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * The longest record read (FINORM_MAX_RECORD_BYTES overrides it, for tests):
 * a longer one is almost always a file without line ends (binary data,
 * /dev/zero) or a quote that never closes, which would otherwise be read
 * until memory runs out.
 */
export const MAX_RECORD_BYTES = Number(process.env.FINORM_MAX_RECORD_BYTES) || 64 << 20;

/** Where records end: the CSV engine's scan, or every LF for NDJSON. */
interface RecordEnds {
  scan(bytes: Uint8Array, from: number, to: number): number;
  /** The bytes so far end inside a quoted field. */
  readonly inQuotes?: boolean;
}

const ndjsonEnds: RecordEnds = {
  scan(bytes, from, to) {
    const lf = lastLineFeed(bytes, from, to);
    return lf >= 0 ? lf + 1 : -1;
  },
};

export class PieceReader {
  private readonly ends: RecordEnds;
  private buffer: Uint8Array;
  private filled = 0;
  /** Offset after the last record end in the buffer, 0 if none yet. */
  private lastEnd = 0;
  private ended = false;
  private line = 1;

  constructor(
    /** The source, as messages name it. */
    private readonly name: string,
    private readonly stream: PieceSourceBytes,
    format: Format,
    delimiter: number,
    private readonly buffers: PieceBuffers,
    private readonly pieceBytes = PIECE_BYTES,
  ) {
    this.ends = format === 'ndjson' ? ndjsonEnds : new CsvRecordEnds(delimiter);
    this.buffer = buffers.take(pieceBytes + SLACK);
  }

  /** The next piece, or undefined at the end of the source. */
  async next(): Promise<SourcePiece | undefined> {
    for (;;) {
      if (this.lastEnd > 0) {
        if (this.filled >= this.pieceBytes || this.ended) return this.cut(this.lastEnd);
        if (!this.stream.ready && !(await this.stream.waitReady(FLUSH_AFTER_MS))) return this.cut(this.lastEnd);
      }
      if (this.ended) return this.filled > 0 ? this.cut(this.filled) : undefined;
      if (this.filled === this.buffer.length) {
        // One record longer than the buffer: a bigger one.
        const bigger = this.buffers.take(this.buffer.length * 2);
        bigger.set(this.buffer.subarray(0, this.filled));
        this.buffers.give(this.buffer.buffer as ArrayBuffer);
        this.buffer = bigger;
      }
      // Up to a piece's worth; past it (a record longer than a piece), as much as the buffer holds.
      const limit = this.filled < this.pieceBytes ? Math.min(this.pieceBytes, this.buffer.length) : this.buffer.length;
      const n = await this.stream.read(this.buffer.subarray(0, limit), this.filled);
      if (n === 0) {
        this.ended = true;
        continue;
      }
      const end = this.ends.scan(this.buffer, this.filled, this.filled + n);
      if (end >= 0) this.lastEnd = end;
      this.filled += n;
      if (this.lastEnd === 0 && this.filled > MAX_RECORD_BYTES) throw this.recordTooLong();
    }
  }

  /** The buffer holds one unfinished record beyond the limit: what it probably is. */
  private recordTooLong(): DataError {
    const why = this.ends.inQuotes
      ? 'a quoted field in it never closes (an unbalanced quote?)'
      : 'it has no line end (is the input a text table?)';
    return new DataError(`a record longer than ${MAX_RECORD_BYTES / (1 << 20)} MiB, the longest finorm reads: ${why}`, { file: this.name, line: this.line });
  }

  /** The piece bytes[0, end); what follows moves to a new buffer. */
  private cut(end: number): SourcePiece {
    const piece = this.buffer.subarray(0, end);
    const rest = this.filled - end;
    const next = this.buffers.take(Math.max(this.pieceBytes + SLACK, rest * 2));
    next.set(this.buffer.subarray(end, this.filled));
    this.buffer = next;
    this.filled = rest;
    this.lastEnd = 0;
    const firstLine = this.line;
    this.line += countLineFeeds(piece);
    return { bytes: piece, firstLine };
  }

  close(): Promise<void> {
    return this.stream.close();
  }
}

/** Line feeds in the first `end` bytes: how many lines further on the byte at `end` is. */
export function countLineFeeds(bytes: Uint8Array, end = bytes.length): number {
  let count = 0;
  for (let i = bytes.indexOf(LF); i >= 0 && i < end; i = bytes.indexOf(LF, i + 1)) count++;
  return count;
}
