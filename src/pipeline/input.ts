// Opening the input: the sources (files or stdin) read one after another as
// one table. Before any row is processed, the main thread reads the header
// (the first record of the first source that is not empty), checks it, and
// decides the feature columns, reading up to INFERENCE_ROWS rows ahead when
// they must be inferred; those rows are kept, as pieces, and processed first.
// Later sources must repeat the header, which is checked and cut off here, so
// that every piece the pipeline sees holds data records only.

import { DataError, RowError, UsageError } from '../errors.js';
import { BadRowPolicy, type OnError } from '../io/bad-rows.js';
import { type ByteTap, ByteStream } from '../io/byte-stream.js';
import { CsvRecords, fieldText, tokenizeCsv } from '../io/csv.js';
import { tableFormatOf } from '../io/table-format.js';
import { NdjsonRecords, parseLine, readNdjson } from '../io/ndjson.js';
import { PIECE_BYTES, PieceBuffers, PieceReader, type SourcePiece, countLineFeeds } from '../io/pieces.js';
import { type ColumnInfo, cellText, isNumericKind, numberOf } from '../io/parquet/cells.js';
import type { ColumnBlock } from '../io/parquet/decode.js';
import { ParquetPieces } from '../io/parquet/source.js';
import type { ThriftStruct } from '../io/parquet/thrift.js';
import { type Format, type Source, emptyInput, firstInvalidUtf8, notUtf8 } from '../io/sources.js';
import { isUtf8 } from 'node:buffer';
import { type Cell, type FeatureSelection, INFERENCE_ROWS, resolveColumns, selectFeatures, selectionOf } from '../selection.js';
import type { MissingTokens } from '../options.js';
import type { TableLayout } from './job.js';

/** The parsed values of the shared input and column options. */
export interface InputSettings {
  format?: Format | undefined;
  delimiter?: string | undefined;
  header: boolean;
  na: MissingTokens;
  onError: OnError;
  columns?: string[] | undefined;
  exclude?: string[] | undefined;
  /** --group-by: columns kept out of the features. */
  groupBy?: string[] | undefined;
}

/** A piece of a source, as the input delivers it. */
export interface InputPiece {
  source: string;
  bytes: Uint8Array;
  firstLine: number;
  /** Parquet: the rows, decoded (bytes is empty). */
  block?: ColumnBlock;
}

/** An opened source: its bytes cut into pieces (text), or its rows in blocks (Parquet). */
interface OpenSource {
  source: Source;
  reader: { next(): Promise<SourcePiece | undefined>; close(): Promise<void> };
}

/** Buffers kept for pieces and outputs: enough for those in flight, none that a long record made big. */
const KEPT_BUFFERS = 24;

export class Input {
  readonly badRows: BadRowPolicy;
  readonly buffers = new PieceBuffers(KEPT_BUFFERS, 8 * PIECE_BYTES);
  /** Data rows delivered so far (bad rows excluded). */
  rowsKept = 0;
  columns: string[] = [];
  format: Format = 'csv';
  /** The CSV/TSV delimiter. */
  delimiter = ',';
  /** The source the header was read from. */
  headerSource = '';
  /** The delimiter sniffed from a header line, when nothing named one and it is not a comma (the summary says so). */
  sniffed: { source: string; delimiter: string } | undefined;
  selection: FeatureSelection = selectionOf([], []);
  /** Parquet: what each column holds, and its schema element (for a Parquet output). */
  parquetColumns: ColumnInfo[] | undefined;
  parquetSchema: ThriftStruct[] | undefined;
  /** Bytes of the first source read ahead (the header, the inference sample, stdin's read-ahead). */
  private readonly lookahead: InputPiece[] = [];
  private current: OpenSource | undefined;
  private next = 0;
  private expectedRows: number | undefined;
  private ended = false;
  private pendingRead: Promise<boolean> | undefined;

  private constructor(
    readonly sources: Source[],
    readonly settings: InputSettings,
    private readonly taps: ReadonlyMap<Source, ByteTap> | undefined,
  ) {
    this.badRows = new BadRowPolicy(settings.onError);
  }

  /**
   * Opens the sources, reads the header and decides the features.
   * `required` names the features a parameter file fixes (they must exist,
   * and must equal --columns if both are given); `taps` see the raw bytes
   * of the sources they are for (to spool them).
   */
  static async open(
    sources: Source[],
    settings: InputSettings,
    required?: { names: string[]; file: string },
    taps?: ReadonlyMap<Source, ByteTap>,
  ): Promise<Input> {
    const input = new Input(sources, settings, taps);
    try {
      await input.readHeader();
      input.selection = await input.decideFeatures(required);
      input.checkMissingTokenColumns();
    } catch (error) {
      await input.close();
      throw error;
    }
    return input;
  }

  /** The table as the pieces are read. */
  get layout(): TableLayout {
    return {
      format: this.format,
      delimiter: this.delimiter.charCodeAt(0),
      columns: this.columns,
      features: this.selection.features,
      names: this.selection.names,
      na: this.selection.features.map((column) => [...this.missingTokensOf(column)]),
      onError: this.settings.onError,
      ...(this.parquetColumns ? { parquet: this.parquetColumns } : {}),
    };
  }

  /** Opens sources until one has a byte that is not whitespace, and reads its first record. */
  private async readHeader(): Promise<void> {
    while (this.next < this.sources.length) {
      const opened = await this.openNext();
      if (opened === undefined) continue;
      this.current = opened.open;
      this.format = opened.format;
      this.delimiter = opened.delimiter;
      this.headerSource = opened.open.source.name;
      if (opened.open.reader instanceof ParquetPieces) {
        if (!this.settings.header) throw new UsageError(`--no-header: ${this.headerSource} is Parquet, whose columns have names`);
        this.columns = opened.open.reader.reader.columns;
        this.parquetColumns = opened.open.reader.reader.columnInfo;
        this.parquetSchema = opened.open.reader.reader.meta.columns.map((column) => column.element);
        checkUniqueNames(this.columns, this.headerSource);
        return;
      }
      const first = await this.firstRecord(opened.open);
      if (first === undefined) {
        this.current = undefined;
        await opened.open.reader.close();
        continue;
      }
      this.columns = first.columns;
      checkUniqueNames(this.columns, this.headerSource);
      return;
    }
    throw emptyInput(this.sources);
  }

  /** Opens the next source; undefined if it holds nothing but whitespace. */
  private async openNext(): Promise<{ open: OpenSource; format: Format; delimiter: string } | undefined> {
    const source = this.sources[this.next++];
    const stream = await ByteStream.open(source, this.taps?.get(source));
    const table = await tableFormatOf(stream, source, this.settings);
    if (table === undefined) {
      // Whitespace only: an empty source. The bytes still go through (a spool must see them).
      const sink = new Uint8Array(1 << 16);
      while ((await stream.read(sink, 0)) > 0);
      await stream.close();
      return undefined;
    }
    const { format, delimiter, sniffed } = table;
    if (format === 'parquet') return { open: { source, reader: await ParquetPieces.open(source, stream) }, format, delimiter };
    if (sniffed) this.sniffed ??= { source: source.name, delimiter };
    return { open: { source, reader: new PieceReader(source.name, stream, format, delimiter.charCodeAt(0), this.buffers) }, format, delimiter };
  }


  /**
   * The source's first record: the header (cut off its piece), or with
   * --no-header the first data record (kept), or NDJSON's first object;
   * undefined if the source has no record. The piece goes to the lookahead.
   */
  private async firstRecord(open: OpenSource): Promise<{ columns: string[] } | undefined> {
    const name = open.source.name;
    for (let piece = await open.reader.next(); piece; piece = await open.reader.next()) {
      const { bytes, firstLine } = piece;
      if (this.format === 'ndjson') {
        const found = firstLineOf(bytes);
        if (found === undefined) continue;
        this.lookahead.push({ source: name, ...piece });
        const text = Buffer.from(bytes.buffer, bytes.byteOffset + found.start, found.end - found.start).toString('utf8');
        const { object, error } = parseLine(text);
        const line = firstLine + countLineFeeds(bytes, found.start);
        if (!isUtf8(bytes.subarray(0, found.end))) throw notUtf8(name, { line, byte: bytes[firstInvalidUtf8(bytes.subarray(0, found.end), true)] });
        if (object === undefined) throw new DataError(`cannot read the first record: ${error}`, { file: name, line });
        return { columns: Object.keys(object) };
      }
      const records = new CsvRecords();
      const end = tokenizeCsv(bytes, 0, bytes.length, this.delimiter.charCodeAt(0), firstLine, records, 1);
      if (records.count === 0) continue;
      const error = records.errors.get(0);
      if (error !== undefined) throw new DataError(`${name}:${records.line[0]}: cannot read the header: ${error}`);
      const headerBytes = bytes.subarray(0, end);
      if (!isUtf8(headerBytes)) {
        const at = firstInvalidUtf8(headerBytes, true);
        throw notUtf8(name, { line: firstLine + countLineFeeds(headerBytes, at), byte: headerBytes[at] });
      }
      const width = records.width(0);
      if (!this.settings.header) {
        this.lookahead.push({ source: name, ...piece });
        return { columns: Array.from({ length: width }, (_, i) => String(i + 1)) };
      }
      const columns = Array.from({ length: width }, (_, i) => fieldText(bytes, records, records.firstField[0] + i));
      if (end < bytes.length) this.lookahead.push({ source: name, bytes: bytes.subarray(end), firstLine: firstLine + countLineFeeds(headerBytes) });
      else this.buffers.give(bytes.buffer as ArrayBuffer);
      return { columns };
    }
    return undefined;
  }

  /** The texts that mean "missing" in a column: the global list and the column's own (--na COLUMN=…). */
  private missingTokensOf(column: number): ReadonlySet<string> {
    const own = this.settings.na.byColumn.get(this.columns[column]);
    return own === undefined ? this.settings.na.all : new Set([...this.settings.na.all, ...own]);
  }

  /** --na COLUMN=… names a feature column: in a column that passes through (or none), its tokens would change nothing. */
  private checkMissingTokenColumns(): void {
    const features = new Set(this.selection.names);
    for (const name of this.settings.na.byColumn.keys()) {
      if (!this.columns.includes(name)) {
        throw new UsageError(`--na ${name}=…: no column named ${JSON.stringify(name)}; the columns are: ${this.columns.join(', ')}`);
      }
      if (!features.has(name)) {
        throw new UsageError(`--na ${name}=…: ${JSON.stringify(name)} is not a feature column (features: ${this.selection.names.join(', ')}); name it with -c`);
      }
    }
  }

  /** The features: those a parameter file fixes, those named, or those inferred from the first rows. */
  private async decideFeatures(required: { names: string[]; file: string } | undefined): Promise<FeatureSelection> {
    const { settings, columns } = this;
    if (required && settings.columns === undefined) {
      const features = resolveRequired(required.names, columns, required.file);
      const excluded = settings.exclude ? new Set(resolveColumns(settings.exclude, columns, '--exclude')) : new Set<number>();
      const clash = features.find((i) => excluded.has(i));
      if (clash !== undefined) {
        throw new UsageError(`--exclude ${JSON.stringify(columns[clash])} conflicts with ${required.file}, which has parameters for it`);
      }
      return selectionOf(columns, features);
    }
    const sample = settings.columns === undefined ? await this.sample() : [];
    const selection = selectFeatures(columns, settings, sample, (column) => this.missingTokensOf(column), this.format === 'ndjson' || this.format === 'parquet');
    if (required) checkSameFeatures(selection, required.names, required.file);
    this.checkParquetFeatures(selection);
    return selection;
  }

  /** Parquet features must hold numbers, or text to read numbers from: a date or a boolean is refused, naming it. */
  private checkParquetFeatures(selection: FeatureSelection): void {
    const info = this.parquetColumns;
    if (info === undefined) return;
    for (const column of selection.features) {
      const { kind, name } = info[column];
      if (!isNumericKind(kind) && kind !== 'string') {
        throw new UsageError(`column ${JSON.stringify(name)} of ${this.headerSource} holds ${kind === 'int96' ? 'timestamp' : kind} values, not numbers: it cannot be a feature`);
      }
    }
  }

  /** A Parquet block's rows as cells: numbers for numeric columns, text for the others, null for nulls. */
  private blockCells(block: ColumnBlock, limit: number): Cell[][] {
    const info = this.parquetColumns as ColumnInfo[];
    const rows: Cell[][] = [];
    for (let r = 0; r < Math.min(limit, block.rows); r++) {
      rows.push(
        info.map((column, c) => {
          if (isNumericKind(column.kind)) {
            const x = numberOf(column, block.columns[c], r);
            return x === x ? x : null;
          }
          return cellText(column, block.columns[c], r) ?? null;
        }),
      );
    }
    return rows;
  }

  /**
   * The first INFERENCE_ROWS rows as cells, read ahead (and kept). An
   * unreadable row says nothing about column types; under stop it ends the
   * run now, as the first bad row. (Also what a Parquet output's column types
   * are chosen from.)
   */
  async sample(): Promise<Cell[][]> {
    const sample: Cell[][] = [];
    const width = this.columns.length;
    const csv = new CsvRecords();
    const json = new NdjsonRecords(this.columns);
    for (let k = 0; sample.length < INFERENCE_ROWS; k++) {
      if (k === this.lookahead.length && !(await this.readAheadOnePiece())) break;
      const { bytes, firstLine, source, block } = this.lookahead[k];
      const limit = INFERENCE_ROWS - sample.length;
      if (block !== undefined) {
        sample.push(...this.blockCells(block, limit));
        continue;
      }
      if (this.format === 'ndjson') {
        readNdjson(bytes, 0, bytes.length, firstLine, json, limit);
        for (let r = 0; r < json.count; r++) {
          const error = json.errors.get(r);
          if (error !== undefined) {
            if (this.settings.onError === 'stop') throw new RowError(error, { file: source, line: json.line[r] });
            continue;
          }
          sample.push(json.cells.slice(r * width, (r + 1) * width));
        }
        continue;
      }
      tokenizeCsv(bytes, 0, bytes.length, this.delimiter.charCodeAt(0), firstLine, csv, limit);
      for (let r = 0; r < csv.count; r++) {
        const error = csv.errors.get(r) ?? (csv.width(r) !== width ? `expected ${width} fields (as in the header), found ${csv.width(r)}` : undefined);
        if (error !== undefined) {
          if (this.settings.onError === 'stop') throw new RowError(error, { file: source, line: csv.line[r] });
          continue;
        }
        sample.push(Array.from({ length: width }, (_, c) => fieldText(bytes, csv, csv.firstField[r] + c)));
      }
    }
    return sample;
  }

  /** Reads one more piece of the current source into the lookahead; false at its end. */
  private async readAheadOnePiece(): Promise<boolean> {
    if (this.current === undefined) return false;
    const piece = await this.current.reader.next();
    if (piece === undefined) return false;
    this.lookahead.push({ source: this.current.source.name, ...piece });
    return true;
  }

  /**
   * Reads ahead (keeping what it reads) until `bytes` are held, the first
   * source ends, or `waitMs` have passed: true if the input held that much
   * that soon (a file piped in does; a slow producer does not).
   */
  async readAhead(bytes: number, waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    let held = this.lookahead.reduce((sum, piece) => sum + pieceSize(piece), 0);
    while (held < bytes) {
      const left = deadline - Date.now();
      if (left <= 0 || this.current === undefined) return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), left)));
      const reading = this.readAheadOnePiece();
      const outcome = await Promise.race([reading, timeout]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        // The read goes on; its piece joins the lookahead when it comes.
        this.pendingRead = reading;
        return false;
      }
      if (!outcome) return held >= bytes;
      held += pieceSize(this.lookahead[this.lookahead.length - 1]);
    }
    return true;
  }

  /** Every piece of every source, in order: the lookahead first. Can be iterated once. */
  async *pieces(): AsyncGenerator<InputPiece> {
    for (;;) {
      while (this.lookahead.length > 0) yield this.lookahead.shift() as InputPiece;
      // A read that readAhead stopped waiting for: its piece comes next.
      const pending = this.pendingRead;
      if (pending === undefined) break;
      this.pendingRead = undefined;
      await pending;
    }
    while (this.current) {
      const { reader, source } = this.current;
      for (let piece = await reader.next(); piece; piece = await reader.next()) yield { source: source.name, ...piece };
      await reader.close();
      this.current = undefined;
      while (this.current === undefined && this.next < this.sources.length) {
        const opened = await this.openNext();
        if (opened === undefined) continue;
        if (opened.format !== this.format) {
          await opened.open.reader.close();
          throw new DataError(`${opened.open.source.name}: it is ${opened.format.toUpperCase()}, but ${this.headerSource} is ${this.format.toUpperCase()}; all inputs must have the same format`);
        }
        if (opened.delimiter !== this.delimiter) {
          await opened.open.reader.close();
          throw new DataError(
            `${opened.open.source.name}: its fields are separated by ${JSON.stringify(opened.delimiter)}, but those of ${this.headerSource} by ${JSON.stringify(this.delimiter)}; all inputs must have the same delimiter`,
          );
        }
        this.current = opened.open;
        if (opened.open.reader instanceof ParquetPieces) this.checkSameParquetColumns(opened.open.reader, opened.open.source.name);
        else yield* this.laterSourceStart(opened.open);
      }
    }
    this.ended = true;
  }

  /** A later Parquet file: the same columns, of the same types. */
  private checkSameParquetColumns(pieces: ParquetPieces, name: string): void {
    checkSameHeader(this.columns, pieces.reader.columns, name, this.headerSource);
    const first = this.parquetColumns as ColumnInfo[];
    pieces.reader.columnInfo.forEach((column, c) => {
      const expected = first[c];
      if (column.physical !== expected.physical || column.kind !== expected.kind || column.scale !== expected.scale || column.perSecond !== expected.perSecond) {
        throw new DataError(`${name}: column ${JSON.stringify(column.name)} is of another type than in ${this.headerSource}; all inputs must have the same column types`);
      }
    });
  }

  /** A later source's first pieces: its header checked against the first and cut off (CSV/TSV with a header). */
  private async *laterSourceStart(open: OpenSource): AsyncGenerator<InputPiece> {
    const name = open.source.name;
    if (this.format === 'ndjson' || !this.settings.header) return;
    for (let piece = await open.reader.next(); piece; piece = await open.reader.next()) {
      const { bytes, firstLine } = piece;
      const records = new CsvRecords();
      const end = tokenizeCsv(bytes, 0, bytes.length, this.delimiter.charCodeAt(0), firstLine, records, 1);
      if (records.count === 0) continue;
      const error = records.errors.get(0);
      if (error !== undefined) throw new DataError(`${name}:${records.line[0]}: cannot read the header: ${error}`);
      const header = Array.from({ length: records.width(0) }, (_, i) => fieldText(bytes, records, records.firstField[0] + i));
      checkSameHeader(this.columns, header, name, this.headerSource);
      if (end < bytes.length) yield { source: name, bytes: bytes.subarray(end), firstLine: firstLine + countLineFeeds(bytes, end) };
      return;
    }
  }

  /** A Parquet block whose rows have been processed: its arrays hold the next block of the same source. */
  recycleBlock(block: ColumnBlock): void {
    if (this.current?.reader instanceof ParquetPieces) this.current.reader.recycle(block);
  }

  /** Stops reading: closes the source still open. */
  async close(): Promise<void> {
    if (this.current) await this.current.reader.close();
    this.current = undefined;
  }

  /** The error for an input without feature columns. */
  noFeatures(): UsageError {
    return new UsageError(
      this.rowsRead === 0
        ? `no feature columns: the input has a header and no rows, so none can be inferred; name them with --columns`
        : this.selection.leftOut.length > 0
        ? `no feature columns: the numeric ones are keys (${this.selection.leftOut.map((c) => `${c.name}: ${c.reason}`).join('; ')}); name the features with --columns`
        : `no feature columns: none of the columns (${this.columns.join(', ')}) holds only numbers in its first ${INFERENCE_ROWS} rows; name them with --columns`,
    );
  }

  /** A second pass over the same input must see as many rows as the first. */
  expectRows(rows: number): void {
    this.expectedRows = rows;
  }

  /** After a second pass: it must have seen as many rows as the first. */
  checkExpectedRows(): void {
    if (this.ended && this.expectedRows !== undefined && this.rowsRead !== this.expectedRows) {
      throw new DataError(
        `the input changed between the two passes (${this.expectedRows} rows in the first, ${this.rowsRead} in the second); do not write to a file while finorm reads it`,
      );
    }
  }

  /** Bad rows skipped under --on-error skip. */
  get rowsSkipped(): number {
    return this.badRows.skipped;
  }

  /** Data rows read so far, good and bad. */
  get rowsRead(): number {
    return this.rowsKept + this.badRows.skipped;
  }
}

/** A piece's size: its bytes, or about what a Parquet block's values take. */
function pieceSize(piece: InputPiece): number {
  return piece.block === undefined ? piece.bytes.length : piece.block.rows * piece.block.columns.length * 8;
}

/** The first non-blank line of an NDJSON piece: [start, end) without its LF. */
function firstLineOf(bytes: Uint8Array): { start: number; end: number } | undefined {
  let start = 0;
  while (start < bytes.length) {
    let end = bytes.indexOf(10, start);
    if (end < 0) end = bytes.length;
    for (let i = start; i < end; i++) {
      const c = bytes[i];
      if (c !== 32 && c !== 9 && c !== 13) return { start, end };
    }
    start = end + 1;
  }
  return undefined;
}

function resolveRequired(names: string[], columns: string[], file: string): number[] {
  const index = new Map(columns.map((name, i) => [name, i]));
  const missing = names.filter((name) => !index.has(name));
  if (missing.length > 0) {
    throw new DataError(
      `${file} has parameters for ${missing.map((n) => JSON.stringify(n)).join(', ')}, which the input does not have; the input's columns are: ${columns.join(', ')}`,
    );
  }
  return names.map((name) => index.get(name) as number);
}

function checkSameFeatures(selection: FeatureSelection, names: string[], file: string): void {
  const wanted = new Set(names);
  const chosen = new Set(selection.names);
  const extra = selection.names.filter((n) => !wanted.has(n));
  const absent = names.filter((n) => !chosen.has(n));
  if (extra.length === 0 && absent.length === 0) return;
  const parts: string[] = [];
  if (extra.length > 0) parts.push(`${file} has no parameters for ${extra.map((n) => JSON.stringify(n)).join(', ')}`);
  if (absent.length > 0) parts.push(`--columns leaves out ${absent.map((n) => JSON.stringify(n)).join(', ')}, which ${file} has`);
  throw new UsageError(`the selected features do not match the parameter file: ${parts.join('; ')}`);
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
