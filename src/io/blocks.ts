// A CSV/TSV source cut into blocks of whole records, where the CSV engine
// says records end (quotes and all): each block the header and then records,
// at most a given number of bytes, ended by a NUL byte. A splitter that
// takes one NUL-ended record at a time (GNU parallel --pipe -N1 --recend '\0'
// --rrs, which also removes the NUL) then gives every job a table of its
// own. The records' bytes pass on as they are (a line break inside quotes
// stays in its record; blank lines are left out), and memory holds one piece
// at a time, whatever the block size.

import { DataError, UsageError } from '../errors.js';
import { ByteStream } from './byte-stream.js';
import { CsvRecords, tokenizeCsv } from './csv.js';
import { PieceBuffers, PieceReader, countLineFeeds } from './pieces.js';
import { type Format, type Source, emptyInput } from './sources.js';
import { tableFormatOf } from './table-format.js';

export const BLOCK_END = 0;

/**
 * The blocks of `source`, as bytes to write one after another (a block may
 * come in several parts). Each block holds at most `blockSize` bytes, its
 * NUL included, unless one record alone is longer. With `header`, the first
 * record is the header, in front of every block; an input without records
 * after it gives no block.
 */
export async function* recordBlocks(
  source: Source,
  settings: { format?: Format | undefined; delimiter?: string | undefined; header: boolean },
  blockSize: number,
): AsyncGenerator<Uint8Array> {
  const stream = await ByteStream.open(source);
  try {
    const table = await tableFormatOf(stream, source, settings);
    if (table === undefined) throw emptyInput([source]);
    if (table.format === 'ndjson') {
      throw new UsageError(`${source.name}: NDJSON records are lines: a splitter can cut it as it is (GNU parallel --pipe)`);
    }
    if (table.format === 'parquet') {
      throw new UsageError(`${source.name}: Parquet is cut by its row groups, not by bytes: give each job the whole file, or convert it to CSV first`);
    }
    const delimiter = table.delimiter.charCodeAt(0);
    const format = table.format;
    const reader = new PieceReader(source.name, stream, format, delimiter, new PieceBuffers(4, 1 << 24));
    const records = new CsvRecords();
    let header: Uint8Array | undefined;
    let headerPending = settings.header;
    /** Bytes in the block begun (0: none begun). */
    let inBlock = 0;
    for (let piece = await reader.next(); piece !== undefined; piece = await reader.next()) {
      const { bytes, firstLine } = piece;
      const nul = bytes.indexOf(BLOCK_END);
      if (nul >= 0) {
        throw new DataError(`${source.name}:${firstLine + countLineFeeds(bytes, nul)}: a NUL byte, which ends a block (the splitter would remove it)`);
      }
      tokenizeCsv(bytes, 0, bytes.length, delimiter, firstLine, records);
      // Runs of records that go out together: [start, end) of the piece's bytes.
      const out: Uint8Array[] = [];
      let runStart = -1;
      let runEnd = -1;
      const flush = () => {
        if (runStart >= 0) out.push(bytes.subarray(runStart, runEnd));
        runStart = -1;
      };
      for (let r = 0; r < records.count; r++) {
        const error = records.errors.get(r);
        if (error !== undefined) throw new DataError(`${source.name}:${records.line[r]}: ${error}`);
        const start = records.recordStart[r];
        let end = records.recordEnd[r];
        if (headerPending) {
          // A line break after it, so that records can follow (a file holding only a header may lack one).
          header = bytes[end - 1] === 10 ? bytes.slice(start, end) : Buffer.concat([bytes.subarray(start, end), Buffer.from('\n')]);
          headerPending = false;
          continue;
        }
        let length = end - start;
        // The last record, without its line break: one, so that it reads the same wherever it goes.
        const unended = bytes[end - 1] !== 10;
        if (unended) length++;
        if (inBlock > 0 && inBlock + length + 1 > blockSize) {
          flush();
          out.push(END);
          inBlock = 0;
        }
        if (inBlock === 0 && header !== undefined) {
          flush();
          out.push(header);
          inBlock = header.length;
        }
        if (runStart >= 0 && start !== runEnd) flush();
        if (runStart < 0) runStart = start;
        runEnd = end;
        inBlock += length;
        if (unended) {
          flush();
          out.push(LINE_FEED);
        }
      }
      flush();
      for (const part of out) yield part;
    }
    if (inBlock > 0) yield END;
  } finally {
    await stream.close();
  }
}

const END = Uint8Array.of(BLOCK_END);
const LINE_FEED = Uint8Array.of(10);

/** `64M`, `512K`, `1G` or a number of bytes (K, M, G: powers of 1024, as GNU parallel reads them); NaN if it is none of these. */
export function parseSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)\s*$/.exec(text);
  if (match === null) return NaN;
  const power = ' kmgt'.indexOf(match[2].toLowerCase() || ' ');
  return Math.floor(Number(match[1]) * 1024 ** power);
}
