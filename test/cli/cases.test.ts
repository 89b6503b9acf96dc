// Golden cases: every folder in fixtures/cases/ is one run of the built CLI
// (see fixtures/cases/README.md). Expected outputs come from an independent
// reference (fixtures/reference/reference.py, exact rational arithmetic).
// Text cells are compared exactly; numbers within 1e-12 (relative, or
// absolute near 0); JSON by key, numbers likewise.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runFinorm } from '../support/cli.js';

const CASES = join(FIXTURES, 'cases');
const TOLERANCE = 1e-12;

/** Shell-like words: spaces separate, quotes group, a backslash escapes one character. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  let started = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else word += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      started = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      started = true;
    } else if (c === ' ' || c === '\t') {
      if (started) words.push(word);
      word = '';
      started = false;
    } else {
      word += c;
      started = true;
    }
  }
  if (started) words.push(word);
  return words;
}

const isNumeric = (text: string): boolean => /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text);

function expectNumber(actual: number, expected: number, where: string): void {
  const difference = Math.abs(actual - expected);
  expect(difference, `${where}: ${actual} vs ${expected}`).toBeLessThanOrEqual(TOLERANCE * Math.max(1, Math.abs(expected)));
}

function expectCell(actual: string, expected: string, where: string): void {
  if (isNumeric(expected) && isNumeric(actual)) expectNumber(Number(actual), Number(expected), where);
  else expect(actual, where).toBe(expected);
}

function expectDelimited(actual: string, expected: string, delimiter: string): void {
  const read = (text: string) => parseCsv(text, { delimiter, relax_quotes: false }) as string[][];
  const a = read(actual);
  const e = read(expected);
  expect(a.length, 'row count').toBe(e.length);
  expect(a[0], 'header').toEqual(e[0]);
  e.forEach((row, r) => {
    expect(a[r].length, `row ${r + 1} width`).toBe(row.length);
    row.forEach((cell, c) => expectCell(a[r][c], cell, `row ${r + 1}, column ${e[0][c]}`));
  });
}

function expectJsonValue(actual: unknown, expected: unknown, where: string): void {
  if (typeof expected === 'number') {
    expect(typeof actual, where).toBe('number');
    expectNumber(actual as number, expected, where);
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual), where).toBe(true);
    expect((actual as unknown[]).length, `${where} length`).toBe(expected.length);
    expected.forEach((value, i) => expectJsonValue((actual as unknown[])[i], value, `${where}[${i}]`));
  } else if (expected !== null && typeof expected === 'object') {
    // Keys the expectation names must match; finorm may write more (generator, meanLo, γ, β).
    for (const [key, value] of Object.entries(expected)) {
      expectJsonValue((actual as Record<string, unknown>)[key], value, `${where}.${key}`);
    }
  } else {
    expect(actual, where).toEqual(expected);
  }
}

function expectNdjson(actual: string, expected: string): void {
  const lines = (text: string) => text.split('\n').filter((line) => line !== '');
  const a = lines(actual);
  const e = lines(expected);
  expect(a.length, 'record count').toBe(e.length);
  e.forEach((line, i) => {
    const want = JSON.parse(line) as Record<string, unknown>;
    const got = JSON.parse(a[i]) as Record<string, unknown>;
    expect(Object.keys(got), `record ${i + 1} keys`).toEqual(Object.keys(want));
    expectJsonValue(got, want, `record ${i + 1}`);
  });
}

const cases = readdirSync(CASES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

describe('golden cases (fixtures/cases)', () => {
  it('has cases to run', () => expect(cases.length).toBeGreaterThanOrEqual(15));

  for (const name of cases) {
    it(name, async () => {
      const dir = join(CASES, name);
      const read = (file: string) => readFileSync(join(dir, file), 'utf8');
      const args = shellWords(read('cmd').trim());
      const result = await runFinorm(args, { cwd: dir });
      const exit = existsSync(join(dir, 'expected-exit')) ? Number(read('expected-exit').trim()) : 0;
      expect(result.code, result.stderr).toBe(exit);
      if (exit !== 0) {
        expect(result.stderr).toMatch(new RegExp(read('expected-stderr').trim()));
        expect(result.stderr.trimEnd().split('\n'), 'one line on stderr').toHaveLength(1);
        expect(result.stderr).not.toMatch(/^\s+at /m);
        return;
      }
      expect(result.stderr).toBe('');
      if (existsSync(join(dir, 'expected.csv'))) expectDelimited(result.stdout, read('expected.csv'), ',');
      else if (existsSync(join(dir, 'expected.tsv'))) expectDelimited(result.stdout, read('expected.tsv'), '\t');
      else if (existsSync(join(dir, 'expected.ndjson'))) expectNdjson(result.stdout, read('expected.ndjson'));
      else if (existsSync(join(dir, 'expected.json'))) expectJsonValue(JSON.parse(result.stdout), JSON.parse(read('expected.json')), 'params');
      else throw new Error(`${name}: no expected output file`);
    });
  }
});

describe('shellWords', () => {
  it('splits like a shell for the cases it is used on', () => {
    expect(shellWords('layer -c "Price,52 Week Low" input.csv')).toEqual(['layer', '-c', 'Price,52 Week Low', 'input.csv']);
    expect(shellWords("fit -c Market\\ Cap,x '' y")).toEqual(['fit', '-c', 'Market Cap,x', '', 'y']);
  });
});
