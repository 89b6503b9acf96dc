// The shortest round-trip formatter must write exactly what String(x) writes
// (with -0 as "-0") for every finite double: random bit patterns (every
// exponent), values of the shape finorm writes (normalized values, prices),
// and the edges where the algorithm hands over or the layout changes.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_NUMBER_BYTES, formatNumber, writeShortest } from '../../src/io/format-number.js';

const buffer = new Uint8Array(64);
const decoder = new TextDecoder();

function written(x: number): string {
  const end = writeShortest(x, buffer, 3);
  expect(end - 3).toBeLessThanOrEqual(MAX_NUMBER_BYTES);
  return decoder.decode(buffer.subarray(3, end));
}

const expected = (x: number): string => (Object.is(x, -0) ? '-0' : String(x));

describe('writeShortest', () => {
  it('writes String(x) for random doubles of every exponent', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        expect(written(x), String(x)).toBe(expected(x));
      }),
      { numRuns: 200_000, seed: 1 },
    );
  });

  it('writes String(x) for values of the shapes finorm writes', () => {
    const normalized = fc.double({ min: -8, max: 8, noNaN: true });
    const decimals = fc.tuple(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 12 })).map(([m, d]) => m / 10 ** d);
    const scaled = fc.tuple(fc.double({ min: 1, max: 10, noNaN: true }), fc.integer({ min: -300, max: 300 })).map(([m, e]) => m * 10 ** e);
    fc.assert(
      fc.property(fc.oneof(normalized, decimals, scaled), (x) => {
        expect(written(x), String(x)).toBe(expected(x));
      }),
      { numRuns: 200_000, seed: 2 },
    );
  });

  it('handles the edges: zeros, subnormals, the largest double, powers of two and ten, integers beyond 2^53, layout limits', () => {
    const edges = [0, -0, 5e-324, -5e-324, 2.2250738585072014e-308, 2.225073858507201e-308, Number.MAX_VALUE, -Number.MAX_VALUE];
    for (let e = -1074; e <= 1023; e++) edges.push(2 ** e, 2 ** e * 1.5, 2 ** e * (1 + 2 ** -52), 2 ** e * (2 - 2 ** -52));
    for (let k = -324; k <= 308; k++) for (const m of ['1', '1.5', '9.5', '9.999999999999999', '1.0000000000000002', '4.35']) edges.push(Number(`${m}e${k}`));
    edges.push(2 ** 53, 2 ** 53 + 2, 2 ** 64, 1e21, 1e21 - 65536, 999999999999999900000, 1e-7, 1e-6, 9.999999999999999e-7, 0.000001, 123456789012345680000, 0.1 + 0.2, 100, 1e15, 1e16, 1e17);
    for (const x of edges) {
      expect(written(x), String(x)).toBe(expected(x));
      expect(written(-x), String(-x)).toBe(expected(-x));
    }
  });
});

describe('formatNumber', () => {
  it('is the shortest form as text, -0 kept, or rounded to significant digits', () => {
    expect(formatNumber(-0)).toBe('-0');
    expect(formatNumber(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(formatNumber(1 / 3, 3)).toBe('0.333');
    expect(formatNumber(123456, 2)).toBe('120000');
    expect(formatNumber(1e21)).toBe('1e+21');
  });
});
