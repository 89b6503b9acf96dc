// A CSV/TSV source with a NUL byte after every record, where the CSV engine
// says the record ends (quotes and all): what a splitter that cuts at a
// separator needs to cut only between records (GNU parallel --pipe --recend
// '\0' --rrs, which also removes the NULs). Every byte of the source is
// passed on as it is (a line break inside quotes stays in its record), and
// memory holds one piece at a time.

import { DataError, UsageError } from '../errors.js';
import { ByteStream } from './byte-stream.js';
import { CsvRecords, tokenizeCsv } from './csv.js';
import { PieceBuffers, PieceReader, countLineFeeds } from './pieces.js';
import { type Format, type Source, formatFromName } from './sources.js';

export const RECORD_MARK = 0;

/**
 * The records of `source`, marked, piece by piece. The first record (the
 * header) goes to `header` when it is given, before anything is yielded, and
 * is then not yielded; otherwise it is marked like the others.
 */
export async function* markedRecords(
  source: Source,
  settings: { format?: Format | undefined; delimiter?: string | undefined },
  header?: (bytes: Uint8Array) => Promise<void>,
): AsyncGenerator<Uint8Array> {
  const stream = await ByteStream.open(source);
  try {
    const first = await stream.firstNonBlank();
    const format = settings.format ?? formatFromName(source.path) ?? (first === 123 ? 'ndjson' : 'csv');
    if (format === 'ndjson') {
      throw new UsageError(`${source.name}: NDJSON records are lines already: a splitter can cut it as it is (GNU parallel --pipe)`);
    }
    const delimiter = (settings.delimiter ?? (format === 'tsv' ? '\t' : ',')).charCodeAt(0);
    const reader = new PieceReader(stream, format, delimiter, new PieceBuffers(4, 1 << 24));
    const records = new CsvRecords();
    let headerPending = header !== undefined;
    for (let piece = await reader.next(); piece !== undefined; piece = await reader.next()) {
      const { bytes, firstLine } = piece;
      const nul = bytes.indexOf(RECORD_MARK);
      if (nul >= 0) {
        throw new DataError(`${source.name}:${firstLine + countLineFeeds(bytes, nul)}: a NUL byte, which marks where records end (the splitter would remove it)`);
      }
      tokenizeCsv(bytes, 0, bytes.length, delimiter, firstLine, records);
      let from = 0;
      let r = 0;
      if (headerPending && records.count > 0) {
        const end = records.recordEnd[0];
        // Blocks go after it: it must end its line (it does, unless it is all there is).
        const line = bytes[end - 1] === 10 ? bytes.slice(records.recordStart[0], end) : Buffer.concat([bytes.subarray(records.recordStart[0], end), Buffer.from('\n')]);
        await (header as (bytes: Uint8Array) => Promise<void>)(line);
        headerPending = false;
        from = records.recordEnd[0];
        r = 1;
      }
      const marked = new Uint8Array(bytes.length - from + records.count - r);
      let at = 0;
      for (; r < records.count; r++) {
        const error = records.errors.get(r);
        if (error !== undefined) throw new DataError(`${source.name}:${records.line[r]}: ${error}`);
        const end = records.recordEnd[r];
        marked.set(bytes.subarray(from, end), at);
        at += end - from;
        marked[at++] = RECORD_MARK;
        from = end;
      }
      // Blank lines after the last record of the piece pass on unmarked.
      marked.set(bytes.subarray(from), at);
      at += bytes.length - from;
      if (at > 0) yield marked.subarray(0, at);
    }
    if (headerPending) throw new DataError(`${source.name}: no records, not even a header`);
  } finally {
    await stream.close();
  }
}
