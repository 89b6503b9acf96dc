// A Parquet source as the input reads it: blocks of rows as pieces. Parquet
// needs its footer, at the end, before any row: a source that is not a
// regular file (stdin, a pipe) is first copied to a spool file and read from
// there.

import { promises as fs } from 'node:fs';
import type { ByteStream } from '../byte-stream.js';
import type { SourcePiece } from '../pieces.js';
import type { Source } from '../sources.js';
import { Spool } from '../spool.js';
import type { ColumnBlock } from './decode.js';
import { ParquetReader } from './reader.js';

export class ParquetPieces {
  private constructor(
    readonly reader: ParquetReader,
    private readonly spool: Spool | undefined,
  ) {}

  /** Opens `source`, whose first bytes `stream` has read (all of it is read, for a spool, before the first row). */
  static async open(source: Source, stream: ByteStream): Promise<ParquetPieces> {
    const stats = source.path === undefined ? undefined : await fs.stat(source.path).catch(() => undefined);
    if (source.path !== undefined && stats?.isFile()) {
      await stream.close();
      return new ParquetPieces(await ParquetReader.open(source.path, source.name), undefined);
    }
    const spool = await Spool.create(source.name);
    try {
      const buffer = new Uint8Array(1 << 20);
      for (let n = await stream.read(buffer, 0); n > 0; n = await stream.read(buffer, 0)) await spool.tap(buffer.subarray(0, n));
      await spool.finish();
      await stream.close();
      return new ParquetPieces(await ParquetReader.open(spool.path, source.name), spool);
    } catch (error) {
      await stream.close();
      await spool.remove();
      throw error;
    }
  }

  /** A block whose rows have been processed, for the reader to fill again. */
  recycle(block: ColumnBlock): void {
    this.reader.recycle(block);
  }

  async next(): Promise<SourcePiece | undefined> {
    const block = await this.reader.next();
    return block === undefined ? undefined : { bytes: new Uint8Array(0), firstLine: block.firstRow, block };
  }

  async close(): Promise<void> {
    await this.reader.close();
    await this.spool?.remove();
  }
}
