// readTable: one or more sources (files or stdin) in CSV, TSV or NDJSON,
// read as one table: a header and blocks of records, streamed chunk by chunk.
// It knows nothing of numbers or normalization: cells are the strings of
// CSV/TSV fields, or the JSON values of NDJSON keys (undefined = key absent).

import { DataError, RowError } from '../errors.js';
import type { BadRowPolicy } from './bad-rows.js';
import { CsvTokenizer } from './csv-tokenizer.js';
import { NdjsonTokenizer, type JsonObject } from './ndjson-tokenizer.js';
import { type ByteTap, type Format, type Source, formatFromName, formatFromText, textOf } from './sources.js';

export type Cell = unknown;

/** Consecutive records of one source. */
export interface RowBlock {
  /** The source's name, for messages. */
  source: string;
  records: Cell[][];
  /** Physical line on which each record starts (1-based). */
  lines: number[];
  /**
   * Records that could not be read (wrong field count, bad quoting, bad JSON)
   * stay in place, as an empty record with its error here, so that bad rows
   * are met in line order, whichever stage finds them.
   */
  errors?: (RowError | undefined)[];
}

export interface ReadOptions {
  /** Forces the format; otherwise from the file extension, else sniffed. */
  format: Format | undefined;
  /** CSV delimiter (TSV uses a tab unless this is given). */
  delimiter: string | undefined;
  /** False: the first record is data, and columns are named 1..N. */
  header: boolean;
  badRows: BadRowPolicy;
  /** Sees stdin's raw bytes as they are read (the spool of a two-pass command). */
  stdinTap?: ByteTap;
}

export interface Table {
  /** Column names: the first source's header (every source must have the same). */
  columns: string[];
  /** Format of the first source: the default output format. */
  format: Format;
  /** Delimiter of the first source (CSV/TSV). */
  delimiter: string;
  /** The data records of all sources, in order; can be iterated once. */
  blocks: AsyncGenerator<RowBlock>;
  /** The name of the source the header was read from (the first that is not empty). */
  headerSource: string;
  /** Stops reading: closes every source still open. */
  close(): Promise<void>;
}

type SourceEvent = { kind: 'header'; columns: string[]; format: Format; delimiter: string } | { kind: 'rows'; block: RowBlock };

/** Opens the sources and reads the header; the records follow in `blocks`. */
export async function readTable(sources: readonly Source[], options: ReadOptions): Promise<Table> {
  const readers = sources.map((source) => readSource(source, options));
  let first: { columns: string[]; format: Format; delimiter: string } | undefined;
  let firstIndex = 0;
  // The header comes from the first source that is not empty.
  for (; firstIndex < readers.length; firstIndex++) {
    const event = await readers[firstIndex].next();
    if (event.done) continue;
    if (event.value.kind !== 'header') throw new Error('a source must start with its header');
    first = event.value;
    break;
  }
  const close = async (): Promise<void> => {
    await Promise.all(readers.map((reader) => reader.return(undefined)));
  };
  if (!first) {
    const name = sources[0]?.name ?? '';
    return { columns: [], format: options.format ?? 'csv', delimiter: options.delimiter ?? ',', blocks: noBlocks(), headerSource: name, close };
  }
  const columns = first.columns;
  checkUniqueNames(columns, sources[firstIndex].name);

  async function* blocks(): AsyncGenerator<RowBlock> {
    for (let i = firstIndex; i < readers.length; i++) {
      const reader = readers[i];
      for (let event = await reader.next(); !event.done; event = await reader.next()) {
        const value = event.value;
        if (value.kind === 'rows') yield value.block;
        else if (i !== firstIndex) checkSameHeader(columns, value.columns, sources[i].name, sources[firstIndex].name);
      }
    }
  }
  return { columns, format: first.format, delimiter: first.delimiter, blocks: blocks(), headerSource: sources[firstIndex].name, close };
}

async function* noBlocks(): AsyncGenerator<RowBlock> {}

/** One source: its header event, then its blocks of records, one block per text chunk. */
async function* readSource(source: Source, options: ReadOptions): AsyncGenerator<SourceEvent> {
  const text = textOf(source, source.path === undefined ? options.stdinTap : undefined);
  let chunk = await text.next();
  if (chunk.done) return;
  // Sniff past leading blank chunks (whitespace only) to the first real character.
  let format = options.format ?? formatFromName(source.path);
  let held = '';
  while (format === undefined && !chunk.done) {
    held += chunk.value;
    format = formatFromText(held);
    if (format === undefined) chunk = await text.next();
  }
  if (format === undefined) return; // whitespace only: an empty source
  const pending = held !== '' ? held : chunk.done ? '' : chunk.value;

  async function* chunks(): AsyncGenerator<string> {
    try {
      if (pending !== '') yield pending;
      for (let c = await text.next(); !c.done; c = await text.next()) yield c.value;
    } finally {
      // Stopped early (Table.close): close the source too.
      await text.return(undefined);
    }
  }
  if (format === 'ndjson') yield* readNdjson(source, chunks(), options);
  else {
    const delimiter = options.delimiter ?? (format === 'tsv' ? '\t' : ',');
    yield* readDelimited(source, chunks(), format, delimiter, options);
  }
}

async function* readDelimited(
  source: Source,
  chunks: AsyncGenerator<string>,
  format: Format,
  delimiter: string,
  options: ReadOptions,
): AsyncGenerator<SourceEvent> {
  const tokenizer = new CsvTokenizer(delimiter);
  const records = new DelimitedRecords(source.name, format, delimiter, options.header);
  for await (const chunk of chunks) {
    tokenizer.push(chunk, records.onRecord);
    yield* records.queue.drain();
  }
  tokenizer.end(records.onRecord);
  yield* records.queue.drain();
}

/**
 * Sorts a CSV/TSV source's tokenized records into its header, good records
 * and bad ones (malformed, or a field count other than the header's). The
 * reader uses it on a whole source; a worker thread on one piece of it.
 */
export class DelimitedRecords {
  readonly queue: EventQueue;
  /** Fields per record: the header's (or first record's); −1 until it is seen. */
  private width: number;

  /** `width`: for a piece after the first, the source's known field count (its header is behind). */
  constructor(
    private readonly sourceName: string,
    private readonly format: Format,
    private readonly delimiter: string,
    private readonly header: boolean,
    width = -1,
  ) {
    this.queue = new EventQueue(sourceName);
    this.width = width;
  }

  readonly onRecord = (fields: string[], line: number, error: string | undefined): void => {
    const out = this.queue;
    if (error !== undefined) {
      if (this.width < 0) throw new DataError(`${this.sourceName}:${line}: cannot read the header: ${error}`);
      out.addBad(new RowError(error, { file: this.sourceName, line }), line);
      return;
    }
    if (this.width < 0) {
      this.width = fields.length;
      const columns = this.header ? fields : fields.map((_, i) => String(i + 1));
      out.header = { kind: 'header', columns, format: this.format, delimiter: this.delimiter };
      if (this.header) return;
    }
    if (fields.length !== this.width) {
      out.addBad(
        new RowError(`expected ${this.width} fields (as in the header), found ${fields.length}`, { file: this.sourceName, line }),
        line,
      );
      return;
    }
    out.add(fields, line);
  };
}

async function* readNdjson(source: Source, chunks: AsyncGenerator<string>, options: ReadOptions): AsyncGenerator<SourceEvent> {
  const tokenizer = new NdjsonTokenizer();
  let columns: string[] | undefined;
  const out = new EventQueue(source.name);

  const onObject = (object: JsonObject | undefined, line: number, error: string | undefined): void => {
    const at = { file: source.name, line };
    if (object === undefined) {
      if (columns === undefined) throw new DataError(`cannot read the first record: ${error}`, at);
      out.addBad(new RowError(error ?? 'bad line', at), line);
      return;
    }
    if (columns === undefined) {
      columns = Object.keys(object);
      out.header = { kind: 'header', columns, format: 'ndjson', delimiter: ',' };
    }
    // A key the first record lacks would need a new column half-way through
    // the output, so it is a bad row; a key a later record lacks is a missing value.
    const record: Cell[] = new Array(columns.length);
    let present = 0;
    for (let j = 0; j < columns.length; j++) {
      const value = object[columns[j]];
      record[j] = value;
      if (value !== undefined) present++;
    }
    let keys = 0;
    for (const _ in object) keys++;
    if (keys > present) {
      const known = new Set(columns);
      const extra = Object.keys(object).find((key) => !known.has(key)) ?? '';
      out.addBad(
        new RowError(
          `key ${JSON.stringify(extra)} is not among the first record's keys (${columns.join(', ')}); finorm takes the columns from the first record`,
          at,
        ),
        line,
      );
      return;
    }
    out.add(record, line);
  };

  for await (const chunk of chunks) {
    tokenizer.push(chunk, onObject);
    yield* out.drain();
  }
  tokenizer.end(onObject);
  yield* out.drain();
}

/** Header and records found in the current chunk, waiting to be yielded. */
export class EventQueue {
  header: SourceEvent | undefined;
  private records: Cell[][] = [];
  private lines: number[] = [];
  constructor(private readonly sourceName: string) {}

  private errors: (RowError | undefined)[] | undefined;

  add(record: Cell[], line: number): void {
    this.records.push(record);
    this.lines.push(line);
    this.errors?.push(undefined);
  }

  /** A record that could not be read: an empty record with its error, in its place. */
  addBad(error: RowError, line: number): void {
    this.errors ??= this.records.map(() => undefined);
    this.records.push([]);
    this.lines.push(line);
    this.errors.push(error);
  }

  *drain(): Generator<SourceEvent> {
    if (this.header) {
      yield this.header;
      this.header = undefined;
    }
    if (this.records.length > 0) {
      const block: RowBlock = { source: this.sourceName, records: this.records, lines: this.lines };
      if (this.errors) block.errors = this.errors;
      yield { kind: 'rows', block };
      this.records = [];
      this.lines = [];
      this.errors = undefined;
    }
  }
}

function checkUniqueNames(columns: string[], sourceName: string): void {
  const seen = new Map<string, number>();
  columns.forEach((name, i) => {
    const earlier = seen.get(name);
    if (earlier !== undefined) {
      throw new DataError(
        `${sourceName}: duplicate column name ${JSON.stringify(name)} (columns ${earlier + 1} and ${i + 1}); rename one, or read with --no-header and select columns by number`,
      );
    }
    seen.set(name, i);
  });
}

export function checkSameHeader(expected: string[], got: string[], name: string, firstName: string): void {
  if (expected.length === got.length && expected.every((column, i) => column === got[i])) return;
  const i = expected.findIndex((column, k) => column !== got[k]);
  const detail =
    i < 0
      ? `it has ${got.length} columns, ${firstName} has ${expected.length}`
      : `column ${i + 1} is ${JSON.stringify(got[i] ?? '')} here but ${JSON.stringify(expected[i] ?? '')} in ${firstName}`;
  throw new DataError(`${name}: header differs from the first file's (${detail}); all inputs must have the same columns`);
}
