// Golden cases: every folder in fixtures/cases/ is one run of the built CLI
// (layout and rules in fixtures/cases/README.md). Expected outputs come from an
// independent reference (fixtures/reference/reference.py, exact rational
// arithmetic), never from finorm; error cases are written by hand.
//
// Comparison: CSV/TSV and NDJSON are parsed, never compared as text. Column
// order and keys are exact; text cells are byte for byte; a missing value must
// stay missing; numbers agree within 1e-12 (relative, or absolute for values
// below 1 in magnitude). Quantiles from `stats` are estimates and get the
// documented 0.1% instead. JSON documents are compared key by key.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { FIXTURES, runFinorm } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();

const CASES = join(FIXTURES, 'cases');
const PENDING = join(FIXTURES, 'cases-pending');
const TOLERANCE = 1e-12;
/** `finorm stats` estimates quantiles within 0.1% (relative) of the exact value (README, stats). */
const QUANTILE_TOLERANCE = 1e-3;
/**
 * `meanLo` is documented as the low part of the mean: mean + meanLo is the
 * fitted mean with an error of about 1e-16 of the column's spread (not of
 * its level). It is held to that: within 4·2^-52·std of the exact rounding
 * error of `mean`.
 */
const MEAN_LO_SPREADS = 4 * Number.EPSILON;
/** Keys finorm writes that depend on its version or on how it ran, not on the data. */
const IGNORED_KEYS = new Set(['generator', 'execution']);

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
  if (quote !== undefined) throw new Error(`unclosed ${quote} in ${JSON.stringify(line)}`);
  if (started) words.push(word);
  return words;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * A cell the reference computed: a number written in JavaScript's shortest
 * form. Any other numeric-looking text ("159.0", "1.50") is a pass-through
 * cell and must come back byte for byte.
 */
function isComputedNumber(text: string): boolean {
  return DECIMAL.test(text) && (text === '-0' || String(Number(text)) === text);
}

function expectNumber(actual: number, expected: number, where: string, tolerance = TOLERANCE): void {
  const difference = Math.abs(actual - expected);
  expect(difference, `${where}: got ${actual}, expected ${expected}`).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(expected)));
}

function expectCell(actual: string, expected: string, where: string, tolerance: number): void {
  if (isComputedNumber(expected) && DECIMAL.test(actual)) expectNumber(Number(actual), Number(expected), where, tolerance);
  else expect(actual, where).toBe(expected);
}

/** `stats --csv` quantile columns are named p1, p25, p99.9. */
const isQuantileColumn = (name: string): boolean => /^p\d+(\.\d+)?$/.test(name);

function expectDelimited(actual: string, expected: string, delimiter: string): void {
  const read = (text: string) => parseCsv(text, { delimiter, relax_quotes: false }) as string[][];
  const a = read(actual);
  const e = read(expected);
  expect(a.length, 'record count').toBe(e.length);
  e.forEach((row, r) => {
    expect(a[r].length, `record ${r + 1} width`).toBe(row.length);
    row.forEach((cell, c) => {
      const tolerance = isQuantileColumn(e[0][c]) ? QUANTILE_TOLERANCE : TOLERANCE;
      expectCell(a[r][c], cell, `record ${r + 1}, field ${c + 1} (${e[0][c]})`, tolerance);
    });
  });
}

/** A number beyond the double range, as parameter files write a variance or M2 ("4.5e+616"). */
const WIDE_DECIMAL = /^(\d(?:\.\d+)?)e([+-]\d+)$/;

/** Both texts of numbers beyond the double range, within the tolerance (relative) of each other. */
function expectWideDecimal(actual: unknown, expected: string, where: string, tolerance: number): void {
  const e = WIDE_DECIMAL.exec(expected) as RegExpExecArray;
  const a = typeof actual === 'string' ? WIDE_DECIMAL.exec(actual) : null;
  expect(a, `${where}: got ${String(actual)}, expected the text ${expected}`).not.toBeNull();
  const ratio = (Number((a as RegExpExecArray)[1]) / Number(e[1])) * 10 ** (Number((a as RegExpExecArray)[2]) - Number(e[2]));
  expect(Math.abs(ratio - 1), `${where}: got ${String(actual)}, expected ${expected}`).toBeLessThanOrEqual(tolerance);
}

/** √ of a variance written as a number or as the text of one beyond the double range. */
function sqrtOfVariance(variance: number | string): number {
  const wide = typeof variance === 'string' ? WIDE_DECIMAL.exec(variance) : null;
  if (wide === null) return Math.sqrt(Number(variance));
  return 10 ** ((Math.log10(Number(wide[1])) + Number(wide[2])) / 2);
}

function expectJsonValue(actual: unknown, expected: unknown, where: string, tolerance = TOLERANCE): void {
  if (typeof expected === 'number') {
    expect(typeof actual, `${where} is a number`).toBe('number');
    expectNumber(actual as number, expected, where, tolerance);
  } else if (typeof expected === 'string' && WIDE_DECIMAL.test(expected)) {
    expectWideDecimal(actual, expected, where, tolerance);
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual), `${where} is an array`).toBe(true);
    expect((actual as unknown[]).length, `${where} length`).toBe(expected.length);
    expected.forEach((value, i) => expectJsonValue((actual as unknown[])[i], value, `${where}[${i}]`, tolerance));
  } else if (expected !== null && typeof expected === 'object') {
    expect(actual !== null && typeof actual === 'object' && !Array.isArray(actual), `${where} is an object`).toBe(true);
    const got = actual as Record<string, unknown>;
    const keys = Object.keys(got).filter((key) => !IGNORED_KEYS.has(key));
    expect(keys, `${where} keys`).toEqual(Object.keys(expected));
    for (const [key, value] of Object.entries(expected)) {
      if (key === 'meanLo') expectMeanLo(got[key], value as number, (expected as { variance: number | string }).variance, where);
      else expectJsonValue(got[key], value, `${where}.${key}`, key === 'quantiles' ? QUANTILE_TOLERANCE : tolerance);
    }
  } else {
    expect(actual, where).toEqual(expected);
  }
}

function expectMeanLo(actual: unknown, expected: number, variance: number | string, where: string): void {
  expect(typeof actual, `${where}.meanLo is a number`).toBe('number');
  const difference = Math.abs((actual as number) - expected);
  expect(difference, `${where}.meanLo: got ${String(actual)}, expected ${expected}`).toBeLessThanOrEqual(MEAN_LO_SPREADS * sqrtOfVariance(variance));
}

function expectNdjson(actual: string, expected: string): void {
  const lines = (text: string) => text.split('\n').filter((line) => line !== '');
  const a = lines(actual);
  const e = lines(expected);
  expect(a.length, 'record count').toBe(e.length);
  e.forEach((line, i) => expectJsonValue(JSON.parse(a[i]), JSON.parse(line), `record ${i + 1}`));
}

function expectOutput(dir: string, stdout: string): void {
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  const expected = readdirSync(dir).filter((file) => file.startsWith('expected.'));
  expect(expected, 'exactly one expected.* file').toHaveLength(1);
  const [file] = expected;
  if (file === 'expected.csv') expectDelimited(stdout, read(file), ',');
  else if (file === 'expected.tsv') expectDelimited(stdout, read(file), '\t');
  else if (file === 'expected.ndjson') expectNdjson(stdout, read(file));
  else if (file === 'expected.json') expectJsonValue(JSON.parse(stdout), JSON.parse(read(file)), 'document');
  else throw new Error(`${dir}: unknown expected file ${file}`);
}

/** The case's input.* file when cmd does not name it: it goes to finorm's stdin. */
function stdinOf(dir: string, args: string[]): Buffer | undefined {
  const input = readdirSync(dir).find((file) => file.startsWith('input.'));
  if (input === undefined || args.includes(input)) return undefined;
  return readFileSync(join(dir, input));
}

function caseNames(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
}

const cases = caseNames(CASES);

/** Commands that read tables, and so take --threads; those that take --stats too. */
const READS_TABLES = new Set(['layer', 'batch', 'fit', 'stats']);
const WRITES_STATS = new Set(['layer', 'batch', 'fit']);

/**
 * Each case runs on both drivers against the same expected output: the main
 * thread alone (--threads 1), and two workers with pieces of 64 bytes, so
 * that records, quotes and errors fall across pieces. The second run shows
 * (--stats, or stats --json) that the workers did process the pieces.
 */
const DRIVERS = [
  { name: 'one thread', threads: '1', env: {} },
  { name: 'two workers, 64-byte pieces', threads: '2', env: { FINORM_PIECE_BYTES: '64' } },
] as const;

/** The record of how a run went (--stats' or stats --json's `execution`): the two workers processed every piece. */
function expectWorkersRan(execution: { threads: number; passes: { workers: number; pieces: number; piecesPerWorker: number[]; piecesOnMainThread: number }[] }): void {
  expect(execution.threads).toBe(2);
  for (const pass of execution.passes) {
    expect(pass.workers).toBe(2);
    expect(pass.piecesOnMainThread).toBe(0);
    expect(pass.piecesPerWorker.reduce((a, b) => a + b, 0)).toBe(pass.pieces);
    if (pass.pieces >= 2) for (const pieces of pass.piecesPerWorker) expect(pieces).toBeGreaterThan(0);
  }
}

/**
 * Causal windows and --sorted carry state from row to row, so they run on the
 * main thread by design; the second run shows that they read the same small
 * pieces there, every one of them.
 */
function expectPiecesOnMainThread(execution: { passes: { workers: number; pieces: number; piecesOnMainThread: number }[] }): void {
  for (const pass of execution.passes) {
    expect(pass.pieces).toBeGreaterThanOrEqual(2);
    expect(pass.piecesOnMainThread).toBe(pass.pieces);
  }
}
const SEQUENTIAL = ['--window', '-w', '--expanding', '--sorted'];

describe('golden cases (fixtures/cases)', () => {
  it('has cases to run', () => expect(cases.length).toBeGreaterThanOrEqual(20));

  for (const name of cases) {
    for (const driver of DRIVERS) {
      const dir = join(CASES, name);
      const read = (file: string) => readFileSync(join(dir, file), 'utf8');
      const words = shellWords(read('cmd').trim());
      if (!READS_TABLES.has(words[0]) && driver.threads !== '1') continue;
      it(`${name} (${driver.name})`, async () => {
        const exit = existsSync(join(dir, 'expected-exit')) ? Number(read('expected-exit').trim()) : 0;
        const args = READS_TABLES.has(words[0]) ? [words[0], '--threads', driver.threads, ...words.slice(1)] : words;
        const statsFile = driver.threads === '2' && exit === 0 && WRITES_STATS.has(words[0]) ? join(tmp.dir, `${name}.stats.json`) : undefined;
        if (statsFile) args.push('--stats', statsFile);
        const result = await runFinorm(args, { cwd: dir, input: stdinOf(dir, words), env: driver.env });
        expect(result.code, result.stderr).toBe(exit);
        if (exit !== 0) {
          const lines = result.stderr.trimEnd().split('\n');
          expect(lines, 'one line on stderr').toHaveLength(1);
          expect(lines[0]).toMatch(/^finorm: /);
          expect(result.stderr).not.toMatch(/^\s+at /m);
          expect(result.stderr).toMatch(new RegExp(read('expected-stderr').trim()));
          return;
        }
        expect(result.stderr).toBe('');
        expectOutput(dir, result.stdout);
        if (statsFile) {
          const { execution } = JSON.parse(readFileSync(statsFile, 'utf8'));
          if (words.some((w) => SEQUENTIAL.includes(w))) expectPiecesOnMainThread(execution);
          else expectWorkersRan(execution);
        }
        if (driver.threads === '2' && words[0] === 'stats' && words.includes('--json')) expectWorkersRan(JSON.parse(result.stdout).execution);
      });
    }
  }

  // Cases that show a known finorm bug (see fixtures/cases/README.md): listed, not run.
  for (const name of caseNames(PENDING)) it.todo(`pending: ${name}`);
});

describe('the comparison itself', () => {
  it('splits cmd like a shell for the cases it is used on', () => {
    expect(shellWords('layer -c "Price,52 Week Low" input.csv')).toEqual(['layer', '-c', 'Price,52 Week Low', 'input.csv']);
    expect(shellWords("fit -c Market\\ Cap,x '' y")).toEqual(['fit', '-c', 'Market Cap,x', '', 'y']);
    expect(shellWords(`layer -c '"Price, USD",EPS'`)).toEqual(['layer', '-c', '"Price, USD",EPS']);
  });

  it('fails on a number off by more than the tolerance, a changed text cell, or a lost missing value', () => {
    const expected = 'id,x\nMMM,0.5\nAOS,\nABT,159.0\n';
    expect(() => expectDelimited('id,x\nMMM,0.5000000000001\nAOS,\nABT,159.0\n', expected, ',')).not.toThrow();
    expect(() => expectDelimited('id,x\nMMM,0.50000000001\nAOS,\nABT,159.0\n', expected, ',')).toThrow();
    expect(() => expectDelimited('id,x\nMMM,0.5\nAOS,0\nABT,159.0\n', expected, ',')).toThrow();
    expect(() => expectDelimited('id,x\nMMM,0.5\nAOS,\nABT,159\n', expected, ',')).toThrow();
    expect(() => expectDelimited('x,id\n0.5,MMM\n,AOS\n159.0,ABT\n', expected, ',')).toThrow();
  });

  it('compares JSON key by key: a missing, extra or reordered key fails, null stays null', () => {
    const expected = { name: 'Price', count: 3, mean: 2.5, min: null };
    expect(() => expectJsonValue({ name: 'Price', count: 3, mean: 2.5 + 1e-13, min: null, generator: 'finorm 0.1.0' }, expected, 'd')).not.toThrow();
    expect(() => expectJsonValue({ name: 'Price', count: 3, mean: 2.5 }, expected, 'd')).toThrow();
    expect(() => expectJsonValue({ name: 'Price', count: 3, mean: 2.5, min: null, extra: 1 }, expected, 'd')).toThrow();
    expect(() => expectJsonValue({ name: 'Price', count: 3, mean: 2.5, min: 0 }, expected, 'd')).toThrow();
    expect(() => expectJsonValue({ count: 3, name: 'Price', mean: 2.5, min: null }, expected, 'd')).toThrow();
  });

  it('compares numbers beyond the double range as numbers, not as text', () => {
    expect(() => expectJsonValue({ m2: '2.0000000000000003e+616' }, { m2: '2e+616' }, 'd')).not.toThrow();
    expect(() => expectJsonValue({ m2: '2.00001e+616' }, { m2: '2e+616' }, 'd')).toThrow();
    expect(() => expectJsonValue({ m2: '2e+615' }, { m2: '2e+616' }, 'd')).toThrow();
    expect(() => expectJsonValue({ m2: null }, { m2: '2e+616' }, 'd')).toThrow();
  });

  it('gives quantiles their 0.1%, and nothing else', () => {
    expect(() => expectJsonValue({ quantiles: { '0.5': 100.05 } }, { quantiles: { '0.5': 100 } }, 'd')).not.toThrow();
    expect(() => expectJsonValue({ quantiles: { '0.5': 100.2 } }, { quantiles: { '0.5': 100 } }, 'd')).toThrow();
    expect(() => expectJsonValue({ mean: 100.05 }, { mean: 100 }, 'd')).toThrow();
  });
});
