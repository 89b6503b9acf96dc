// The safetensors reader and writer: known bit patterns of each dtype, a
// round trip, and one clear line for each way a file can be broken.

import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';

/** A file with one tensor of the given dtype, shape and raw bytes (header written here by hand). */
function fileOf(dtype: string, shape: number[], data: number[], header?: string): Uint8Array {
  const json = header ?? JSON.stringify({ t: { dtype, shape, data_offsets: [0, data.length] } });
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  return Buffer.concat([length, Buffer.from(json), Buffer.from(data)]);
}

describe('decodeSafetensors', () => {
  it('reads F16, BF16, F32, F64, I64 and I32 values exactly', () => {
    // binary16: 1, −2, 65504 (largest), 2^-24 (smallest subnormal), −0, ∞.
    const half = decodeSafetensors(fileOf('F16', [6], [0x00, 0x3c, 0x00, 0xc0, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x80, 0x00, 0x7c]), 'h').tensors.get('t');
    expect(Array.from(half?.values ?? [])).toEqual([1, -2, 65504, 2 ** -24, -0, Infinity]);
    // bfloat16: 1 (3f80), 3.140625 (4049), −0.5 (bf00).
    const bf = decodeSafetensors(fileOf('BF16', [3], [0x80, 0x3f, 0x49, 0x40, 0x00, 0xbf]), 'b').tensors.get('t');
    expect(Array.from(bf?.values ?? [])).toEqual([1, 3.140625, -0.5]);
    const f32 = decodeSafetensors(fileOf('F32', [1], [0xcd, 0xcc, 0xcc, 0x3d]), 'f').tensors.get('t');
    expect(f32?.values[0]).toBe(Math.fround(0.1));
    const f64 = decodeSafetensors(fileOf('F64', [1], [0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f]), 'd').tensors.get('t');
    expect(f64?.values[0]).toBe(0.1);
    const i64 = decodeSafetensors(fileOf('I64', [], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), 'i').tensors.get('t');
    expect([i64?.shape, i64?.values[0]]).toEqual([[], -1]);
    const i32 = decodeSafetensors(fileOf('I32', [1], [0x2a, 0, 0, 0]), 'i').tensors.get('t');
    expect(i32?.values[0]).toBe(42);
  });

  it('reads back what the writer wrote, with the metadata, data 8-byte aligned', () => {
    const bytes = encodeSafetensors(
      [
        { name: 'weight', dtype: 'F64', shape: [3], values: [1.5, -0, 1e300] },
        { name: 'bias', dtype: 'F32', shape: [3], values: [0.1, 2, -3] },
        { name: 'num_batches_tracked', dtype: 'I64', shape: [], values: [7] },
      ],
      { format: 'pt', note: 'γ' },
    );
    const headerLength = Number(Buffer.from(bytes).readBigUInt64LE(0));
    expect((8 + headerLength) % 8).toBe(0);
    const file = decodeSafetensors(bytes, 'x');
    expect(file.metadata).toEqual({ format: 'pt', note: 'γ' });
    expect(Array.from(file.tensors.get('weight')?.values ?? [])).toEqual([1.5, -0, 1e300]);
    expect(Array.from(file.tensors.get('bias')?.values ?? [])).toEqual([Math.fround(0.1), 2, -3]);
    expect(file.tensors.get('num_batches_tracked')).toEqual({ dtype: 'I64', shape: [], values: Float64Array.of(7) });
  });

  it('names the file and the problem of a broken file', () => {
    const problems: [Uint8Array, RegExp][] = [
      [Uint8Array.of(1, 2, 3), /^x: not a safetensors file \(3 bytes/],
      [fileOf('F64', [1], [0, 0, 0, 0, 0, 0, 0, 0]).subarray(0, 20), /header length \(\d+ bytes\) is beyond the end of the file \(20 bytes\)/],
      [fileOf('F64', [1], [], '{"t": nope}'), /its header is not JSON/],
      [fileOf('F64', [1], [], '[1]'), /its header is not a JSON object/],
      [fileOf('F64', [2], [0, 0, 0, 0, 0, 0, 0, 0], JSON.stringify({ t: { dtype: 'F64', shape: [2], data_offsets: [0, 16] } })), /tensor "t" ends at byte 16 of the data, beyond its end \(8 bytes\): the file is truncated/],
      [fileOf('F64', [2], [0, 0, 0, 0, 0, 0, 0, 0], JSON.stringify({ t: { dtype: 'F64', shape: [2], data_offsets: [0, 8] } })), /tensor "t": 8 bytes for shape \[2\] of F64 \(expected 16\)/],
      [fileOf('F64', [1], [], JSON.stringify({ t: { dtype: 'F64', shape: [-1], data_offsets: [0, 0] } })), /tensor "t" has no valid shape/],
      [fileOf('F64', [1], [], JSON.stringify({ t: { shape: [1], data_offsets: [0, 0] } })), /tensor "t" has no dtype/],
      [fileOf('F64', [1], [], JSON.stringify({ t: { dtype: 'F64', shape: [0], data_offsets: [4, 0] } })), /tensor "t" has no valid data_offsets/],
    ];
    for (const [bytes, message] of problems) expect(() => decodeSafetensors(bytes, 'x')).toThrow(message);
  });
});
