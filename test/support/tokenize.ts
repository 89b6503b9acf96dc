// Test helpers: run finorm's tokenizers over whole strings, optionally cut
// into arbitrary chunks, and run csv-parse (the reference) the same way.

import { parse } from 'csv-parse/sync';
import { CsvTokenizer } from '../../src/io/csv-tokenizer.js';

export interface TokenizedRecord {
  fields: string[];
  line: number;
  error?: string;
}

/** Tokenizes `text` fed in pieces cut at `cuts` (offsets), as a stream would deliver it. */
export function tokenizeCsv(text: string, delimiter = ',', cuts: number[] = []): TokenizedRecord[] {
  const tokenizer = new CsvTokenizer(delimiter);
  const out: TokenizedRecord[] = [];
  const onRecord = (fields: string[], line: number, error: string | undefined): void => {
    out.push(error === undefined ? { fields, line } : { fields, line, error });
  };
  let start = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    if (cut <= start || cut >= text.length) continue;
    tokenizer.push(text.slice(start, cut), onRecord);
    start = cut;
  }
  tokenizer.push(text.slice(start), onRecord);
  tokenizer.end(onRecord);
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
