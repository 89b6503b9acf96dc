// Protocol Buffers, the writing half of the wire format: what an ONNX model
// needs and nothing more. A message is a sequence of fields, each a key
// (field number << 3 | wire type) and a value: a varint (wire type 0) or
// length-delimited bytes (2: strings, bytes and nested messages). Fields are written in the order
// they are given; readers accept any order.

const VARINT = 0;
const LENGTH_DELIMITED = 2;

const utf8 = new TextEncoder();

/** One message being written; `bytes()` gives its encoding. */
export class ProtoMessage {
  private readonly parts: Uint8Array[] = [];
  private length = 0;

  /** An integer field (int32, int64, enum, bool as 0/1): a varint; negative values take ten bytes, as in two's complement. */
  int(field: number, value: number | bigint): this {
    this.key(field, VARINT);
    return this.push(varint(BigInt(value)));
  }

  /** A string field (UTF-8). */
  string(field: number, value: string): this {
    return this.bytesField(field, utf8.encode(value));
  }

  /** A bytes field. */
  bytesField(field: number, value: Uint8Array): this {
    this.key(field, LENGTH_DELIMITED);
    this.push(varint(BigInt(value.length)));
    return this.push(value);
  }

  /** A nested message. */
  message(field: number, value: ProtoMessage): this {
    return this.bytesField(field, value.bytes());
  }

  /** The encoded message. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }

  private key(field: number, wireType: number): void {
    this.push(varint(BigInt(field) << 3n | BigInt(wireType)));
  }

  private push(bytes: Uint8Array): this {
    this.parts.push(bytes);
    this.length += bytes.length;
    return this;
  }
}

/** Base-128 varint, least significant group first; a negative value as its 64-bit two's complement. */
function varint(value: bigint): Uint8Array {
  let rest = BigInt.asUintN(64, value);
  const bytes: number[] = [];
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return Uint8Array.from(bytes);
}
