// Test helpers: run finorm's CSV engine over whole strings, the bytes
// delivered in chunks cut at given offsets and cut into pieces where the
// engine finds record ends (as the pipeline does), and run csv-parse (the
// reference) the same way.

import { parse } from 'csv-parse/sync';
import { CsvRecordEnds, CsvRecords, fieldText, tokenizeCsv as tokenizePiece } from '../../src/io/csv.js';
import { countLineFeeds } from '../../src/io/pieces.js';

export interface TokenizedRecord {
  fields: string[];
  line: number;
  error?: string;
}

/**
 * Tokenizes `text`: its bytes arrive in chunks cut at `cuts` (offsets);
 * a piece ends at the last record end of each chunk (where CsvRecordEnds
 * says), and each piece is read on its own, starting on its own line.
 */
export function tokenizeCsv(text: string, delimiter = ',', cuts: number[] = []): TokenizedRecord[] {
  const bytes = new TextEncoder().encode(text);
  const ends = new CsvRecordEnds(delimiter.charCodeAt(0));
  const pieces: [number, number][] = [];
  let start = 0;
  let from = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < bytes.length), bytes.length].sort((a, b) => a - b)) {
    if (cut <= from) continue;
    const end = ends.scan(bytes, from, cut);
    from = cut;
    if (end > start) {
      pieces.push([start, end]);
      start = end;
    }
  }
  if (start < bytes.length) pieces.push([start, bytes.length]);
  const out: TokenizedRecord[] = [];
  const records = new CsvRecords();
  let line = 1;
  for (const [s, e] of pieces) {
    const piece = bytes.subarray(s, e);
    tokenizePiece(piece, 0, piece.length, delimiter.charCodeAt(0), line, records);
    for (let r = 0; r < records.count; r++) {
      const fields = Array.from({ length: records.width(r) }, (_, f) => fieldText(piece, records, records.firstField[r] + f));
      const error = records.errors.get(r);
      out.push(error === undefined ? { fields, line: records.line[r] } : { fields, line: records.line[r], error });
    }
    line += countLineFeeds(piece);
  }
  return out;
}

/** csv-parse's reading, with the options that match finorm's rules. */
export function referenceCsv(text: string, delimiter = ','): string[][] {
  return parse(text, {
    delimiter,
    bom: true,
    relax_column_count: true,
    skip_empty_lines: true,
    record_delimiter: ['\r\n', '\n'],
  }) as string[][];
}
