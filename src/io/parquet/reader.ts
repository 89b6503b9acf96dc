// A Parquet file read as blocks of rows: the footer first (the schema, the
// row groups), then one row group at a time, each column's pages read as its
// rows are needed and decoded into blocks of a few thousand rows.
// Memory is a decompressed page per column (at most a row group), never the
// file: a small page comes with its neighbours in one read of a column's
// window; a bigger one is read alone, into a buffer the columns share, and
// decompressed at once.

import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { DataError, ioErrorFrom } from '../../errors.js';
import { countBytesRead } from '../byte-stream.js';
import { PIECE_BYTES } from '../pieces.js';
import type { ColumnInfo } from './cells.js';
import { type ChunkSource, type ColumnBlock, ColumnChunkReader, CorruptPage, newBlockColumn } from './decode.js';
import { CODEC_NAMES, type FileMeta, ParquetFormatError, readFileMeta } from './metadata.js';
import { UnsupportedCodec } from './compression.js';

export const PARQUET_MAGIC = 'PAR1';

/** Does a file start with Parquet's magic bytes? */
export function isParquetMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x41 && bytes[2] === 0x52 && bytes[3] === 0x31;
}

/** Rows per block: about a text piece's bytes of values (FINORM_PIECE_BYTES makes them small for tests). */
const BLOCK_BYTES = PIECE_BYTES;
/** A column's read window: pages smaller than this come several to a read. */
const WINDOW_BYTES = 1 << 16;

export class ParquetReader {
  private group = -1;
  private groupRowsLeft = 0;
  /** Per column, its reader and where its chunk's bytes are read from: both kept from row group to row group. */
  private chunks: ColumnChunkReader[];
  private windows: ChunkWindow[];
  /** Where a page bigger than a window is read (by any column), to be decompressed at once. */
  private readonly shared = { bytes: new Uint8Array(0) };
  private rowsRead = 0;
  private readonly blockRows: number;
  /** Blocks whose rows have been processed, to be filled again (their arrays go round instead of waiting for a collection). */
  private readonly spare: ColumnBlock[] = [];

  private constructor(
    readonly name: string,
    private readonly handle: FileHandle,
    readonly meta: FileMeta,
    blockRows: number | undefined,
  ) {
    this.blockRows = blockRows ?? Math.max(1, Math.min(65_536, Math.floor(BLOCK_BYTES / (8 * Math.max(1, meta.columns.length)))));
    this.chunks = meta.columns.map((column) => new ColumnChunkReader(column));
    this.windows = meta.columns.map(() => new ChunkWindow(handle, this.shared));
  }

  /** Opens a Parquet file (`name` for messages) and reads its footer; blocks have `blockRows` rows (tests choose them). */
  static async open(path: string, name: string, blockRows?: number): Promise<ParquetReader> {
    let handle: FileHandle;
    try {
      handle = await fs.open(path, 'r');
    } catch (error) {
      throw ioErrorFrom(error, 'read', name);
    }
    try {
      const { size } = await handle.stat();
      const fail = (why: string): never => {
        throw new DataError(`${name}: not a readable Parquet file: ${why}`);
      };
      if (size < 12) fail(`${size} bytes, too short for a header and a footer`);
      const head = await readAt(handle, 0, new Uint8Array(4));
      const tail = await readAt(handle, size - 8, new Uint8Array(8));
      if (!isParquetMagic(head)) fail('it does not start with PAR1');
      if (!isParquetMagic(tail.subarray(4))) fail('the footer is missing (the file is truncated, or still being written)');
      const footerLength = new DataView(tail.buffer, tail.byteOffset, 8).getUint32(0, true);
      if (footerLength > size - 12) fail(`the footer length (${footerLength} bytes) is beyond the file (${size} bytes): the file is truncated or corrupt`);
      const footer = await readAt(handle, size - 8 - footerLength, new Uint8Array(footerLength));
      countBytesRead(footerLength + 12);
      let meta: FileMeta;
      try {
        meta = readFileMeta(footer);
      } catch (error) {
        if (error instanceof ParquetFormatError) fail(error.message);
        throw error;
      }
      for (const group of meta.rowGroups) {
        for (const [c, chunk] of group.columns.entries()) {
          if (chunk.start < 4 || chunk.start + chunk.compressedSize > size - 8 - footerLength) {
            fail(`the column chunk of ${JSON.stringify(meta.columns[c].name)} lies outside the file's data`);
          }
        }
      }
      return new ParquetReader(name, handle, meta, blockRows);
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error;
    }
  }

  get columns(): string[] {
    return this.meta.columns.map((column) => column.name);
  }

  /** What readers of the blocks need to know of each column. */
  get columnInfo(): ColumnInfo[] {
    return this.meta.columns.map(({ name, physical, kind, scale, perSecond, utc }) => ({ name, physical, kind, scale, perSecond, utc }));
  }

  /** Takes back a block whose rows have been processed (a few are kept, to hold the next blocks). */
  recycle(block: ColumnBlock): void {
    if (this.spare.length < 8 && block.columns.length === this.meta.columns.length) this.spare.push(block);
  }

  /** The next block of rows, or undefined at the end of the file. */
  async next(): Promise<ColumnBlock | undefined> {
    while (this.groupRowsLeft === 0) {
      if (++this.group >= this.meta.rowGroups.length) return undefined;
      this.openGroup();
    }
    const rows = Math.min(this.blockRows, this.groupRowsLeft);
    const spare = this.spare.pop();
    const columns = spare?.rows === rows ? spare.columns : this.meta.columns.map((column) => newBlockColumn(column, rows));
    for (let c = 0; c < columns.length; c++) {
      const chunk = this.chunks[c];
      try {
        for (let at = 0; at < rows; at += chunk.take(rows - at, columns[c], at)) if (chunk.rowsLeft === 0) await chunk.nextPage();
      } catch (error) {
        throw this.chunkError(c, error);
      }
    }
    const block: ColumnBlock = { rows, firstRow: this.rowsRead + 1, columns };
    this.rowsRead += rows;
    this.groupRowsLeft -= rows;
    return block;
  }

  /**
   * Starts row group `this.group`: its columns' pages are read as they are
   * needed. (Reading the next group ahead while this one is decoded saved
   * no measurable time, and cost its pages' memory: it is not done.)
   */
  private openGroup(): void {
    const group = this.meta.rowGroups[this.group];
    group.columns.forEach((chunk, c) => {
      if (chunk.codec < 0 || chunk.codec > 7 || CODEC_NAMES[chunk.codec] === 'LZO') {
        throw new DataError(`${this.name}: column ${JSON.stringify(this.meta.columns[c].name)}: ${CODEC_NAMES[chunk.codec] ?? `codec ${chunk.codec}`} compression is not supported`);
      }
      this.windows[c].start(chunk.start, chunk.compressedSize);
      this.chunks[c].start(chunk.codec, this.windows[c]);
    });
    this.groupRowsLeft = group.rows;
  }

  private chunkError(c: number, error: unknown): unknown {
    const where = `${this.name}: column ${JSON.stringify(this.meta.columns[c].name)}, row group ${this.group + 1}`;
    if (error instanceof CorruptPage || error instanceof UnsupportedCodec) return new DataError(`${where}: ${error.message}`);
    if (error instanceof RangeError || error instanceof TypeError) return new DataError(`${where}: the column chunk is corrupt (${error.message})`);
    return error;
  }

  async close(): Promise<void> {
    this.chunks = [];
    this.windows = [];
    await this.handle.close().catch(() => undefined);
  }
}

/**
 * A column chunk's bytes, read through a window of the column's own: pages
 * smaller than the window come several to a read; a bigger page is read
 * alone, into the buffer all columns share.
 */
class ChunkWindow implements ChunkSource {
  length = 0;
  private position = 0;
  private window = new Uint8Array(0);
  private windowStart = 0;
  private windowEnd = 0;
  /** How far into the chunk bytes have been counted as read (a window may read some again). */
  private counted = 0;

  constructor(
    private readonly handle: FileHandle,
    private readonly shared: { bytes: Uint8Array },
  ) {}

  /** Starts the chunk at `position` in the file, `length` bytes long. */
  start(position: number, length: number): void {
    this.position = position;
    this.length = length;
    this.windowStart = this.windowEnd = this.counted = 0;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    if (offset >= this.windowStart && offset + length <= this.windowEnd) return this.window.subarray(offset - this.windowStart, offset - this.windowStart + length);
    let bytes: Uint8Array;
    if (length <= WINDOW_BYTES) {
      const size = Math.min(WINDOW_BYTES, this.length - offset);
      if (this.window.length < size) this.window = new Uint8Array(WINDOW_BYTES);
      await readAt(this.handle, this.position + offset, this.window.subarray(0, size));
      this.windowStart = offset;
      this.windowEnd = offset + size;
      bytes = this.window.subarray(0, length);
    } else {
      if (this.shared.bytes.length < length) this.shared.bytes = new Uint8Array(length);
      bytes = await readAt(this.handle, this.position + offset, this.shared.bytes.subarray(0, length));
    }
    countBytesRead(Math.max(0, offset + length - this.counted));
    this.counted = Math.max(this.counted, offset + length);
    return bytes;
  }
}

/** Fills `bytes` from the file at `position`; returns them. */
async function readAt(handle: FileHandle, position: number, bytes: Uint8Array): Promise<Uint8Array> {
  const length = bytes.length;
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(bytes, done, length - done, position + done);
    if (bytesRead === 0) throw new DataError(`the file ended before byte ${position + length}`);
    done += bytesRead;
  }
  return bytes;
}
