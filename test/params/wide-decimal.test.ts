// Decimal text of numbers beyond the double range (a parameter file's variance
// and M2 for values near 1e308): exact in both directions, checked against
// BigInt rationals computed here, and shortest.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type WideNumber, wide } from '../../src/core/wide.js';
import { formatWideDecimal, parseWideDecimal } from '../../src/params/wide-decimal.js';

/** The exact value of decimal text d.ddde±x as num/den (BigInt), independently of the code under test. */
function rationalOf(text: string): { num: bigint; den: bigint } {
  const [mantissa, exponent] = text.split('e');
  const [whole, fraction = ''] = mantissa.split('.');
  const digits = BigInt(whole + fraction);
  const power = Number(exponent) - fraction.length;
  return power >= 0 ? { num: digits * 10n ** BigInt(power), den: 1n } : { num: digits, den: 10n ** BigInt(-power) };
}

/** significand·2^exponent as m·2^e with m an integer of 53 bits. */
function integerOf(w: WideNumber): { m: bigint; e: number } {
  return { m: BigInt(w.significand * 2 ** 52), e: w.exponent - 52 };
}

/** text lies within the interval that rounds to w (half a unit in its 53rd bit either way), exactly: it reads back as w. */
function withinHalfUlp(text: string, w: WideNumber): boolean {
  const { num, den } = rationalOf(text);
  const { m, e } = integerOf(w);
  // Compare num/den with (m ± 1/2)·2^e, all scaled to integers.
  const scale = e >= 0 ? { a: 1n, b: 1n << BigInt(e) } : { a: 1n << BigInt(-e), b: 1n };
  const four = 4n * num * scale.a; // 4·num·2^−e (times den on the other side)
  // Below a power of two the next double down is half as far.
  const low = (m === 1n << 52n ? 4n * m - 1n : 2n * (2n * m - 1n)) * den * scale.b;
  const high = 2n * (2n * m + 1n) * den * scale.b;
  return four >= low && four <= high;
}

const wideNumbers = fc.record({
  significand: fc.integer({ min: 0, max: 2 ** 52 - 1 }).map((f) => 1 + f / 2 ** 52),
  exponent: fc.integer({ min: -2300, max: 2300 }),
});

describe('decimal text of wide numbers', () => {
  it('reads back as the same number, exactly, at any exponent (property)', () => {
    fc.assert(
      fc.property(wideNumbers, (w) => {
        const text = formatWideDecimal(w);
        expect(text).toMatch(/^\d(\.\d{1,16})?e[+-]\d+$/);
        expect(withinHalfUlp(text, w), text).toBe(true);
        expect(parseWideDecimal(text)).toEqual(w);
      }),
      { seed: 616, numRuns: 400 },
    );
  });

  it('is the shortest such text: one digit fewer would not read back', () => {
    fc.assert(
      fc.property(wideNumbers, (w) => {
        const text = formatWideDecimal(w);
        const digits = text.split('e')[0].replace('.', '');
        if (digits.length === 1) return;
        // Every text of one digit fewer near w: the two candidates around it.
        const exponent = Number(text.split('e')[1]);
        const shorter = BigInt(digits.slice(0, -1));
        for (const candidate of [shorter, shorter + 1n]) {
          const s = candidate.toString();
          const t = `${s[0]}${s.length > 1 ? '.' + s.slice(1) : ''}e${exponent + s.length - (digits.length - 1)}`;
          expect(withinHalfUlp(t, w), `${t} also reads back as ${text}`).toBe(false);
        }
      }),
      { seed: 617, numRuns: 300 },
    );
  });

  it('agrees with JavaScript on doubles', () => {
    fc.assert(
      fc.property(fc.double({ min: 2 ** -1022, max: Number.MAX_VALUE, noNaN: true }), (x) => {
        expect(Number(formatWideDecimal(wide(x)))).toBe(x);
        expect(parseWideDecimal(String(x))).toEqual(wide(x));
      }),
      { seed: 618, numRuns: 500 },
    );
    expect(formatWideDecimal(wide(0))).toBe('0');
  });

  it('writes the examples of the README', () => {
    // 4.5e616 and the variance of ±1e308.
    expect(formatWideDecimal(parseWideDecimal('4.5e+616') as WideNumber)).toBe('4.5e+616');
    expect(formatWideDecimal(parseWideDecimal('1e-400') as WideNumber)).toBe('1e-400');
    expect(parseWideDecimal('45e615')).toEqual(parseWideDecimal('4.5e616'));
    expect(parseWideDecimal('.5')).toEqual(wide(0.5));
    expect(parseWideDecimal('1e1001')).toBeUndefined();
    expect(parseWideDecimal('-1e400')).toBeUndefined();
    expect(parseWideDecimal('Infinity')).toBeUndefined();
  });
});
