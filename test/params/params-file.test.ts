import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/errors.js';
import { type GroupParamsJson, type ParamsHeaderJson, parseParams, readParamsText, writeParams } from '../../src/params/params-file.js';
import type { OutputSink } from '../../src/io/output.js';

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

async function problem(json: unknown): Promise<string> {
  try {
    await parseParams(typeof json === 'string' ? json : JSON.stringify(json), 'p.json');
  } catch (error) {
    expect(error).toBeInstanceOf(DataError);
    return (error as Error).message;
  }
  throw new Error('expected the file to be rejected');
}

const withColumn = (patch: Record<string, unknown>) => ({ ...valid, columns: [{ ...valid.columns[0], ...patch }, valid.columns[1]] });

/** A sink that keeps what is written, in the pieces it was written in. */
function memorySink(): OutputSink & { writes: string[] } {
  const writes: string[] = [];
  return { writes, write: async (text) => void writes.push(String(text)), commit: async () => undefined, abort: async () => undefined };
}

const header: ParamsHeaderJson = {
  format: 'finorm-params',
  version: 1,
  generator: 'finorm test',
  epsilon: 1e-5,
  ddof: 0,
  columns: [{ name: 'close', gamma: 1, beta: 0, count: 4, mean: 2.5, meanLo: 0, variance: 1.25, m2: 5, min: 1, max: 4 }],
  groupBy: ['ticker', 'date'],
};
const groupAt = (g: number): GroupParamsJson => ({
  key: [`T${g}`, '2024-01-31'],
  columns: [{ name: 'close', count: 2, mean: g + 0.5, meanLo: 0, variance: 0.25, m2: 0.5, min: g, max: g + 1 }],
});

describe('parameter files', () => {
  it('reads a valid file into typed values', async () => {
    const params = await parseParams(JSON.stringify(valid), 'p.json');
    expect(params.columns[0]).toMatchObject({ name: 'Price', gamma: 1.5, variance: { significand: 1, exponent: -1 } });
    expect(params.columns[1].gamma).toBeUndefined();
  });

  it('names the problem and the key', async () => {
    expect(await problem('{"format": ')).toMatch(/^p\.json:1: not a JSON parameter file/);
    expect(await problem({ ...valid, version: 3 })).toMatch(/version 3 is newer than this finorm reads \(version 2\); upgrade finorm/);
    expect(await problem({ ...valid, version: 0 })).toMatch(/^p\.json: version: /);
    expect(await problem({ ...valid, format: 'other' })).toMatch(/^p\.json: format: /);
    expect(await problem(withColumn({ variance: -1 }))).toMatch(/columns\[0\] \("Price"\)\.variance: expected a number ≥ 0/);
    expect(await problem(withColumn({ gama: 2 }))).toMatch(/columns\[0\] \("Price"\): Unrecognized key: "gama"/);
    expect(await problem(withColumn({ mean: 'high' }))).toMatch(/columns\[0\] \("Price"\)\.mean: .*expected number, received string/);
    expect(await problem(withColumn({ count: 2.5 }))).toMatch(/columns\[0\] \("Price"\)\.count: /);
    expect(await problem(withColumn({ variance: undefined }))).toMatch(/give both "mean" and "variance"/);
    const { columns: _, ...noColumns } = valid;
    expect(await problem(noColumns)).toMatch(/^p\.json: columns: missing/);
    expect(await problem({ ...valid, columns: [valid.columns[0], valid.columns[0]] })).toMatch(/column "Price" appears twice/);
    expect(await problem({ ...valid, ddof: 2 })).toMatch(/^p\.json: ddof: /);
  });

  it('reads a variance and M2 beyond the double range written as decimal text (version 2)', async () => {
    const params = await parseParams(JSON.stringify(withColumn({ variance: '4.5e+616', m2: '1.35e+617' })), 'p.json');
    // 4.5e616 = 1.x·2^2048 (2^2048 ≈ 3.2e616).
    expect(params.columns[0].variance).toMatchObject({ exponent: 2048 });
    expect(params.columns[0].variance?.significand).toBeCloseTo(((4.5e200 / 2 ** 1000) * (1e208 / 2 ** 1000) * 1e208) / 2 ** 48, 12);
    expect(await problem(withColumn({ variance: 'big' }))).toMatch(/columns\[0\] \("Price"\)\.variance: expected a number ≥ 0, or beyond the double range its decimal text such as "4\.5e\+616".*got "big"/);
    expect(await problem(withColumn({ variance: '-4e+616' }))).toMatch(/\.variance: expected a number ≥ 0/);
    expect(await problem(withColumn({ m2: '1e+99999' }))).toMatch(/\.m2: .*exponent within ±1000/);
  });

  it('writes the JSON layout as JSON.stringify would, a group at a time, and reads it back', async () => {
    const sink = memorySink();
    await writeParams(sink, header, { count: 3000, at: groupAt }, 'json');
    const text = sink.writes.join('');
    const whole = { ...header, groups: Array.from({ length: 3000 }, (_, g) => groupAt(g)) };
    expect(text).toBe(JSON.stringify(whole, null, 2) + '\n');
    // Never one piece of it all: the text goes out as it is made.
    expect(sink.writes.length).toBeGreaterThan(10);
    const back = await parseParams(text, 'p.json');
    expect(back.groups).toHaveLength(3000);
    expect(back.groups?.[2999].key).toEqual(['T2999', '2024-01-31']);
    const none = memorySink();
    await writeParams(none, header, { count: 0, at: groupAt }, 'json');
    expect(none.writes.join('')).toBe(JSON.stringify({ ...header, groups: [] }, null, 2) + '\n');
  });

  it('writes the NDJSON layout as the header on one line, then one group a line (version 2), and reads it back', async () => {
    const sink = memorySink();
    await writeParams(sink, header, { count: 5, at: groupAt }, 'ndjson');
    const lines = sink.writes.join('').split('\n');
    expect(lines).toHaveLength(7);
    expect(JSON.parse(lines[0])).toEqual({ ...header, version: 2 });
    expect(lines.slice(1, 6).map((line) => JSON.parse(line))).toEqual(Array.from({ length: 5 }, (_, g) => groupAt(g)));
    const seen: string[] = [];
    const read = await readParamsText(sink.writes.join(''), 'p.ndjson', (group) => seen.push(group.key[0]));
    expect(read.layout).toBe('ndjson');
    expect(read.groups).toBe(5);
    expect(seen).toEqual(['T0', 'T1', 'T2', 'T3', 'T4']);
  });

  it('hands groups over as they come, and holds those of a hand-written file that come before its columns', async () => {
    const late = `{"groups": [${JSON.stringify(groupAt(0))}, ${JSON.stringify(groupAt(1))}], ${JSON.stringify(header).slice(1)}`;
    const seen: number[] = [];
    const read = await readParamsText(late, 'late.json', (_, i) => seen.push(i));
    expect(read.header.columns[0].name).toBe('close');
    expect(seen).toEqual([0, 1]);
  });

  it('names the line of a syntax error and the group of a bad one, in either layout', async () => {
    const lines = [JSON.stringify(header), JSON.stringify(groupAt(0)), '{"key": ["T1", "x"], "columns": [', JSON.stringify(groupAt(2))];
    expect(await problem(lines.join('\n'))).toMatch(/^p\.json:3: not a JSON parameter file/);
    const wrongKey = [JSON.stringify(header), JSON.stringify({ ...groupAt(0), key: ['T0'] })].join('\n');
    expect(await problem(wrongKey)).toMatch(/one value per "groupBy" column \(groups\[0\] has 1\)/);
    const wrongColumn = [JSON.stringify(header), JSON.stringify({ ...groupAt(0), columns: [{ name: 'open', count: 0 }] })].join('\n');
    expect(await problem(wrongColumn)).toMatch(/groups\[0\] \("T0", "2024-01-31"\)\.columns must name the same columns/);
    const twice = [JSON.stringify(header), JSON.stringify(groupAt(0)), JSON.stringify(groupAt(0))].join('\n');
    expect(await problem(twice)).toMatch(/groups\[1\] \("T0", "2024-01-31"\) appears twice/);
    const badValue = [JSON.stringify(header), JSON.stringify({ ...groupAt(0), columns: [{ name: 'close', count: -1 }] })].join('\n');
    expect(await problem(badValue)).toMatch(/groups\[0\]\.columns\[0\] \("close"\)\.count: /);
    expect(await problem(JSON.stringify({ ...header, groupBy: undefined }) + '\n' + JSON.stringify(groupAt(0)))).toMatch(/^p\.json:2: an object without "format" after a fit that is not per group/);
    // A mistake in the NDJSON header is named at its first group, before the groups after it are read.
    const badHeader = [JSON.stringify({ ...header, epsilon: -1 }), JSON.stringify(groupAt(0)), '{"key": ['].join('\n');
    expect(await problem(badHeader)).toMatch(/^p\.json: epsilon: expected a number ≥ 0/);
    // Each group of the NDJSON layout is named with its own line.
    expect(await problem([JSON.stringify(header), JSON.stringify(groupAt(0)), JSON.stringify({ ...groupAt(1), columns: [{ name: 'close', count: -1 }] })].join('\n'))).toMatch(/^p\.json:3: groups\[1\]\.columns\[0\] \("close"\)\.count: /);
    expect(await problem(JSON.stringify({ ...header, groups: [] }) + '\n' + JSON.stringify(groupAt(0)))).toMatch(/^p\.json:2: text after the parameter file's object/);
  });
});
