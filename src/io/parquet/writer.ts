// A Parquet file assembled from the pages pieces send back (encode.ts): each
// column's pages are copied into that column's chunk buffer until the row
// group is full (--row-group-size rows, or ROW_GROUP_BYTES of pages, whichever
// comes first), then the chunks are written one after another; the footer
// goes last. Memory is one row group's compressed pages, in buffers that are
// filled again for the next row group once the last was written.

import { Codec, type WrittenChunk, fileMetaBytes } from './metadata.js';
import type { ParquetOutputColumn } from './encode.js';

/** Pages held for a row group before it is written, whatever --row-group-size says. */
const ROW_GROUP_BYTES = 64 << 20;
export const DEFAULT_ROW_GROUP_ROWS = 122_880;

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]);

export class ParquetAssembler {
  /** Per column, the row group's pages so far. */
  private readonly chunks: Uint8Array[];
  private readonly lengths: number[];
  private readonly uncompressed: number[];
  private readonly nulls: number[];
  private held = 0;
  private rows = 0;
  /** Bytes written so far (the magic first). */
  private offset = 4;
  private readonly groups: { rows: number; chunks: WrittenChunk[] }[] = [];

  constructor(
    private readonly columns: readonly ParquetOutputColumn[],
    private readonly names: readonly string[],
    private readonly rowGroupRows: number,
    private readonly createdBy: string,
  ) {
    this.chunks = columns.map(() => new Uint8Array(1 << 16));
    this.lengths = columns.map(() => 0);
    this.uncompressed = columns.map(() => 0);
    this.nulls = columns.map(() => 0);
  }

  /** The file's first bytes. */
  static magic(): Uint8Array {
    return MAGIC;
  }

  /** The number of page sets in a piece's page table (each [rows, then per column: bytes, uncompressed bytes, nulls]). */
  sets(table: Float64Array): number {
    return table.length / (1 + 3 * this.columns.length);
  }

  /**
   * Copies page set `s` of a piece (its output bytes and page table; `at`:
   * where the set's pages start in the bytes) into the column chunks; returns
   * where the next set starts, and the row group's chunks if it became full.
   * Those are views on buffers that the next call fills again: write them
   * first.
   */
  add(bytes: Uint8Array, table: Float64Array, s: number, at: number): { next: number; group?: Uint8Array[] } {
    const width = this.columns.length;
    const t = s * (1 + 3 * width);
    const rows = table[t];
    let p = at;
    for (let c = 0; c < width; c++) {
      const size = table[t + 1 + 3 * c];
      if (rows > 0) {
        this.append(c, bytes.subarray(p, p + size));
        this.uncompressed[c] += table[t + 2 + 3 * c];
        this.nulls[c] += table[t + 3 + 3 * c];
        this.held += size;
      }
      p += size;
    }
    this.rows += rows;
    const full = rows > 0 && (this.rows >= this.rowGroupRows || this.held >= ROW_GROUP_BYTES);
    return full ? { next: p, group: this.flush() } : { next: p };
  }

  private append(c: number, page: Uint8Array): void {
    let chunk = this.chunks[c];
    const length = this.lengths[c];
    if (length + page.length > chunk.length) {
      const bigger = new Uint8Array(Math.max(2 * chunk.length, length + page.length));
      bigger.set(chunk.subarray(0, length));
      this.chunks[c] = chunk = bigger;
    }
    chunk.set(page, length);
    this.lengths[c] = length + page.length;
  }

  /** The row group held, as its column chunks in file order (views, valid until the next add), or undefined if it is empty. */
  private flush(): Uint8Array[] | undefined {
    if (this.rows === 0) return undefined;
    let p = 0;
    const written: WrittenChunk[] = this.columns.map((column, c) => {
      const chunk: WrittenChunk = {
        physical: column.physical,
        name: this.names[c],
        codec: Codec.SNAPPY,
        numValues: this.rows,
        uncompressedSize: this.uncompressed[c],
        compressedSize: this.lengths[c],
        dataPageOffset: this.offset + p,
        nullCount: this.nulls[c],
      };
      p += this.lengths[c];
      return chunk;
    });
    const out = this.chunks.map((chunk, c) => chunk.subarray(0, this.lengths[c]));
    this.groups.push({ rows: this.rows, chunks: written });
    this.offset += p;
    this.held = 0;
    this.rows = 0;
    this.lengths.fill(0);
    this.uncompressed.fill(0);
    this.nulls.fill(0);
    return out;
  }

  /** What is left to write: the last row group's chunks, then the footer, its length and the magic. */
  finish(): Uint8Array[] {
    const last = this.flush() ?? [];
    const footer = fileMetaBytes(
      this.columns.map((column) => column.element),
      this.groups,
      this.createdBy,
    );
    const end = new Uint8Array(footer.length + 8);
    end.set(footer);
    new DataView(end.buffer).setUint32(footer.length, footer.length, true);
    end.set(MAGIC, footer.length + 4);
    return [...last, end];
  }
}
