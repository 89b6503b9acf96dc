import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.js';
import { type ParamsJson, formatParams, parseParams } from '../../src/params/params-file.js';

const valid = {
  format: 'finorm-params',
  version: 1,
  epsilon: 1e-5,
  ddof: 0,
  columns: [
    { name: 'Price', gamma: 1.5, beta: 0.1, count: 3, mean: 2, meanLo: 0, variance: 0.5, m2: 1.5, min: 1, max: 3 },
    { name: 'EBITDA' },
  ],
};

function problem(json: unknown): string {
  try {
    parseParams(typeof json === 'string' ? json : JSON.stringify(json), 'p.json');
  } catch (error) {
    expect(error).toBeInstanceOf(DataError);
    return (error as Error).message;
  }
  throw new Error('expected the file to be rejected');
}

const withColumn = (patch: Record<string, unknown>) => ({ ...valid, columns: [{ ...valid.columns[0], ...patch }, valid.columns[1]] });

describe('parameter files', () => {
  it('reads a valid file into typed values', () => {
    const params = parseParams(JSON.stringify(valid), 'p.json');
    expect(params.columns[0]).toMatchObject({ name: 'Price', gamma: 1.5, variance: { significand: 1, exponent: -1 } });
    expect(params.columns[1].gamma).toBeUndefined();
  });

  it('names the problem and the key', () => {
    expect(problem('{"format": ')).toMatch(/^p\.json: not a JSON parameter file/);
    expect(problem({ ...valid, version: 3 })).toMatch(/version 3 is newer than this finorm reads \(version 2\); upgrade finorm/);
    expect(problem({ ...valid, version: 0 })).toMatch(/^p\.json: version: /);
    expect(problem({ ...valid, format: 'other' })).toMatch(/^p\.json: format: /);
    expect(problem(withColumn({ variance: -1 }))).toMatch(/columns\[0\] \("Price"\)\.variance: expected a number ≥ 0/);
    expect(problem(withColumn({ gama: 2 }))).toMatch(/columns\[0\] \("Price"\): Unrecognized key: "gama"/);
    expect(problem(withColumn({ mean: 'high' }))).toMatch(/columns\[0\] \("Price"\)\.mean: .*expected number, received string/);
    expect(problem(withColumn({ count: 2.5 }))).toMatch(/columns\[0\] \("Price"\)\.count: /);
    expect(problem(withColumn({ variance: undefined }))).toMatch(/give both "mean" and "variance"/);
    const { columns: _, ...noColumns } = valid;
    expect(problem(noColumns)).toMatch(/^p\.json: columns: missing/);
    expect(problem({ ...valid, columns: [valid.columns[0], valid.columns[0]] })).toMatch(/column "Price" appears twice/);
    expect(problem({ ...valid, ddof: 2 })).toMatch(/^p\.json: ddof: /);
  });

  it('reads a variance and M2 beyond the double range written as decimal text (version 2)', () => {
    const params = parseParams(JSON.stringify(withColumn({ variance: '4.5e+616', m2: '1.35e+617' })), 'p.json');
    // 4.5e616 = 1.x·2^2048 (2^2048 ≈ 3.2e616).
    expect(params.columns[0].variance).toMatchObject({ exponent: 2048 });
    expect(params.columns[0].variance?.significand).toBeCloseTo(((4.5e200 / 2 ** 1000) * (1e208 / 2 ** 1000) * 1e208) / 2 ** 48, 12);
    expect(problem(withColumn({ variance: 'big' }))).toMatch(/columns\[0\] \("Price"\)\.variance: expected a number ≥ 0, or beyond the double range its decimal text such as "4\.5e\+616".*got "big"/);
    expect(problem(withColumn({ variance: '-4e+616' }))).toMatch(/\.variance: expected a number ≥ 0/);
    expect(problem(withColumn({ m2: '1e+99999' }))).toMatch(/\.m2: .*exponent within ±1000/);
  });

  it('refuses, readably, parameters too large for one string', () => {
    // What JSON.stringify throws past V8's longest string, without building 512 MB here.
    const tooLong = { toJSON: () => { throw new RangeError('Invalid string length'); } };
    const params = {
      format: 'finorm-params',
      version: 1,
      columns: [{ name: 'close', mean: 1, variance: 2 }],
      groupBy: ['ticker'],
      groups: Array.from({ length: 300_000 }, (_, i) => (i === 299_999 ? tooLong : { key: [`T${i}`], columns: [] })),
    } as unknown as ParamsJson;
    expect(() => formatParams(params)).toThrow(DataError);
    expect(() => formatParams(params)).toThrow(/300,000 groups of 1 columns\) are too large for one JSON file/);
  });
});
