// How a source's bytes are read as a table: its format (CSV, TSV, NDJSON)
// and delimiter, from what the user said (-f, -d), else the file name's
// extension, else the bytes themselves: `{` first means NDJSON, and the
// delimiter of CSV is sniffed from the header line. One rule for every
// reader of tables (the input of a run, `split`).

import type { ByteStream } from './byte-stream.js';
import { sniffDelimiter } from './csv.js';
import { type Format, type Source, formatFromName } from './sources.js';

export interface TableFormat {
  format: Format;
  /** The delimiter of CSV/TSV (`,` for NDJSON, where it means nothing). */
  delimiter: string;
  /** The delimiter came from the header line, and is not a comma (what the summary says). */
  sniffed: boolean;
}

/** The format of a source whose first non-blank byte is `first` (the stream is not consumed). */
export async function tableFormatOf(
  stream: ByteStream,
  source: Source,
  first: number,
  said: { format?: Format | undefined; delimiter?: string | undefined },
): Promise<TableFormat> {
  const named = formatFromName(source.path);
  const format = said.format ?? named ?? (first === 123 ? 'ndjson' : 'csv');
  const delimiter = said.delimiter ?? (format === 'tsv' ? '\t' : ',');
  if (said.format !== undefined || said.delimiter !== undefined || named !== undefined || format !== 'csv') return { format, delimiter, sniffed: false };
  // Nothing says which delimiter (stdin, a file without a known extension): the header line does.
  const sniffed = sniffDelimiter((await stream.firstLine()) ?? new Uint8Array(0));
  if (sniffed === 44) return { format, delimiter, sniffed: false };
  return { format: sniffed === 9 ? 'tsv' : 'csv', delimiter: String.fromCharCode(sniffed), sniffed: true };
}
