// A column chunk's pages decoded into the rows of blocks: one value per row,
// a null where the definition level says so. Pages are read and decoded one
// at a time as the rows are taken, so a chunk costs one decompressed page.
// Encodings: PLAIN, dictionary (PLAIN_DICTIONARY, RLE_DICTIONARY),
// BYTE_STREAM_SPLIT, DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY and
// DELTA_BYTE_ARRAY; levels RLE/bit-packed; data pages v1 and v2.

import { decompress } from './compression.js';
import { Codec, ENCODING_NAMES, Encoding, type PageHeader, PageType, type ParquetColumn, PhysicalType, readPageHeader } from './metadata.js';

/**
 * A column chunk's bytes, read as its pages are needed: `read(offset,
 * length)` gives bytes [offset, offset + length) of the chunk, valid until
 * the next read (of any column).
 */
export interface ChunkSource {
  readonly length: number;
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Bytes read for a page header at first (more if it is longer: statistics can be). */
const HEADER_BYTES = 256;

/** A column of a block of rows, as it crosses threads. */
export interface BlockColumn {
  /** Per row, 1 if the value is present; undefined when all are. */
  valid: Uint8Array | undefined;
  /** BOOLEAN (0/1), INT32, INT64, FLOAT and DOUBLE: one value per row (0 where null). */
  values: Uint8Array | Int32Array | BigInt64Array | Float32Array | Float64Array | undefined;
  /** BYTE_ARRAY, FIXED_LEN_BYTE_ARRAY and INT96: row i's bytes are data[offsets[i], offsets[i + 1]) (empty where null). */
  offsets: Int32Array | undefined;
  data: Uint8Array | undefined;
}

/** Rows of every column of a table: what a Parquet piece carries instead of text. */
export interface ColumnBlock {
  rows: number;
  /** The 1-based number, in its file, of the block's first row (messages name rows). */
  firstRow: number;
  columns: BlockColumn[];
}

/** Bytes a chunk holds that are not what its header says: the caller names the file and column. */
export class CorruptPage extends Error {}

type Numbers = Uint8Array | Int32Array | BigInt64Array | Float32Array | Float64Array;

/** A page's present values, dense (nulls left out), or a dictionary. */
interface Values {
  count: number;
  numbers?: Numbers;
  /** PLAIN fixed-width numbers still as the page's bytes (`size` each): copied as bytes when no row is null. */
  raw?: Uint8Array;
  size?: number;
  offsets?: Int32Array;
  data?: Uint8Array;
}

const fixedWidth = (column: ParquetColumn): number =>
  column.physical === PhysicalType.INT96 ? 12 : column.physical === PhysicalType.FIXED_LEN_BYTE_ARRAY ? column.typeLength : 0;

/** A page's numbers as a typed array (made from its bytes the first time they are needed one by one). */
function pageNumbers(physical: number, values: Values): Numbers {
  if (values.numbers === undefined) {
    const numbers = numbersOf(physical, values.count);
    new Uint8Array(numbers.buffer).set((values.raw as Uint8Array).subarray(0, values.count * (values.size as number)));
    values.numbers = numbers;
    values.raw = undefined;
  }
  return values.numbers;
}

/** Whether a column's values are bytes (offsets and data) rather than numbers. */
export function isBytesColumn(physical: number): boolean {
  return physical === PhysicalType.BYTE_ARRAY || physical === PhysicalType.FIXED_LEN_BYTE_ARRAY || physical === PhysicalType.INT96;
}

function numbersOf(physical: number, count: number): Numbers {
  switch (physical) {
    case PhysicalType.BOOLEAN:
      return new Uint8Array(count);
    case PhysicalType.INT32:
      return new Int32Array(count);
    case PhysicalType.INT64:
      return new BigInt64Array(count);
    case PhysicalType.FLOAT:
      return new Float32Array(count);
    default:
      return new Float64Array(count);
  }
}

const BYTES_PER: Record<number, number> = { [PhysicalType.INT32]: 4, [PhysicalType.INT64]: 8, [PhysicalType.FLOAT]: 4, [PhysicalType.DOUBLE]: 8 };

/** An empty column of `rows` rows for `column`'s type (bytes grow as rows are added). */
export function newBlockColumn(column: ParquetColumn, rows: number): BlockColumn {
  const bytes = isBytesColumn(column.physical);
  return {
    valid: undefined,
    values: bytes ? undefined : numbersOf(column.physical, rows),
    offsets: bytes ? new Int32Array(rows + 1) : undefined,
    data: bytes ? new Uint8Array(Math.max(64, rows * (fixedWidth(column) || 8))) : undefined,
  };
}

export class ColumnChunkReader {
  private offset = 0;
  private dictionary: Values | undefined;
  /** The page being taken from: its definition levels (undefined: all present), values or dictionary indices, and position. */
  private levels: Uint8Array | undefined;
  private values: Values | undefined;
  private indices: Int32Array | undefined;
  private levelCount = 0;
  private levelAt = 0;
  private valueAt = 0;
  private readonly width: number;
  private spareLevels: Uint8Array | undefined;
  private scratch = new Uint8Array(0);

  private codec = 0;
  private source: ChunkSource = { length: 0, read: () => Promise.resolve(new Uint8Array(0)) };

  constructor(private readonly column: ParquetColumn) {
    this.width = fixedWidth(column);
  }

  /** Starts a column chunk (of the next row group): its codec and where its bytes are read from. The buffers of the last chunk are kept. */
  start(codec: number, source: ChunkSource): void {
    this.codec = codec;
    this.source = source;
    this.offset = 0;
    this.dictionary = undefined;
    this.levels = undefined;
    this.values = undefined;
    this.indices = undefined;
    this.levelCount = 0;
    this.levelAt = 0;
    this.valueAt = 0;
  }

  /** Rows of the current page not yet taken (at 0, nextPage reads the next). */
  get rowsLeft(): number {
    return this.levelCount - this.levelAt;
  }

  /** Takes up to `n` rows of the current page into `into` at row `at`; returns how many. */
  take(n: number, into: BlockColumn, at: number): number {
    const k = Math.min(n, this.levelCount - this.levelAt);
    if (k > 0) this.copy(k, into, at);
    return k;
  }

  private copy(k: number, into: BlockColumn, at: number): void {
    const { levels, indices } = this;
    const values = indices !== undefined ? (this.dictionary as Values) : (this.values as Values);
    const from = this.levelAt;
    let v = this.valueAt;
    if (levels !== undefined) {
      if (into.valid === undefined) {
        into.valid = new Uint8Array(into.offsets ? into.offsets.length - 1 : (into.values as Numbers).length);
        into.valid.fill(1, 0, at);
      }
      into.valid.set(levels.subarray(from, from + k), at);
    } else if (into.valid !== undefined) {
      into.valid.fill(1, at, at + k);
    }
    if (into.values !== undefined) {
      const target = into.values;
      if (levels === undefined && indices === undefined && values.raw !== undefined) {
        // Little-endian, as Parquet: the page's bytes are the values.
        const size = values.size as number;
        new Uint8Array(target.buffer, target.byteOffset + at * size, k * size).set(values.raw.subarray(v * size, (v + k) * size));
        v += k;
      } else if (levels === undefined && indices === undefined) {
        (target as Float64Array).set((values.numbers as Numbers).subarray(v, v + k) as Float64Array, at);
        v += k;
      } else {
        const source = pageNumbers(this.column.physical, values);
        const zero = target instanceof BigInt64Array ? 0n : 0;
        for (let r = 0; r < k; r++) {
          if (levels !== undefined && levels[from + r] === 0) {
            target[at + r] = zero as never;
            continue;
          }
          const i = indices !== undefined ? indices[v++] : v++;
          if (i >= values.count) throw new CorruptPage(`dictionary index ${i} beyond its ${values.count} values`);
          target[at + r] = source[i] as never;
        }
      }
    } else {
      const offsets = into.offsets as Int32Array;
      const sourceOffsets = values.offsets as Int32Array;
      const sourceData = values.data as Uint8Array;
      let end = offsets[at];
      for (let r = 0; r < k; r++) {
        if (levels === undefined || levels[from + r] !== 0) {
          const i = indices !== undefined ? indices[v++] : v++;
          if (i >= values.count) throw new CorruptPage(`dictionary index ${i} beyond its ${values.count} values`);
          const s = sourceOffsets[i];
          const e = sourceOffsets[i + 1];
          if (end + (e - s) > (into.data as Uint8Array).length) {
            const bigger = new Uint8Array(Math.max(2 * (into.data as Uint8Array).length, end + (e - s)));
            bigger.set((into.data as Uint8Array).subarray(0, end));
            into.data = bigger;
          }
          const data = into.data as Uint8Array;
          // Short values byte by byte: a subarray for each would be garbage to collect.
          if (e - s <= 32) for (let b = s; b < e; b++) data[end++] = sourceData[b];
          else {
            data.set(sourceData.subarray(s, e), end);
            end += e - s;
          }
        }
        offsets[at + r + 1] = end;
      }
    }
    this.levelAt += k;
    this.valueAt = v;
  }

  /** Reads pages until a data page, decoding a dictionary page on the way; other pages are skipped unread. */
  async nextPage(): Promise<void> {
    for (;;) {
      if (this.offset >= this.source.length) throw new CorruptPage('the column chunk ends before its rows do');
      const { header, start } = await this.pageHeader();
      const end = start + header.compressedSize;
      if (end > this.source.length) throw new CorruptPage('a page runs past the end of its column chunk');
      this.offset = end;
      if (header.type !== PageType.DICTIONARY_PAGE && header.type !== PageType.DATA_PAGE && header.type !== PageType.DATA_PAGE_V2) continue;
      // Valid until the next read: the page is decompressed (or copied) before anything else is read.
      const body = await this.source.read(start, header.compressedSize);
      if (header.type === PageType.DICTIONARY_PAGE) {
        const bytes = this.inflate(body, header.uncompressedSize);
        // The dictionary outlives its page's bytes: its numbers are copied out now.
        this.dictionary = this.plain(bytes, 0, header.numValues);
        if (this.dictionary.raw !== undefined) pageNumbers(this.column.physical, this.dictionary);
        continue;
      }
      if (header.type === PageType.DATA_PAGE) {
        const bytes = this.inflate(body, header.uncompressedSize);
        let at = 0;
        let levels: Uint8Array | undefined;
        if (this.column.maxDefinition > 0) {
          if (bytes.length < 4) throw new CorruptPage('a data page is shorter than its levels');
          const length = bytes[0] | (bytes[1] << 8) | (bytes[2] << 16) | (bytes[3] << 24);
          levels = this.definitionLevels(bytes, 4, 4 + length, header.numValues);
          at = 4 + length;
        }
        this.startPage(header.numValues, levels, header.encoding, bytes, at);
        return;
      }
      const levelBytes = header.repetitionBytes + header.definitionBytes;
      if (levelBytes > body.length) throw new CorruptPage('a data page is shorter than its levels');
      const levels = this.column.maxDefinition > 0 ? this.definitionLevels(body, header.repetitionBytes, levelBytes, header.numValues) : undefined;
      const rest = body.subarray(levelBytes);
      const bytes = this.inflate(rest, header.uncompressedSize - levelBytes, header.compressed ? this.codec : Codec.UNCOMPRESSED);
      this.startPage(header.numValues, levels, header.encoding, bytes, 0);
      return;
    }
  }

  /** The header of the page at `offset`, and where in the chunk the page's bytes start. */
  private async pageHeader(): Promise<{ header: PageHeader; start: number }> {
    const left = this.source.length - this.offset;
    for (let size = Math.min(HEADER_BYTES, left); ; size = Math.min(4 * size, left)) {
      try {
        const { header, start } = readPageHeader(await this.source.read(this.offset, size), 0);
        return { header, start: this.offset + start };
      } catch (error) {
        // A header longer than what was read is read again, whole; one that ends with the chunk is corrupt.
        if (size < left) continue;
        throw new CorruptPage(`a page header is corrupt (${(error as Error).message})`);
      }
    }
  }

  /**
   * A page's bytes decompressed (or copied, if they are not compressed: the
   * bytes read are valid only until the next read) into a buffer kept from
   * page to page, valid until the next page.
   */
  private inflate(body: Uint8Array, size: number, codec = this.codec): Uint8Array {
    if (this.scratch.length < size) this.scratch = new Uint8Array(Math.max(size, 2 * this.scratch.length));
    try {
      return decompress(codec, body, size, this.scratch);
    } catch (error) {
      throw new CorruptPage(`a page cannot be decompressed (${(error as Error).message})`);
    }
  }

  /** Definition levels as 1 (present) and 0 (null), or undefined if all are present (then the array is kept for the next page). */
  private definitionLevels(bytes: Uint8Array, start: number, end: number, count: number): Uint8Array | undefined {
    const levels = this.spareLevels !== undefined && this.spareLevels.length >= count ? this.spareLevels.subarray(0, count) : new Uint8Array(count);
    this.spareLevels = undefined;
    readHybrid(bytes, start, end, 1, count, levels);
    for (let i = 0; i < count; i++) if (levels[i] !== 1) return levels;
    this.spareLevels = levels;
    return undefined;
  }

  private startPage(numValues: number, levels: Uint8Array | undefined, encoding: number, bytes: Uint8Array, at: number): void {
    let present = numValues;
    if (levels !== undefined) {
      present = 0;
      for (let i = 0; i < numValues; i++) present += levels[i];
    }
    this.levels = levels;
    this.levelCount = numValues;
    this.levelAt = 0;
    this.valueAt = 0;
    this.indices = undefined;
    this.values = undefined;
    switch (encoding) {
      case Encoding.PLAIN:
        this.values = this.plain(bytes, at, present);
        return;
      case Encoding.PLAIN_DICTIONARY:
      case Encoding.RLE_DICTIONARY: {
        if (this.dictionary === undefined) throw new CorruptPage('a dictionary-encoded page without a dictionary page');
        if (present === 0) {
          this.indices = new Int32Array(0);
          return;
        }
        const bitWidth = bytes[at];
        if (bitWidth > 32) throw new CorruptPage(`dictionary indices of ${bitWidth} bits`);
        this.indices = new Int32Array(present);
        readHybrid(bytes, at + 1, bytes.length, bitWidth, present, this.indices);
        return;
      }
      case Encoding.BYTE_STREAM_SPLIT:
        this.values = this.byteStreamSplit(bytes, at, present);
        return;
      case Encoding.DELTA_BINARY_PACKED:
        this.values = this.deltaIntegers(bytes, at, present);
        return;
      case Encoding.DELTA_LENGTH_BYTE_ARRAY:
      case Encoding.DELTA_BYTE_ARRAY:
        if (this.column.physical !== PhysicalType.BYTE_ARRAY && this.column.physical !== PhysicalType.FIXED_LEN_BYTE_ARRAY) break;
        this.values = encoding === Encoding.DELTA_LENGTH_BYTE_ARRAY ? deltaLengthBytes(bytes, at, present) : deltaBytes(bytes, at, present);
        return;
    }
    throw new CorruptPage(`its encoding ${ENCODING_NAMES[encoding] ?? `#${encoding}`} is not supported for this column`);
  }

  /** PLAIN values: fixed-width numbers, bit-packed booleans, length-prefixed or fixed-width bytes. */
  private plain(bytes: Uint8Array, at: number, count: number): Values {
    const { physical } = this.column;
    if (physical === PhysicalType.BOOLEAN) {
      if (at + Math.ceil(count / 8) > bytes.length) throw new CorruptPage('a page is shorter than its values');
      const numbers = new Uint8Array(count);
      for (let i = 0; i < count; i++) numbers[i] = (bytes[at + (i >> 3)] >> (i & 7)) & 1;
      return { count, numbers };
    }
    const size = BYTES_PER[physical];
    if (size !== undefined) {
      if (at + count * size > bytes.length) throw new CorruptPage('a page is shorter than its values');
      return { count, raw: bytes.subarray(at, at + count * size), size };
    }
    const offsets = new Int32Array(count + 1);
    if (this.width > 0) {
      if (at + count * this.width > bytes.length) throw new CorruptPage('a page is shorter than its values');
      for (let i = 0; i <= count; i++) offsets[i] = i * this.width;
      return { count, offsets, data: bytes.slice(at, at + count * this.width) };
    }
    // BYTE_ARRAY: a 4-byte length before each value.
    const lengths = new Int32Array(count);
    let p = at;
    let total = 0;
    for (let i = 0; i < count; i++) {
      if (p + 4 > bytes.length) throw new CorruptPage('a page is shorter than its values');
      const length = bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24);
      if (length < 0 || p + 4 + length > bytes.length) throw new CorruptPage('a value runs past the end of its page');
      lengths[i] = length;
      total += length;
      p += 4 + length;
    }
    const data = new Uint8Array(total);
    p = at;
    for (let i = 0; i < count; i++) {
      data.set(bytes.subarray(p + 4, p + 4 + lengths[i]), offsets[i]);
      offsets[i + 1] = offsets[i] + lengths[i];
      p += 4 + lengths[i];
    }
    return { count, offsets, data };
  }

  /** BYTE_STREAM_SPLIT: byte b of value i is at b·count + i. */
  private byteStreamSplit(bytes: Uint8Array, at: number, count: number): Values {
    const size = BYTES_PER[this.column.physical] ?? this.width;
    if (!size || at + size * count > bytes.length) throw new CorruptPage('a page is shorter than its values');
    const joined = new Uint8Array(size * count);
    for (let b = 0; b < size; b++) for (let i = 0; i < count; i++) joined[i * size + b] = bytes[at + b * count + i];
    if (BYTES_PER[this.column.physical] !== undefined) {
      const numbers = numbersOf(this.column.physical, count);
      new Uint8Array(numbers.buffer).set(joined);
      return { count, numbers };
    }
    const offsets = Int32Array.from({ length: count + 1 }, (_, i) => i * size);
    return { count, offsets, data: joined };
  }

  private deltaIntegers(bytes: Uint8Array, at: number, count: number): Values {
    const { physical } = this.column;
    if (physical !== PhysicalType.INT32 && physical !== PhysicalType.INT64) throw new CorruptPage('DELTA_BINARY_PACKED on a column that is not an integer');
    const decoded = deltaBinaryPacked(bytes, at, count).values;
    const numbers = numbersOf(physical, count);
    for (let i = 0; i < count; i++) numbers[i] = (physical === PhysicalType.INT32 ? Number(BigInt.asIntN(32, decoded[i])) : BigInt.asIntN(64, decoded[i])) as never;
    return { count, numbers };
  }
}

/**
 * The RLE/bit-packed hybrid of levels and dictionary indices: `count` values
 * of `bitWidth` bits from bytes[start, end) into `out`; returns where it stopped.
 */
export function readHybrid(bytes: Uint8Array, start: number, end: number, bitWidth: number, count: number, out: Uint8Array | Int32Array): number {
  let p = start;
  let i = 0;
  const byteWidth = (bitWidth + 7) >> 3;
  while (i < count) {
    if (p >= end) throw new CorruptPage('levels or indices end early');
    let header = 0;
    let shift = 0;
    for (;;) {
      const b = bytes[p++];
      header += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) break;
      shift += 7;
      if (p >= end || shift > 35) throw new CorruptPage('levels or indices are corrupt');
    }
    if ((header & 1) === 1) {
      const groups = Math.floor(header / 2);
      const bytesUsed = groups * bitWidth;
      if (p + bytesUsed > end) throw new CorruptPage('levels or indices end early');
      const n = Math.min(groups * 8, count - i);
      if (bitWidth === 1) {
        for (let k = 0; k < n; k += 8) {
          const byte = bytes[p + (k >> 3)];
          const m = Math.min(8, n - k);
          if (byte === 0xff && m === 8) out.fill(1, i + k, i + k + 8);
          else for (let b = 0; b < m; b++) out[i + k + b] = (byte >> b) & 1;
        }
      } else if (bitWidth <= 24) {
        // Bits come least significant first: an accumulator of up to 31 bits takes whole bytes.
        const mask = (1 << bitWidth) - 1;
        let acc = 0;
        let bits = 0;
        let q = p;
        for (let k = 0; k < n; k++) {
          while (bits < bitWidth) {
            acc |= bytes[q++] << bits;
            bits += 8;
          }
          out[i + k] = acc & mask;
          acc >>>= bitWidth;
          bits -= bitWidth;
        }
      } else {
        const mask = bitWidth === 32 ? 0xffffffff : (1 << bitWidth) - 1;
        let bitPos = 0;
        for (let k = 0; k < n; k++) {
          let value = 0;
          let got = 0;
          while (got < bitWidth) {
            const byte = bytes[p + (bitPos >> 3)];
            const offset = bitPos & 7;
            const take = Math.min(8 - offset, bitWidth - got);
            value += ((byte >> offset) & ((1 << take) - 1)) * 2 ** got;
            got += take;
            bitPos += take;
          }
          out[i + k] = value & mask;
        }
      }
      i += n;
      p += bytesUsed;
    } else {
      const run = Math.floor(header / 2);
      if (p + byteWidth > end) throw new CorruptPage('levels or indices end early');
      let value = 0;
      for (let b = 0; b < byteWidth; b++) value += bytes[p + b] * 2 ** (8 * b);
      p += byteWidth;
      const n = Math.min(run, count - i);
      out.fill(value, i, i + n);
      i += n;
    }
  }
  return p;
}

/** DELTA_BINARY_PACKED: `count` integers (as bigints, wrapping as the writer's type does); returns them and where they end. */
function deltaBinaryPacked(bytes: Uint8Array, at: number, count: number): { values: BigInt64Array; end: number } {
  let p = at;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (p >= bytes.length) throw new CorruptPage('delta-encoded values end early');
      const b = bytes[p++];
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  const zigzag = (): bigint => {
    const n = varint();
    return (n >> 1n) ^ -(n & 1n);
  };
  const blockSize = Number(varint());
  const miniblocks = Number(varint());
  const total = Number(varint());
  let value = zigzag();
  const values = new BigInt64Array(Math.max(count, 0));
  if (miniblocks <= 0 || blockSize % miniblocks !== 0 || (blockSize / miniblocks) % 8 !== 0) throw new CorruptPage('a delta-encoded header is corrupt');
  const perMiniblock = blockSize / miniblocks;
  let n = 0;
  if (total > 0 && n < count) values[n++] = value;
  while (n < total) {
    const minDelta = zigzag();
    const widths = bytes.subarray(p, p + miniblocks);
    p += miniblocks;
    for (let m = 0; m < miniblocks && n < total; m++) {
      const width = widths[m];
      let bitPos = 0;
      for (let k = 0; k < perMiniblock && n < total; k++) {
        let delta = 0n;
        for (let b = 0; b < width; b++, bitPos++) if ((bytes[p + (bitPos >> 3)] >> (bitPos & 7)) & 1) delta |= 1n << BigInt(b);
        value = BigInt.asIntN(64, value + minDelta + delta);
        if (n < count) values[n] = value;
        n++;
      }
      p += (perMiniblock * width) / 8;
    }
  }
  return { values, end: p };
}

function deltaLengthBytes(bytes: Uint8Array, at: number, count: number): Values {
  const { values: lengths, end } = deltaBinaryPacked(bytes, at, count);
  const offsets = new Int32Array(count + 1);
  for (let i = 0; i < count; i++) offsets[i + 1] = offsets[i] + Number(lengths[i]);
  if (end + offsets[count] > bytes.length) throw new CorruptPage('a page is shorter than its values');
  return { count, offsets, data: bytes.slice(end, end + offsets[count]) };
}

function deltaBytes(bytes: Uint8Array, at: number, count: number): Values {
  const { values: prefixes, end } = deltaBinaryPacked(bytes, at, count);
  const suffixes = deltaLengthBytes(bytes, end, count);
  const offsets = new Int32Array(count + 1);
  let total = 0;
  for (let i = 0; i < count; i++) total += Number(prefixes[i]) + (suffixes.offsets as Int32Array)[i + 1] - (suffixes.offsets as Int32Array)[i];
  const data = new Uint8Array(total);
  let p = 0;
  for (let i = 0; i < count; i++) {
    const prefix = Number(prefixes[i]);
    if (i === 0 ? prefix !== 0 : prefix > offsets[i] - offsets[i - 1]) throw new CorruptPage('a delta-encoded string is corrupt');
    if (prefix > 0) data.copyWithin(p, offsets[i - 1], offsets[i - 1] + prefix);
    p += prefix;
    const s = (suffixes.offsets as Int32Array)[i];
    const e = (suffixes.offsets as Int32Array)[i + 1];
    data.set((suffixes.data as Uint8Array).subarray(s, e), p);
    p += e - s;
    offsets[i + 1] = p;
  }
  return { count, offsets, data };
}
