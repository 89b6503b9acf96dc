// Thrift's compact protocol, which Parquet's footer and page headers are
// written in: a struct is a list of fields, each a field id (as a delta from
// the one before), a type, and a value. Read generically, keeping each
// value's type, so that a struct read can be written back as it was (a
// column's logical type copied to the output's schema).

/** Compact-protocol type codes. */
export const T = {
  stop: 0,
  true: 1,
  false: 2,
  byte: 3,
  i16: 4,
  i32: 5,
  i64: 6,
  double: 7,
  binary: 8,
  list: 9,
  set: 10,
  map: 11,
  struct: 12,
} as const;

/** A value as read: numbers (i8 to i64; i64 beyond 2^53 as bigint), booleans, bytes, lists, structs. */
export type ThriftValue = number | bigint | boolean | Uint8Array | ThriftList | ThriftStruct;
export interface ThriftList {
  elementType: number;
  items: ThriftValue[];
}
/** A struct: field id → [type, value]. */
export type ThriftStruct = Map<number, [number, ThriftValue]>;

/** Thrown on bytes that are not a valid compact-protocol struct (a corrupt footer or page header). */
export class ThriftError extends Error {}

export class ThriftReader {
  offset: number;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    offset = 0,
  ) {
    this.offset = offset;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private byte(): number {
    if (this.offset >= this.bytes.length) throw new ThriftError('truncated');
    return this.bytes[this.offset++];
  }

  private varint(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 35) throw new ThriftError('varint too long');
    }
  }

  private varlong(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new ThriftError('varint too long');
    }
  }

  private zigzag32(): number {
    const n = this.varint();
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  private zigzag64(): number | bigint {
    const n = this.varlong();
    const value = (n >> 1n) ^ -(n & 1n);
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }

  private value(type: number): ThriftValue {
    switch (type) {
      case T.true:
        return true;
      case T.false:
        return false;
      case T.byte: {
        const b = this.byte();
        return b > 127 ? b - 256 : b;
      }
      case T.i16:
      case T.i32:
        return this.zigzag32();
      case T.i64:
        return this.zigzag64();
      case T.double: {
        if (this.offset + 8 > this.bytes.length) throw new ThriftError('truncated');
        const x = this.view.getFloat64(this.offset, true);
        this.offset += 8;
        return x;
      }
      case T.binary: {
        const length = this.varint();
        if (this.offset + length > this.bytes.length) throw new ThriftError('truncated');
        const value = this.bytes.subarray(this.offset, this.offset + length);
        this.offset += length;
        return value;
      }
      case T.list:
      case T.set: {
        const head = this.byte();
        const elementType = head & 0x0f;
        const size = head >> 4 === 15 ? this.varint() : head >> 4;
        if (size > this.bytes.length - this.offset) throw new ThriftError('list longer than its bytes');
        const items: ThriftValue[] = [];
        // In a list, booleans are one byte each.
        for (let i = 0; i < size; i++) items.push(elementType === T.true || elementType === T.false ? this.byte() === 1 : this.value(elementType));
        return { elementType, items };
      }
      case T.struct:
        return this.struct();
      default:
        throw new ThriftError(`unknown type ${type}`);
    }
  }

  /** Reads a struct at the offset. */
  struct(): ThriftStruct {
    const fields: ThriftStruct = new Map();
    let id = 0;
    for (;;) {
      const head = this.byte();
      const type = head & 0x0f;
      if (type === T.stop) return fields;
      if (type === T.map) throw new ThriftError('maps are not used by Parquet');
      const delta = head >> 4;
      id = delta === 0 ? this.zigzag32() : id + delta;
      const value = this.value(type);
      // Booleans as field values carry their value in the type.
      fields.set(id, [type === T.false ? T.true : type, value]);
    }
  }
}

/** Builds compact-protocol bytes. */
export class ThriftWriter {
  private buffer = new Uint8Array(256);
  length = 0;
  private readonly scratch = new DataView(new ArrayBuffer(8));
  private lastIds: number[] = [];
  private lastId = 0;

  private ensure(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const bigger = new Uint8Array(Math.max(this.buffer.length * 2, this.length + bytes));
    bigger.set(this.buffer.subarray(0, this.length));
    this.buffer = bigger;
  }

  private byte(b: number): void {
    this.ensure(1);
    this.buffer[this.length++] = b;
  }

  private varint(n: number): void {
    while (n >= 0x80) {
      this.byte((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.byte(n);
  }

  private varlong(n: bigint): void {
    while (n >= 0x80n) {
      this.byte(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    this.byte(Number(n));
  }

  private fieldHeader(id: number, type: number): void {
    const delta = id - this.lastId;
    if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
    else {
      this.byte(type);
      this.varint(id >= 0 ? id * 2 : -id * 2 - 1);
    }
    this.lastId = id;
  }

  beginStruct(): void {
    this.lastIds.push(this.lastId);
    this.lastId = 0;
  }

  endStruct(): void {
    this.byte(T.stop);
    this.lastId = this.lastIds.pop() ?? 0;
  }

  /** A field of a struct being written. Integers are written as `type` says (i32 or i64). */
  field(id: number, type: number, value: ThriftValue): void {
    if (type === T.true || type === T.false) {
      this.fieldHeader(id, value === true ? T.true : T.false);
      return;
    }
    this.fieldHeader(id, type);
    this.value(type, value);
  }

  private value(type: number, value: ThriftValue): void {
    switch (type) {
      case T.byte:
        this.byte((value as number) & 0xff);
        return;
      case T.i16:
      case T.i32: {
        const n = value as number;
        this.varint(n >= 0 ? n * 2 : -n * 2 - 1);
        return;
      }
      case T.i64: {
        const n = BigInt(value as number | bigint);
        this.varlong(n >= 0n ? n * 2n : -n * 2n - 1n);
        return;
      }
      case T.double:
        this.scratch.setFloat64(0, value as number, true);
        this.ensure(8);
        for (let i = 0; i < 8; i++) this.buffer[this.length++] = this.scratch.getUint8(i);
        return;
      case T.binary: {
        const bytes = value as Uint8Array;
        this.varint(bytes.length);
        this.ensure(bytes.length);
        this.buffer.set(bytes, this.length);
        this.length += bytes.length;
        return;
      }
      case T.list:
      case T.set: {
        const { elementType, items } = value as ThriftList;
        if (items.length < 15) this.byte((items.length << 4) | elementType);
        else {
          this.byte(0xf0 | elementType);
          this.varint(items.length);
        }
        for (const item of items) {
          if (elementType === T.true || elementType === T.false) this.byte(item === true ? 1 : 0);
          else this.value(elementType, item);
        }
        return;
      }
      case T.struct:
        this.struct(value as ThriftStruct);
        return;
      default:
        throw new ThriftError(`cannot write type ${type}`);
    }
  }

  /** A whole struct read by ThriftReader, written back as it was. */
  struct(fields: ThriftStruct): void {
    this.beginStruct();
    for (const id of [...fields.keys()].sort((a, b) => a - b)) {
      const [type, value] = fields.get(id) as [number, ThriftValue];
      this.field(id, type, value);
    }
    this.endStruct();
  }

  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

/** Convenience for writers: a struct from [id, type, value] triples (undefined values left out). */
export function structOf(fields: [number, number, ThriftValue | undefined][]): ThriftStruct {
  const struct: ThriftStruct = new Map();
  for (const [id, type, value] of fields) if (value !== undefined) struct.set(id, [type, value]);
  return struct;
}

export function listOf(elementType: number, items: ThriftValue[]): ThriftList {
  return { elementType, items };
}
