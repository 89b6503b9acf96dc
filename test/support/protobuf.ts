// A protobuf wire-format reader for tests, written apart from finorm's writer:
// a message as its fields, each field's values in order (varints as bigint,
// length-delimited values as bytes, fixed-width values as bytes).

export type Fields = Map<number, (bigint | Uint8Array)[]>;

export function readMessage(bytes: Uint8Array): Fields {
  const fields: Fields = new Map();
  let at = 0;
  const varint = (): bigint => {
    let value = 0n;
    let shift = 0n;
    for (;;) {
      if (at >= bytes.length) throw new Error('truncated varint');
      const byte = bytes[at++];
      value |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return value;
      shift += 7n;
    }
  };
  while (at < bytes.length) {
    const key = varint();
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    let value: bigint | Uint8Array;
    if (wire === 0) value = varint();
    else if (wire === 2) {
      const length = Number(varint());
      if (at + length > bytes.length) throw new Error('truncated field');
      value = bytes.subarray(at, at + length);
      at += length;
    } else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      value = bytes.subarray(at, at + size);
      at += size;
    } else throw new Error(`wire type ${wire}`);
    fields.set(field, [...(fields.get(field) ?? []), value]);
  }
  return fields;
}

/** The bytes values of a field, each read as a message. */
export function messages(fields: Fields, field: number): Fields[] {
  return (fields.get(field) ?? []).map((v) => readMessage(v as Uint8Array));
}

export function text(fields: Fields, field: number): string | undefined {
  const value = fields.get(field)?.[0];
  return value === undefined ? undefined : new TextDecoder().decode(value as Uint8Array);
}

export function int(fields: Fields, field: number): bigint | undefined {
  return fields.get(field)?.[0] as bigint | undefined;
}
