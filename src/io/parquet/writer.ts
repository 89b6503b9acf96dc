// A Parquet file assembled from the pages pieces send back (encode.ts): each
// column's pages are kept until the row group is full (--row-group-size rows,
// or ROW_GROUP_BYTES of pages, whichever comes first), then written column
// chunk after column chunk; the footer goes last. Memory is one row group's
// compressed pages.

import { Codec, type WrittenChunk, fileMetaBytes } from './metadata.js';
import type { ParquetOutputColumn } from './encode.js';

/** Pages held for a row group before it is written, whatever --row-group-size says. */
const ROW_GROUP_BYTES = 64 << 20;
export const DEFAULT_ROW_GROUP_ROWS = 122_880;

const MAGIC = new Uint8Array([0x50, 0x41, 0x52, 0x31]);

export class ParquetAssembler {
  private readonly pages: Uint8Array[][];
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
    this.pages = columns.map(() => []);
    this.uncompressed = columns.map(() => 0);
    this.nulls = columns.map(() => 0);
  }

  /** The file's first bytes. */
  static magic(): Uint8Array {
    return MAGIC;
  }

  /**
   * Takes a piece's pages: its output bytes and page table, a list of page
   * sets, each [rows, then per column: bytes, uncompressed bytes, nulls].
   * Returns the bytes of the row groups that became full, if any did.
   */
  add(bytes: Uint8Array, table: Float64Array): Uint8Array[] {
    const full: Uint8Array[] = [];
    const width = this.columns.length;
    let p = 0;
    for (let t = 0; t < table.length; t += 1 + 3 * width) {
      const rows = table[t];
      if (rows === 0) {
        for (let c = 0; c < width; c++) p += table[t + 1 + 3 * c];
        continue;
      }
      for (let c = 0; c < width; c++) {
        const [size, uncompressed, nulls] = table.subarray(t + 1 + 3 * c, t + 4 + 3 * c);
        this.pages[c].push(bytes.slice(p, p + size));
        this.uncompressed[c] += uncompressed;
        this.nulls[c] += nulls;
        this.held += size;
        p += size;
      }
      this.rows += rows;
      if (this.rows >= this.rowGroupRows || this.held >= ROW_GROUP_BYTES) full.push(this.flush() as Uint8Array);
    }
    return full;
  }

  /** The row group held, as bytes, or undefined if it is empty. */
  private flush(): Uint8Array | undefined {
    if (this.rows === 0) return undefined;
    const out = new Uint8Array(this.held);
    let p = 0;
    const chunks: WrittenChunk[] = this.columns.map((column, c) => {
      const start = p;
      for (const page of this.pages[c]) {
        out.set(page, p);
        p += page.length;
      }
      const chunk: WrittenChunk = {
        physical: column.physical,
        name: this.names[c],
        codec: Codec.SNAPPY,
        numValues: this.rows,
        uncompressedSize: this.uncompressed[c],
        compressedSize: p - start,
        dataPageOffset: this.offset + start,
        nullCount: this.nulls[c],
      };
      this.pages[c] = [];
      this.uncompressed[c] = 0;
      this.nulls[c] = 0;
      return chunk;
    });
    this.groups.push({ rows: this.rows, chunks });
    this.offset += p;
    this.held = 0;
    this.rows = 0;
    return out;
  }

  /** What is left to write: the last row group, the footer, its length and the magic. */
  finish(): Uint8Array {
    const last = this.flush() ?? new Uint8Array(0);
    const footer = fileMetaBytes(
      this.columns.map((column) => column.element),
      this.groups,
      this.createdBy,
    );
    const out = new Uint8Array(last.length + footer.length + 8);
    out.set(last);
    out.set(footer, last.length);
    new DataView(out.buffer).setUint32(last.length + footer.length, footer.length, true);
    out.set(MAGIC, last.length + footer.length + 4);
    return out;
  }
}
