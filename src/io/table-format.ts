// How a source's bytes are read as a table: its format (CSV, TSV, NDJSON,
// Parquet) and delimiter, from what the user said (-f, -d), else the file
// name's extension, else the bytes themselves: Parquet's magic number
// `PAR1`, `{` first for NDJSON, and the delimiter of CSV sniffed from the
// header line. One rule for every reader of tables (a run's input, `split`).

import type { ByteStream } from './byte-stream.js';
import { sniffDelimiter } from './csv.js';
import { isParquetMagic } from './parquet/reader.js';
import { type Format, type Source, formatFromName } from './sources.js';

export interface TableFormat {
  format: Format;
  /** The delimiter of CSV/TSV (`,` for NDJSON and Parquet, where it means nothing). */
  delimiter: string;
  /** The delimiter came from the header line, and is not a comma (what the summary says). */
  sniffed: boolean;
}

/**
 * The format of a source (nothing of the stream is consumed); undefined if
 * it holds nothing but white space.
 */
export async function tableFormatOf(
  stream: ByteStream,
  source: Source,
  said: { format?: Format | undefined; delimiter?: string | undefined },
): Promise<TableFormat | undefined> {
  const named = said.format ?? formatFromName(source.path);
  if (named === 'parquet' || (named === undefined && isParquetMagic(await stream.head(4)))) return { format: 'parquet', delimiter: ',', sniffed: false };
  const first = await stream.firstNonBlank();
  if (first === undefined) return undefined;
  const format = named ?? (first === 123 ? 'ndjson' : 'csv');
  const delimiter = said.delimiter ?? (format === 'tsv' ? '\t' : ',');
  if (said.delimiter !== undefined || named !== undefined || format !== 'csv') return { format, delimiter, sniffed: false };
  // Nothing says which delimiter (stdin, a file without a known extension): the header line does.
  const sniffed = sniffDelimiter((await stream.firstLine()) ?? new Uint8Array(0));
  if (sniffed === 44) return { format, delimiter, sniffed: false };
  return { format: sniffed === 9 ? 'tsv' : 'csv', delimiter: String.fromCharCode(sniffed), sniffed: true };
}
