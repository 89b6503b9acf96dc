// The protobuf writer against the wire format's documented encodings
// (protobuf.dev, "Encoding"): varints, negative int64, strings, nesting.

import { describe, expect, it } from 'vitest';
import { ProtoMessage } from '../../src/io/protobuf.js';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('ProtoMessage', () => {
  it('writes the documented examples: 150 in field 1, "testing" in field 2, a nested message in field 3', () => {
    expect(hex(new ProtoMessage().int(1, 150).bytes())).toBe('089601');
    expect(hex(new ProtoMessage().string(2, 'testing').bytes())).toBe('120774657374696e67');
    expect(hex(new ProtoMessage().message(3, new ProtoMessage().int(1, 150)).bytes())).toBe('1a03089601');
  });

  it('writes 0, 127, 128 and 300 as varints, and a negative int64 as ten bytes of two\'s complement', () => {
    expect(hex(new ProtoMessage().int(1, 0).bytes())).toBe('0800');
    expect(hex(new ProtoMessage().int(1, 127).bytes())).toBe('087f');
    expect(hex(new ProtoMessage().int(1, 128).bytes())).toBe('088001');
    expect(hex(new ProtoMessage().int(1, 300).bytes())).toBe('08ac02');
    expect(hex(new ProtoMessage().int(1, -1).bytes())).toBe('08ffffffffffffffffff01');
    expect(hex(new ProtoMessage().int(1, 2n ** 40n).bytes())).toBe('088080808080' + '20');
  });

  it('writes field numbers beyond 15 with a two-byte key, and UTF-8 by bytes, not characters', () => {
    // Field 20, varint: key (20 << 3) = 160 = a0 01.
    expect(hex(new ProtoMessage().int(20, 2).bytes())).toBe('a00102');
    // "γ" is two bytes in UTF-8.
    expect(hex(new ProtoMessage().string(1, 'γ').bytes())).toBe('0a02ceb3');
  });
});
