// A Parquet file read as blocks of rows: the footer first (the schema, the
// row groups), then one row group at a time, its column chunks read whole
// (compressed, all at once) and decoded page by page into blocks of a few
// thousand rows.
// Memory is bounded by a row group's compressed chunks and a page per column,
// never by the file.

import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { DataError, ioErrorFrom } from '../../errors.js';
import { countBytesRead } from '../byte-stream.js';
import { PIECE_BYTES } from '../pieces.js';
import type { ColumnInfo } from './cells.js';
import { type ColumnBlock, ColumnChunkReader, CorruptPage, newBlockColumn } from './decode.js';
import { CODEC_NAMES, type FileMeta, ParquetFormatError, readFileMeta } from './metadata.js';
import { UnsupportedCodec } from './compression.js';

export const PARQUET_MAGIC = 'PAR1';

/** Does a file start with Parquet's magic bytes? */
export function isParquetMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x41 && bytes[2] === 0x52 && bytes[3] === 0x31;
}

/** Rows per block: about a text piece's bytes of values (FINORM_PIECE_BYTES makes them small for tests). */
const BLOCK_BYTES = PIECE_BYTES;

export class ParquetReader {
  private group = -1;
  private groupRowsLeft = 0;
  private chunks: ColumnChunkReader[] = [];
  private rowsRead = 0;
  private readonly blockRows: number;
  /** Blocks whose rows have been processed, to be filled again (their arrays go round instead of waiting for a collection). */
  private readonly spare: ColumnBlock[] = [];

  private constructor(
    readonly name: string,
    private readonly handle: FileHandle,
    readonly meta: FileMeta,
  ) {
    this.blockRows = Math.max(1, Math.min(65_536, Math.floor(BLOCK_BYTES / (8 * Math.max(1, meta.columns.length)))));
  }

  /** Opens a Parquet file (`name` for messages) and reads its footer. */
  static async open(path: string, name: string): Promise<ParquetReader> {
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
      const head = await readAt(handle, 0, 4);
      const tail = await readAt(handle, size - 8, 8);
      if (!isParquetMagic(head)) fail('it does not start with PAR1');
      if (!isParquetMagic(tail.subarray(4))) fail('the footer is missing (the file is truncated, or still being written)');
      const footerLength = new DataView(tail.buffer, tail.byteOffset, 8).getUint32(0, true);
      if (footerLength > size - 12) fail(`the footer length (${footerLength} bytes) is beyond the file (${size} bytes): the file is truncated or corrupt`);
      const footer = await readAt(handle, size - 8 - footerLength, footerLength);
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
      return new ParquetReader(name, handle, meta);
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
      await this.openGroup();
    }
    const rows = Math.min(this.blockRows, this.groupRowsLeft);
    const spare = this.spare.pop();
    const columns = spare?.rows === rows ? spare.columns : this.meta.columns.map((column) => newBlockColumn(column, rows));
    this.chunks.forEach((chunk, c) => {
      try {
        chunk.take(rows, columns[c], 0);
      } catch (error) {
        throw this.chunkError(c, error);
      }
    });
    const block: ColumnBlock = { rows, firstRow: this.rowsRead + 1, columns };
    this.rowsRead += rows;
    this.groupRowsLeft -= rows;
    return block;
  }

  /**
   * Starts row group `this.group`: its column chunks. (Reading the next group
   * ahead while this one is decoded saved no measurable time, and cost its
   * chunks' memory: it is not done.)
   */
  private async openGroup(): Promise<void> {
    const group = this.meta.rowGroups[this.group];
    const chunks = await this.readGroup(this.group);
    this.chunks = chunks.map((bytes, c) => new ColumnChunkReader(this.meta.columns[c], group.columns[c].codec, bytes));
    this.groupRowsLeft = group.rows;
  }

  /** A row group's column chunks, compressed, read all at once. */
  private async readGroup(g: number): Promise<Uint8Array[]> {
    const group = this.meta.rowGroups[g];
    group.columns.forEach((chunk, c) => {
      if (chunk.codec < 0 || chunk.codec > 7 || CODEC_NAMES[chunk.codec] === 'LZO') {
        throw new DataError(`${this.name}: column ${JSON.stringify(this.meta.columns[c].name)}: ${CODEC_NAMES[chunk.codec] ?? `codec ${chunk.codec}`} compression is not supported`);
      }
    });
    const chunks = await Promise.all(group.columns.map((chunk) => readAt(this.handle, chunk.start, chunk.compressedSize)));
    for (const bytes of chunks) countBytesRead(bytes.length);
    return chunks;
  }

  private chunkError(c: number, error: unknown): unknown {
    const where = `${this.name}: column ${JSON.stringify(this.meta.columns[c].name)}, row group ${this.group + 1}`;
    if (error instanceof CorruptPage || error instanceof UnsupportedCodec) return new DataError(`${where}: ${error.message}`);
    if (error instanceof RangeError || error instanceof TypeError) return new DataError(`${where}: the column chunk is corrupt (${error.message})`);
    return error;
  }

  async close(): Promise<void> {
    this.chunks = [];
    await this.handle.close().catch(() => undefined);
  }
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(bytes, done, length - done, position + done);
    if (bytesRead === 0) throw new DataError(`the file ended before byte ${position + length}`);
    done += bytesRead;
  }
  return bytes;
}
