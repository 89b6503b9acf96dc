// Parquet's footer (FileMetaData) and page headers, read from and written as
// Thrift compact-protocol structs (field ids from parquet.thrift), and the
// schema of a flat table: one leaf column per field, each with what finorm
// reads its values as.

import { T, type ThriftList, type ThriftStruct, type ThriftValue, ThriftReader, ThriftWriter, listOf, structOf } from './thrift.js';

export const PhysicalType = { BOOLEAN: 0, INT32: 1, INT64: 2, INT96: 3, FLOAT: 4, DOUBLE: 5, BYTE_ARRAY: 6, FIXED_LEN_BYTE_ARRAY: 7 } as const;
export const PHYSICAL_NAMES = ['BOOLEAN', 'INT32', 'INT64', 'INT96', 'FLOAT', 'DOUBLE', 'BYTE_ARRAY', 'FIXED_LEN_BYTE_ARRAY'];
export const Encoding = { PLAIN: 0, PLAIN_DICTIONARY: 2, RLE: 3, BIT_PACKED: 4, DELTA_BINARY_PACKED: 5, DELTA_LENGTH_BYTE_ARRAY: 6, DELTA_BYTE_ARRAY: 7, RLE_DICTIONARY: 8, BYTE_STREAM_SPLIT: 9 } as const;
export const ENCODING_NAMES: Record<number, string> = Object.fromEntries(Object.entries(Encoding).map(([name, code]) => [code, name]));
export const Codec = { UNCOMPRESSED: 0, SNAPPY: 1, GZIP: 2, LZO: 3, BROTLI: 4, LZ4: 5, ZSTD: 6, LZ4_RAW: 7 } as const;
export const CODEC_NAMES = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'LZO', 'BROTLI', 'LZ4', 'ZSTD', 'LZ4_RAW'];
export const PageType = { DATA_PAGE: 0, INDEX_PAGE: 1, DICTIONARY_PAGE: 2, DATA_PAGE_V2: 3 } as const;
const Repetition = { REQUIRED: 0, OPTIONAL: 1, REPEATED: 2 } as const;
/** Converted types finorm looks at (parquet.thrift's ConvertedType). */
const Converted = { UTF8: 0, MAP: 1, MAP_KEY_VALUE: 2, LIST: 3, ENUM: 4, DECIMAL: 5, DATE: 6, TIME_MILLIS: 7, TIME_MICROS: 8, TIMESTAMP_MILLIS: 9, TIMESTAMP_MICROS: 10, UINT_8: 11, UINT_16: 12, UINT_32: 13, UINT_64: 14, JSON: 19, BSON: 20, INTERVAL: 21 } as const;

/**
 * What a column's values are to finorm. Numbers (`number`, `decimal`,
 * `float16`) can be features; everything passes through, written as text in
 * CSV/NDJSON and as itself in Parquet.
 */
export type ValueKind =
  | 'number'
  | 'unsigned'
  | 'decimal'
  | 'float16'
  | 'boolean'
  | 'string'
  | 'date'
  | 'time'
  | 'timestamp'
  | 'int96'
  | 'uuid'
  | 'binary';

/** A leaf column of a flat schema. */
export interface ParquetColumn {
  name: string;
  physical: number;
  typeLength: number;
  /** 1 if the column may hold nulls (OPTIONAL), 0 if REQUIRED. */
  maxDefinition: number;
  kind: ValueKind;
  /** Decimal scale (digits after the point). */
  scale: number;
  /** Time and timestamp units: 1e3 (ms), 1e6 (µs) or 1e9 (ns) per second. */
  perSecond: number;
  /** Timestamps: adjusted to UTC (an instant) rather than local (a wall-clock time). */
  utc: boolean;
  /** The schema element as read (its type annotations), to be written again for a pass-through column. */
  element: ThriftStruct;
}

export interface ColumnChunkMeta {
  codec: number;
  numValues: number;
  /** Where the chunk's pages start (the dictionary page if there is one), and their total size. */
  start: number;
  compressedSize: number;
}

export interface RowGroupMeta {
  rows: number;
  columns: ColumnChunkMeta[];
}

export interface FileMeta {
  rows: number;
  columns: ParquetColumn[];
  rowGroups: RowGroupMeta[];
}

/** A footer or page header that cannot be read: `what` says which. */
export class ParquetFormatError extends Error {}

const num = (struct: ThriftStruct | undefined, id: number): number | undefined => {
  const field = struct?.get(id);
  if (field === undefined) return undefined;
  const value = field[1];
  if (typeof value === 'bigint') throw new ParquetFormatError(`field ${id} out of range`);
  if (typeof value !== 'number') throw new ParquetFormatError(`field ${id} is not a number`);
  return value;
};
const sub = (struct: ThriftStruct | undefined, id: number): ThriftStruct | undefined => {
  const value = struct?.get(id)?.[1];
  return value instanceof Map ? value : undefined;
};
const list = (struct: ThriftStruct | undefined, id: number): ThriftValue[] => {
  const value = struct?.get(id)?.[1] as ThriftList | undefined;
  return value && typeof value === 'object' && 'items' in value ? value.items : [];
};
const text = (struct: ThriftStruct | undefined, id: number): string | undefined => {
  const value = struct?.get(id)?.[1];
  return value instanceof Uint8Array ? Buffer.from(value).toString('utf8') : undefined;
};

/** Reads the footer (the bytes of FileMetaData); `unsupported` is called for a column finorm cannot read. */
export function readFileMeta(bytes: Uint8Array): FileMeta {
  let root: ThriftStruct;
  try {
    root = new ThriftReader(bytes).struct();
  } catch (error) {
    throw new ParquetFormatError(`the footer is corrupt (${(error as Error).message})`);
  }
  const elements = list(root, 2) as ThriftStruct[];
  if (elements.length === 0) throw new ParquetFormatError('the footer has no schema');
  const columns = flatColumns(elements);
  const rowGroups = (list(root, 4) as ThriftStruct[]).map((group) => {
    const chunks = list(group, 1) as ThriftStruct[];
    if (chunks.length !== columns.length) throw new ParquetFormatError(`a row group has ${chunks.length} column chunks for ${columns.length} columns`);
    return {
      rows: num(group, 3) ?? 0,
      columns: chunks.map((chunk) => {
        if (text(chunk, 1) !== undefined) throw new ParquetFormatError('column chunks in other files (file_path) are not supported');
        const meta = sub(chunk, 3);
        if (meta === undefined) throw new ParquetFormatError('a column chunk has no metadata');
        const dataStart = num(meta, 9) ?? 0;
        const dictionaryStart = num(meta, 11);
        // Some writers put 0 for "no dictionary page".
        const start = dictionaryStart !== undefined && dictionaryStart > 0 && dictionaryStart < dataStart ? dictionaryStart : dataStart;
        return { codec: num(meta, 4) ?? 0, numValues: num(meta, 5) ?? 0, start, compressedSize: num(meta, 7) ?? 0 };
      }),
    };
  });
  return { rows: num(root, 3) ?? 0, columns, rowGroups };
}

/** The leaf columns of a flat schema; a nested field (list, map, struct) is an error naming it. */
function flatColumns(elements: ThriftStruct[]): ParquetColumn[] {
  const rootChildren = num(elements[0], 5) ?? 0;
  if (elements.length !== rootChildren + 1) {
    const nested = elements.slice(1).find((e) => (num(e, 5) ?? 0) > 0);
    const name = nested ? text(nested, 4) : undefined;
    throw new UnsupportedColumn(name ?? '?', 'a nested field (a list, map or struct)');
  }
  return elements.slice(1).map((element) => {
    const name = text(element, 4) ?? '';
    if ((num(element, 5) ?? 0) > 0) throw new UnsupportedColumn(name, 'a nested field (a list, map or struct)');
    const repetition = num(element, 3) ?? Repetition.OPTIONAL;
    if (repetition === Repetition.REPEATED) throw new UnsupportedColumn(name, 'a repeated field (a list)');
    const physical = num(element, 1);
    if (physical === undefined) throw new UnsupportedColumn(name, 'a field without a type');
    return {
      name,
      physical,
      typeLength: num(element, 2) ?? 0,
      maxDefinition: repetition === Repetition.REQUIRED ? 0 : 1,
      element,
      ...kindOf(name, element, physical),
    };
  });
}

/** A column finorm cannot read: its name and what it is. */
export class UnsupportedColumn extends ParquetFormatError {
  constructor(
    readonly column: string,
    readonly what: string,
  ) {
    super(`column ${JSON.stringify(column)} is ${what}, which finorm cannot read`);
  }
}

const UNITS = [1e3, 1e6, 1e9];

function kindOf(name: string, element: ThriftStruct, physical: number): Pick<ParquetColumn, 'kind' | 'scale' | 'perSecond' | 'utc'> {
  const converted = num(element, 6);
  const logical = sub(element, 10);
  const base = { scale: 0, perSecond: 1e3, utc: false };
  const unitOf = (type: ThriftStruct | undefined): number => {
    const unit = sub(type, 2);
    const id = unit === undefined ? 1 : ([...unit.keys()][0] ?? 1);
    return UNITS[id - 1] ?? 1e3;
  };
  const physicalName = PHYSICAL_NAMES[physical] ?? `type ${physical}`;
  const refuse = (what: string): never => {
    throw new UnsupportedColumn(name, what);
  };
  if (logical !== undefined) {
    const id = [...logical.keys()][0];
    const detail = sub(logical, id);
    switch (id) {
      case 1: // STRING
      case 4: // ENUM
      case 12: // JSON
        return { ...base, kind: physical === PhysicalType.BYTE_ARRAY || physical === PhysicalType.FIXED_LEN_BYTE_ARRAY ? 'string' : refuse(`a string annotation on ${physicalName}`) };
      case 5: // DECIMAL
        return { ...base, kind: 'decimal', scale: num(detail, 1) ?? num(element, 7) ?? 0 };
      case 6:
        return { ...base, kind: 'date' };
      case 7: // TIME
        return { ...base, kind: 'time', perSecond: unitOf(detail), utc: detail?.get(1)?.[1] === true };
      case 8: // TIMESTAMP
        return { ...base, kind: 'timestamp', perSecond: unitOf(detail), utc: detail?.get(1)?.[1] === true };
      case 10: // INTEGER
        return { ...base, kind: detail?.get(2)?.[1] === false ? 'unsigned' : 'number' };
      case 11: // UNKNOWN: always null
        return { ...base, kind: 'string' };
      case 13: // BSON
        return { ...base, kind: 'binary' };
      case 14:
        return { ...base, kind: 'uuid' };
      case 15:
        return { ...base, kind: 'float16' };
      case 2:
      case 3:
        return refuse('a nested field (a list or map)');
      default:
        return refuse(`of logical type ${logicalName(id)}`);
    }
  }
  switch (converted) {
    case undefined:
      break;
    case Converted.UTF8:
    case Converted.ENUM:
    case Converted.JSON:
      return { ...base, kind: 'string' };
    case Converted.DECIMAL:
      return { ...base, kind: 'decimal', scale: num(element, 7) ?? 0 };
    case Converted.DATE:
      return { ...base, kind: 'date' };
    case Converted.TIME_MILLIS:
    case Converted.TIME_MICROS:
      return { ...base, kind: 'time', perSecond: converted === Converted.TIME_MILLIS ? 1e3 : 1e6, utc: true };
    case Converted.TIMESTAMP_MILLIS:
    case Converted.TIMESTAMP_MICROS:
      return { ...base, kind: 'timestamp', perSecond: converted === Converted.TIMESTAMP_MILLIS ? 1e3 : 1e6, utc: true };
    case Converted.UINT_8:
    case Converted.UINT_16:
    case Converted.UINT_32:
    case Converted.UINT_64:
      return { ...base, kind: 'unsigned' };
    case Converted.BSON:
    case Converted.INTERVAL:
      return { ...base, kind: 'binary' };
    case Converted.MAP:
    case Converted.MAP_KEY_VALUE:
    case Converted.LIST:
      return refuse('a nested field (a list or map)');
    default:
      // INT_8 … INT_64: plain integers.
      break;
  }
  switch (physical) {
    case PhysicalType.BOOLEAN:
      return { ...base, kind: 'boolean' };
    case PhysicalType.INT32:
    case PhysicalType.INT64:
    case PhysicalType.FLOAT:
    case PhysicalType.DOUBLE:
      return { ...base, kind: 'number' };
    case PhysicalType.INT96:
      return { ...base, kind: 'int96', perSecond: 1e9 };
    case PhysicalType.BYTE_ARRAY:
      // Many writers leave text unannotated: read as text when it is UTF-8 (see cells.ts).
      return { ...base, kind: 'string' };
    case PhysicalType.FIXED_LEN_BYTE_ARRAY:
      return { ...base, kind: 'binary' };
    default:
      return refuse(`of physical type ${physicalName}`);
  }
}

function logicalName(id: number | undefined): string {
  const names: Record<number, string> = { 9: 'NULL', 16: 'VARIANT', 17: 'GEOMETRY', 18: 'GEOGRAPHY' };
  return id === undefined ? 'unknown' : (names[id] ?? `#${id}`);
}

export interface PageHeader {
  type: number;
  uncompressedSize: number;
  compressedSize: number;
  /** Data pages: values (nulls included) and encoding. */
  numValues: number;
  encoding: number;
  /** Data page v2: the levels' byte lengths (stored uncompressed) and whether the values are compressed. */
  definitionBytes: number;
  repetitionBytes: number;
  compressed: boolean;
}

/** Reads a page header at `offset`; returns it and where the page's bytes start. */
export function readPageHeader(bytes: Uint8Array, offset: number): { header: PageHeader; start: number } {
  const reader = new ThriftReader(bytes, offset);
  const page = reader.struct();
  const type = num(page, 1) ?? -1;
  const header: PageHeader = {
    type,
    uncompressedSize: num(page, 2) ?? 0,
    compressedSize: num(page, 3) ?? 0,
    numValues: 0,
    encoding: Encoding.PLAIN,
    definitionBytes: 0,
    repetitionBytes: 0,
    compressed: true,
  };
  if (type === PageType.DATA_PAGE) {
    const data = sub(page, 5);
    header.numValues = num(data, 1) ?? 0;
    header.encoding = num(data, 2) ?? 0;
  } else if (type === PageType.DICTIONARY_PAGE) {
    const dictionary = sub(page, 7);
    header.numValues = num(dictionary, 1) ?? 0;
    header.encoding = num(dictionary, 2) ?? 0;
  } else if (type === PageType.DATA_PAGE_V2) {
    const data = sub(page, 8);
    header.numValues = num(data, 1) ?? 0;
    header.encoding = num(data, 4) ?? 0;
    header.definitionBytes = num(data, 5) ?? 0;
    header.repetitionBytes = num(data, 6) ?? 0;
    header.compressed = data?.get(7)?.[1] !== false;
  }
  if (header.compressedSize < 0 || header.uncompressedSize < 0) throw new ParquetFormatError('a page header has a negative size');
  return { header, start: reader.offset };
}

/** A data page (v1) header's bytes: PLAIN values, RLE definition levels. */
export function dataPageHeaderBytes(uncompressedSize: number, compressedSize: number, numValues: number, statistics?: ThriftStruct): Uint8Array {
  const writer = new ThriftWriter();
  writer.struct(
    structOf([
      [1, T.i32, PageType.DATA_PAGE],
      [2, T.i32, uncompressedSize],
      [3, T.i32, compressedSize],
      [
        5,
        T.struct,
        structOf([
          [1, T.i32, numValues],
          [2, T.i32, Encoding.PLAIN],
          [3, T.i32, Encoding.RLE],
          [4, T.i32, Encoding.RLE],
          [5, T.struct, statistics],
        ]),
      ],
    ]),
  );
  return writer.bytes();
}

/** An output column's schema element. */
export function schemaElement(name: string, base: ThriftStruct | undefined, physical: number, optional: boolean, annotations?: [number, number, ThriftValue | undefined][]): ThriftStruct {
  const element: ThriftStruct = new Map(base ?? []);
  element.delete(9); // field_id: the input's, not ours
  element.set(1, [T.i32, physical]);
  element.set(3, [T.i32, optional ? Repetition.OPTIONAL : Repetition.REQUIRED]);
  element.set(4, [T.binary, Buffer.from(name, 'utf8')]);
  for (const [id, type, value] of annotations ?? []) if (value !== undefined) element.set(id, [type, value]);
  return element;
}

/** What the writer knows of a column chunk it wrote. */
export interface WrittenChunk {
  physical: number;
  name: string;
  codec: number;
  numValues: number;
  uncompressedSize: number;
  compressedSize: number;
  dataPageOffset: number;
  nullCount: number;
}

/** The footer's bytes: FileMetaData for a flat schema. */
export function fileMetaBytes(schema: ThriftStruct[], rowGroups: { rows: number; chunks: WrittenChunk[] }[], createdBy: string): Uint8Array {
  const rows = rowGroups.reduce((sum, group) => sum + group.rows, 0);
  const root = structOf([
    [4, T.binary, Buffer.from('schema')],
    [5, T.i32, schema.length],
  ]);
  const meta = structOf([
    [1, T.i32, 1],
    [2, T.list, listOf(T.struct, [root, ...schema])],
    [3, T.i64, rows],
    [
      4,
      T.list,
      listOf(
        T.struct,
        rowGroups.map((group) =>
          structOf([
            [
              1,
              T.list,
              listOf(
                T.struct,
                group.chunks.map((chunk) =>
                  structOf([
                    [2, T.i64, chunk.dataPageOffset + chunk.compressedSize],
                    [
                      3,
                      T.struct,
                      structOf([
                        [1, T.i32, chunk.physical],
                        [2, T.list, listOf(T.i32, [Encoding.PLAIN, Encoding.RLE])],
                        [3, T.list, listOf(T.binary, [Buffer.from(chunk.name, 'utf8')])],
                        [4, T.i32, chunk.codec],
                        [5, T.i64, chunk.numValues],
                        [6, T.i64, chunk.uncompressedSize],
                        [7, T.i64, chunk.compressedSize],
                        [9, T.i64, chunk.dataPageOffset],
                        [12, T.struct, structOf([[3, T.i64, chunk.nullCount]])],
                      ]),
                    ],
                  ]),
                ),
              ),
            ],
            [2, T.i64, group.chunks.reduce((sum, c) => sum + c.uncompressedSize, 0)],
            [3, T.i64, group.rows],
            [5, T.i64, group.chunks[0]?.dataPageOffset ?? 4],
            [6, T.i64, group.chunks.reduce((sum, c) => sum + c.compressedSize, 0)],
          ]),
        ),
      ),
    ],
    [6, T.binary, Buffer.from(createdBy, 'utf8')],
  ]);
  const writer = new ThriftWriter();
  writer.struct(meta);
  return writer.bytes();
}
