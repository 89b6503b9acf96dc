// A safetensors reader for tests, written apart from finorm's from the format's
// description: 8 bytes of little-endian header length, a JSON header, then the
// tensors' raw little-endian bytes at data_offsets from the end of the header.

export interface StoredTensor {
  dtype: string;
  shape: number[];
  values: number[];
}

export function readSafetensorsForTest(bytes: Uint8Array): { headerLength: number; metadata: Record<string, string>; tensors: Record<string, StoredTensor>; names: string[] } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(buffer.readBigUInt64LE(0));
  const header = JSON.parse(buffer.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  const data = buffer.subarray(8 + headerLength);
  const tensors: Record<string, StoredTensor> = {};
  const names: string[] = [];
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: [begin, end] } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const raw = data.subarray(begin, end);
    const values: number[] = [];
    if (dtype === 'F64') for (let i = 0; i < raw.length; i += 8) values.push(raw.readDoubleLE(i));
    else if (dtype === 'F32') for (let i = 0; i < raw.length; i += 4) values.push(raw.readFloatLE(i));
    else if (dtype === 'I64') for (let i = 0; i < raw.length; i += 8) values.push(Number(raw.readBigInt64LE(i)));
    else throw new Error(`dtype ${dtype}`);
    tensors[name] = { dtype, shape, values };
    names.push(name);
  }
  return { headerLength, metadata: (header.__metadata__ ?? {}) as Record<string, string>, tensors, names };
}

/** A safetensors file from tensors given here (for files finorm must refuse, or accept). */
export function writeSafetensorsForTest(tensors: Record<string, { dtype: 'F64' | 'F32' | 'I64'; shape: number[]; values: number[] }>, metadata?: Record<string, string>): Buffer {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const [name, { dtype, shape, values }] of Object.entries(tensors)) {
    const size = dtype === 'F32' ? 4 : 8;
    const data = Buffer.alloc(values.length * size);
    values.forEach((v, i) => (dtype === 'F64' ? data.writeDoubleLE(v, i * 8) : dtype === 'F32' ? data.writeFloatLE(v, i * 4) : data.writeBigInt64LE(BigInt(v), i * 8)));
    header[name] = { dtype, shape, data_offsets: [offset, offset + data.length] };
    chunks.push(data);
    offset += data.length;
  }
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, ...chunks]);
}
