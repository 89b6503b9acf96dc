import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { explainNotANumber, isDecimal, parseDecimal } from '../../src/io/decimal.js';
import { formatNumber } from '../../src/io/format-number.js';

describe('parseDecimal', () => {
  it('reads random decimal texts exactly as Number() does (fast path and fallback)', () => {
    const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
    const decimal = fc
      .tuple(fc.constantFrom('', '-', '+'), digits(0, 20), fc.boolean(), digits(0, 20), fc.option(fc.tuple(fc.constantFrom('e', 'E'), fc.constantFrom('', '-', '+'), digits(1, 3))))
      .filter(([, whole, , fraction]) => whole.length + fraction.length > 0)
      .map(([sign, whole, dot, fraction, exponent]) => sign + whole + (dot || fraction !== '' ? '.' : '') + fraction + (exponent ? exponent.join('') : ''));
    fc.assert(
      fc.property(decimal, (text) => {
        expect(Object.is(parseDecimal(text), Number(text)), text).toBe(true);
      }),
      { seed: 3, numRuns: 20_000 },
    );
  });

  it('reads decimal and scientific notation', () => {
    const cases: [string, number][] = [
      ['42', 42],
      ['-1.5', -1.5],
      ['+3', 3],
      ['.5', 0.5],
      ['5.', 5],
      ['-1.5e-7', -1.5e-7],
      ['2.5E+12', 2.5e12],
      ['1e5', 1e5],
      [' 7.25 ', 7.25],
      ['0.0035', 0.0035],
      ['4514709504000', 4514709504000],
      ['1e-400', 0],
    ];
    for (const [text, value] of cases) expect(parseDecimal(text), text).toBe(value);
  });

  it('rejects everything else', () => {
    for (const text of ['', ' ', 'abc', '0x1A', 'Infinity', 'inf', '-Infinity', 'NaN', '1,234', '5%', '$5', '1e', 'e5', '.', '-', '1.2.3', '1e5.5', '1_000', '١٢', '1 2', '\t1']) {
      expect(Number.isNaN(parseDecimal(text)), JSON.stringify(text)).toBe(true);
    }
  });

  it('returns ±Infinity for decimals beyond the float64 range', () => {
    expect(parseDecimal('1e400')).toBe(Infinity);
    expect(parseDecimal('-1e400')).toBe(-Infinity);
    expect(isDecimal('1e400')).toBe(true);
  });

  it('reads every double written in shortest form back exactly', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (x) => {
        expect(Object.is(parseDecimal(formatNumber(x)), x)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('explainNotANumber', () => {
  it('says why a value is not read', () => {
    expect(explainNotANumber('1e400')).toMatch(/beyond the float64 range/);
    expect(explainNotANumber('inf')).toMatch(/infinite/);
    expect(explainNotANumber('0x1F')).toMatch(/hexadecimal/);
    expect(explainNotANumber('1,234,567')).toMatch(/thousands separators/);
    expect(explainNotANumber('5%')).toMatch(/percentage/);
    expect(explainNotANumber('12,5')).toMatch(/decimal comma/);
    expect(explainNotANumber('$12')).toMatch(/currency/);
    expect(explainNotANumber('n/a!')).toBe('is not a number');
  });
});

describe('formatNumber', () => {
  it('writes the shortest exact form, with -0 kept', () => {
    expect(formatNumber(0.1)).toBe('0.1');
    expect(formatNumber(-0)).toBe('-0');
    expect(formatNumber(0)).toBe('0');
    expect(formatNumber(1e21)).toBe('1e+21');
    expect(formatNumber(1e-7)).toBe('1e-7');
    expect(formatNumber(2 ** 53 + 2)).toBe('9007199254740994');
    expect(formatNumber(5e-324)).toBe('5e-324');
  });

  it('rounds to N significant digits without trailing zeros', () => {
    expect(formatNumber(-0.45143, 2)).toBe('-0.45');
    expect(formatNumber(1.3864, 3)).toBe('1.39');
    expect(formatNumber(1, 4)).toBe('1');
    expect(formatNumber(123456.789, 2)).toBe('120000');
    expect(formatNumber(4.5e12, 1)).toBe('5000000000000');
    expect(formatNumber(1.23456e-9, 3)).toBe('1.23e-9');
  });

  it('rounds to the nearest N-digit decimal', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e30, max: 1e30 }), fc.integer({ min: 1, max: 17 }), (x, p) => {
        const written = formatNumber(x, p);
        expect(Number(written)).toBe(Number(x.toPrecision(p)));
        const digits = written.replace(/^-/, '').replace(/e.*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
        expect(digits.length).toBeLessThanOrEqual(p);
      }),
      { numRuns: 2000 },
    );
  });
});
