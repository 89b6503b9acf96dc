// finorm's snappy against another implementation, hysnappy (snappy in
// WebAssembly): what finorm compresses, hysnappy decompresses to the input,
// and what hysnappy compresses, finorm decompresses; over the lengths where
// the format changes (literal lengths of 1 to 4 bytes, copies of every kind,
// the 64 KiB fragments) and random bytes of a few values (many matches).
// Compression must also compress: runs and repeats shrink, and nothing grows
// beyond snappy's bound.

import fc from 'fast-check';
import { snappyCompress as referenceCompress, snappyUncompress as referenceUncompress } from 'hysnappy';
import { describe, expect, it } from 'vitest';
import { maxCompressedLength, snappyCompress, snappyUncompress } from '../../src/io/parquet/snappy.js';
import { seededRandom } from '../support/random.js';

function compress(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(maxCompressedLength(input.length));
  return out.slice(0, snappyCompress(input, out));
}

function uncompress(input: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  expect(snappyUncompress(input, out)).toBe(length);
  return out;
}

const random = seededRandom(15);
const randomBytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
const text = (n: number): Uint8Array => new TextEncoder().encode('AAPL,2024-01-31,189.5;MSFT,2024-01-31,401.25;'.repeat(Math.ceil(n / 45))).subarray(0, n);
/** Doubles as a feature page holds them: normalized values, whose mantissas hardly repeat. */
const doubles = (n: number): Uint8Array => new Uint8Array(Float64Array.from({ length: n }, () => (random() - 0.5) * 4).buffer);

const CASES: [string, Uint8Array][] = [
  ['empty', new Uint8Array(0)],
  ['one byte', new Uint8Array([7])],
  ...[14, 15, 16, 17, 60, 61, 62, 255, 256, 257, 1000].map((n): [string, Uint8Array] => [`${n} random bytes`, randomBytes(n)]),
  ...[65_535, 65_536, 65_537, 200_000].map((n): [string, Uint8Array] => [`${n} random bytes (fragments)`, randomBytes(n)]),
  ['zeros (long overlapping copies)', new Uint8Array(300_000)],
  ['a byte, then zeros', Uint8Array.from({ length: 5000 }, (_, i) => (i === 0 ? 1 : 0))],
  ['text (short copies, near and far)', text(150_000)],
  ['doubles of a feature page', doubles(20_000)],
  // Copies whose offset is shorter than their length (they repeat what they write), and just longer.
  ...Array.from({ length: 20 }, (_, k): [string, Uint8Array] => [`a pattern of ${k + 1} bytes, repeated`, Uint8Array.from({ length: 3000 }, (_, i) => (i < 40 ? i * 37 : (i % (k + 1)) * 11) & 0xff)]),
  ['repeats 2 KiB and 64 KiB apart', Uint8Array.from({ length: 200_000 }, (_, i) => ((i % 2049) * 7 + (i % 65_521)) & 0xff)],
];

describe('snappy', () => {
  for (const [name, input] of CASES) {
    it(`compresses ${name} to what another snappy decompresses, and decompresses its compression`, () => {
      const compressed = compress(input);
      expect(compressed.length).toBeLessThanOrEqual(maxCompressedLength(input.length));
      expect(Buffer.from(referenceUncompress(compressed, input.length)).equals(Buffer.from(input))).toBe(true);
      expect(Buffer.from(uncompress(compressed, input.length)).equals(Buffer.from(input))).toBe(true);
      const theirs = referenceCompress(input);
      expect(Buffer.from(uncompress(theirs, input.length)).equals(Buffer.from(input))).toBe(true);
    });
  }

  it('compresses what repeats, and leaves what does not about its size', () => {
    expect(compress(new Uint8Array(300_000)).length).toBeLessThan(20_000);
    expect(compress(text(150_000)).length).toBeLessThan(10_000);
    const noise = randomBytes(100_000);
    expect(compress(noise).length).toBeLessThan(100_000 * 1.01);
  });

  it('round-trips random bytes of a few values (many short matches)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.integer({ min: 1, max: 5 }), (bytes, values) => {
        const input = bytes.map((b) => b % values);
        const compressed = compress(input);
        expect(Buffer.from(referenceUncompress(compressed, input.length)).equals(Buffer.from(input))).toBe(true);
        expect(Buffer.from(uncompress(compressed, input.length)).equals(Buffer.from(input))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('decompresses every short copy as the format defines it (each byte from `offset` back, the ones it wrote too)', () => {
    for (let offset = 1; offset <= 20; offset++) {
      for (let length = 4; length <= 20; length++) {
        // A literal of `offset` bytes, the copy, then a literal of 16 bytes: the copy is not the last thing written.
        const head = Array.from({ length: offset }, (_, i) => 100 + i);
        const tail = Array.from({ length: 16 }, (_, i) => 200 + i);
        const size = offset + length + 16;
        const stream = Uint8Array.from([size, (offset - 1) << 2, ...head, 2 | ((length - 1) << 2), offset, 0, 15 << 2, ...tail]);
        const expected = [...head];
        for (let i = 0; i < length; i++) expected.push(expected[expected.length - offset]);
        expected.push(...tail);
        expect([...uncompress(stream, size)], `offset ${offset}, length ${length}`).toEqual(expected);
        expect([...referenceUncompress(stream, size)]).toEqual(expected);
      }
    }
  });

  it('refuses bytes that are not snappy: a wrong length, a copy before the start, a literal past the end', () => {
    const good = compress(text(1000));
    expect(() => uncompress(good, 999)).toThrow(/snappy length 1000/);
    // Length 8, then a copy (1-byte offset 1) with nothing written yet.
    expect(() => snappyUncompress(new Uint8Array([8, 0x01 | (4 << 2), 1]), new Uint8Array(8))).toThrow(/out of bounds/);
    // Length 4, then a literal of 5 bytes.
    expect(() => snappyUncompress(new Uint8Array([4, 4 << 2, 1, 2, 3, 4, 5]), new Uint8Array(4))).toThrow(/out of bounds/);
    // A literal cut short.
    expect(() => snappyUncompress(new Uint8Array([100, 60 << 2]), new Uint8Array(100))).toThrow(/cut short/);
  });
});
