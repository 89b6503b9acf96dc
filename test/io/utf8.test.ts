// firstInvalidUtf8 only locates what TextDecoder (fatal) rejects: it must
// agree with it on every input, and the bytes before the place it names must
// decode.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { firstInvalidUtf8 } from '../../src/io/sources.js';

function decodes(bytes: Uint8Array): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** Bytes that are often nearly UTF-8: valid text with a few bytes changed, cut or inserted. */
const nearlyUtf8 = fc
  .tuple(
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.array(fc.tuple(fc.nat(200), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }),
    fc.nat(3),
  )
  .map(([text, changes, cut]) => {
    const bytes = [...Buffer.from(text, 'utf8')];
    for (const [at, byte] of changes) bytes.splice(at % (bytes.length + 1), cut === 1 ? 1 : 0, byte);
    return Uint8Array.from(cut === 2 ? bytes.slice(0, Math.max(0, bytes.length - 1)) : bytes);
  });

describe('firstInvalidUtf8', () => {
  it('finds a place exactly when TextDecoder rejects the bytes, and the bytes before it decode', () => {
    fc.assert(
      fc.property(fc.oneof(nearlyUtf8, fc.uint8Array({ maxLength: 12 })), (bytes) => {
        const at = firstInvalidUtf8(bytes, true);
        expect(at < 0).toBe(decodes(bytes));
        if (at >= 0) {
          expect(decodes(bytes.subarray(0, at))).toBe(true);
          expect(at).toBeLessThan(bytes.length);
        }
      }),
      { numRuns: 20_000 },
    );
  });

  it('knows the edge cases: overlong forms, surrogates, above U+10FFFF, a cut sequence', () => {
    const at = (bytes: number[], final = true): number => firstInvalidUtf8(Uint8Array.from(bytes), final);
    expect(at([0x61, 0xc0, 0xaf])).toBe(1); // overlong '/'
    expect(at([0xe0, 0x80, 0xaf])).toBe(0); // overlong, three bytes
    expect(at([0xed, 0xa0, 0x80])).toBe(0); // U+D800, a surrogate
    expect(at([0xf4, 0x90, 0x80, 0x80])).toBe(0); // U+110000
    expect(at([0xf0, 0x9f, 0x98, 0x80])).toBe(-1); // U+1F600
    expect(at([0x61, 0xe2, 0x82])).toBe(1); // cut at the end of the input...
    expect(at([0x61, 0xe2, 0x82], false)).toBe(-1); // ...or not, if more may follow
    expect(at([0x82, 0xac, 0x61], false)).toBe(0); // a continuation byte cannot start a sequence
  });
});
