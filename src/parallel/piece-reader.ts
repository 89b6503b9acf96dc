// Cuts a source into pieces of whole records for the worker threads. Each
// piece is a view on an ArrayBuffer of its own, which moves to a worker and
// comes back with the result to be filled again: reading allocates nothing
// once the first few buffers exist.

import { RecordSplitter } from '../io/record-splitter.js';
import { countLineFeeds } from '../io/sources.js';

/**
 * ArrayBuffers that have come back from the workers (pieces read, outputs
 * written), ready to hold the next pieces and outputs. Buffers that go round
 * cost nothing; buffers dropped on the main thread would wait for its rare
 * collections, tens of megabytes of them.
 */
export class PieceBuffers {
  private readonly free: ArrayBuffer[] = [];

  /** At most `keep` buffers are kept, none bigger than `largest` bytes. */
  constructor(
    private readonly keep: number,
    private readonly largest: number,
  ) {}

  /**
   * A buffer of at least `bytes` bytes: the smallest that fits, so the big
   * ones stay for outputs; among equals, the one given back last (its memory
   * is the likeliest to be in cache).
   */
  take(bytes: number): Uint8Array {
    let best = -1;
    this.free.forEach((buffer, i) => {
      if (buffer.byteLength >= bytes && (best < 0 || buffer.byteLength <= this.free[best].byteLength)) best = i;
    });
    if (best >= 0) return new Uint8Array(this.free.splice(best, 1)[0]);
    return new Uint8Array(new ArrayBuffer(bytes));
  }

  /** The biggest buffer there is, for a worker to put an output in; undefined if none. */
  takeBiggest(): ArrayBuffer | undefined {
    let best = -1;
    this.free.forEach((buffer, i) => {
      if (best < 0 || buffer.byteLength >= this.free[best].byteLength) best = i;
    });
    return best >= 0 ? this.free.splice(best, 1)[0] : undefined;
  }

  give(buffer: ArrayBuffer): void {
    if (this.free.length < this.keep && buffer.byteLength > 0 && buffer.byteLength <= this.largest) this.free.push(buffer);
  }
}

/** Whole records of a source, and the physical line the first one starts on. */
export interface SourcePiece {
  bytes: Uint8Array;
  firstLine: number;
}

/**
 * The pieces of one source: each holds the whole records that end within its
 * first `pieceBytes` bytes; if none does (a record longer than that), those
 * that end within the first multiple of `pieceBytes` that holds a record end.
 * Where a piece ends depends only on the bytes, not on how they arrive. The
 * caller takes ownership of each piece's buffer.
 */
export async function* piecesOf(
  chunks: AsyncIterable<Uint8Array>,
  delimiter: string,
  pieceBytes: number,
  buffers: PieceBuffers,
): AsyncGenerator<SourcePiece> {
  let firstLine = 1;
  const splitter = new RecordSplitter(delimiter);
  // A piece, and some room so that the carried start of the next record rarely needs a bigger buffer.
  const capacity = pieceBytes + (1 << 16);
  let buffer = buffers.take(capacity);
  let filled = 0;
  for await (const chunk of chunks) {
    for (let offset = 0; offset < chunk.length; ) {
      if (filled === buffer.length) {
        // One record longer than the buffer: a bigger one.
        const bigger = buffers.take(buffer.length * 2);
        bigger.set(buffer.subarray(0, filled));
        buffer = bigger;
      }
      // Up to the next multiple of the piece's size, where alone a piece may end (so that pieces,
      // and every buffer that holds one, stay that small, and end where the bytes say).
      const room = Math.min(buffer.length - filled, pieceBytes - (filled % pieceBytes));
      const n = Math.min(chunk.length - offset, room);
      buffer.set(chunk.subarray(offset, offset + n), filled);
      splitter.scan(buffer, filled, filled + n);
      filled += n;
      offset += n;
      const end = splitter.lastEnd;
      if (filled % pieceBytes === 0 && end > 0) {
        const next = buffers.take(Math.max(capacity, (filled - end) * 2));
        next.set(buffer.subarray(end, filled));
        const piece = buffer.subarray(0, end);
        buffer = next;
        filled -= end;
        splitter.lastEnd = 0;
        // Counted before the piece's buffer moves to a worker.
        const lines = countLineFeeds(piece);
        yield { bytes: piece, firstLine };
        firstLine += lines;
      }
    }
  }
  if (filled > 0) yield { bytes: buffer.subarray(0, filled), firstLine };
}
