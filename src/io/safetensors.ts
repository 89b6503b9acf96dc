// safetensors files (Hugging Face's format for PyTorch state dicts): an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype,
// shape and byte range within the data that follows, and the data, raw and
// little-endian. `__metadata__` in the header holds text for text.

import { DataError } from '../errors.js';

/** The dtypes finorm reads as numbers, with their sizes in bytes. */
const SIZES = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4 } as const;
export type SafetensorsDtype = keyof typeof SIZES;

/** A tensor to write. */
export interface TensorOut {
  name: string;
  dtype: 'F64' | 'F32' | 'I64';
  shape: number[];
  values: ArrayLike<number>;
}

/** A tensor read back: its values as doubles (exactly: every dtype read here is a subset of float64, I64 within ±2^53). */
export interface TensorIn {
  dtype: string;
  shape: number[];
  values: Float64Array;
}

export interface Safetensors {
  metadata: Record<string, string>;
  tensors: Map<string, TensorIn>;
}

/** The file's bytes; the header is padded with spaces so that the data starts 8-byte aligned. */
export function encodeSafetensors(tensors: readonly TensorOut[], metadata: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const tensor of tensors) {
    const end = offset + tensor.values.length * SIZES[tensor.dtype];
    header[tensor.name] = { dtype: tensor.dtype, shape: tensor.shape, data_offsets: [offset, end] };
    offset = end;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const bytes = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(bytes.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  bytes.set(headerBytes, 8);
  let at = 8 + headerBytes.length;
  for (const tensor of tensors) {
    for (let i = 0; i < tensor.values.length; i++) {
      const value = tensor.values[i];
      if (tensor.dtype === 'F64') view.setFloat64(at, value, true);
      else if (tensor.dtype === 'F32') view.setFloat32(at, value, true);
      else view.setBigInt64(at, BigInt(value), true);
      at += SIZES[tensor.dtype];
    }
  }
  return bytes;
}

/** Reads a safetensors file; every problem is one line naming the file (exit 1). */
export function decodeSafetensors(bytes: Uint8Array, file: string): Safetensors {
  const fail = (what: string): never => {
    throw new DataError(`${file}: ${what}`);
  };
  if (bytes.length < 8) fail(`not a safetensors file (${bytes.length} bytes; it starts with an 8-byte header length)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    fail(`not a safetensors file, or a truncated one: its header length (${headerLength} bytes) is beyond the end of the file (${bytes.length} bytes)`);
  }
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (error) {
    fail(`not a safetensors file: its header is not JSON (${(error as Error).message.replace(/\s+/g, ' ')})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('not a safetensors file: its header is not a JSON object');
  const dataLength = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors = new Map<string, TensorIn>();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      for (const [key, value] of Object.entries((entry ?? {}) as Record<string, unknown>)) {
        if (typeof value === 'string') metadata[key] = value;
      }
      continue;
    }
    const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    const where = `tensor ${JSON.stringify(name)}`;
    if (typeof dtype !== 'string') fail(`${where} has no dtype`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`${where} has no valid shape`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0) || offsets[0] > offsets[1]) {
      fail(`${where} has no valid data_offsets`);
    }
    const [begin, end] = offsets as [number, number];
    if (end > dataLength) fail(`${where} ends at byte ${end} of the data, beyond its end (${dataLength} bytes): the file is truncated`);
    const size = SIZES[dtype as SafetensorsDtype];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (size !== undefined && end - begin !== count * size) {
      fail(`${where}: ${end - begin} bytes for shape [${(shape as number[]).join(', ')}] of ${dtype} (expected ${count * size})`);
    }
    const values = size === undefined ? new Float64Array(0) : decodeValues(dtype as SafetensorsDtype, new DataView(bytes.buffer, bytes.byteOffset + dataStart + begin, end - begin), count);
    tensors.set(name, { dtype: dtype as string, shape: shape as number[], values });
  }
  return { metadata, tensors };
}

/** Whether the values of a dtype can be read (others are listed, but their values are not decoded). */
export function readableDtype(dtype: string): boolean {
  return Object.hasOwn(SIZES, dtype);
}

function decodeValues(dtype: SafetensorsDtype, view: DataView, count: number): Float64Array {
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    switch (dtype) {
      case 'F64': values[i] = view.getFloat64(i * 8, true); break;
      case 'F32': values[i] = view.getFloat32(i * 4, true); break;
      case 'F16': values[i] = halfToNumber(view.getUint16(i * 2, true)); break;
      case 'BF16': values[i] = bfloatToNumber(view.getUint16(i * 2, true)); break;
      case 'I64': values[i] = Number(view.getBigInt64(i * 8, true)); break;
      case 'I32': values[i] = view.getInt32(i * 4, true); break;
    }
  }
  return values;
}

const float32Bits = new DataView(new ArrayBuffer(4));

/** bfloat16 is the upper half of a float32. */
function bfloatToNumber(bits: number): number {
  float32Bits.setUint32(0, bits * 0x10000);
  return float32Bits.getFloat32(0);
}

/** IEEE binary16: sign, 5 exponent bits, 10 fraction bits. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}
