// Bad input, bad options, bad parameter files and bad files: each gives one
// line on stderr naming what and where, and a meaningful exit code; nothing
// already written is lost.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runFinorm } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();

interface Failure {
  args: string[];
  /** Files to create first (name → content); names in args refer to them. */
  files?: Record<string, string>;
  exit: number;
  message: RegExp;
}

function expectOneLine(stderr: string): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).toMatch(/^finorm: /);
  expect(stderr).not.toMatch(/^\s+at /m);
}

async function expectFailure({ args, files = {}, exit, message }: Failure): Promise<void> {
  const paths = Object.fromEntries(Object.entries(files).map(([name, content]) => [name, tmp.file(name, content)]));
  const r = await runFinorm(args.map((a) => paths[a] ?? a));
  expect(r.code, r.stderr).toBe(exit);
  expectOneLine(r.stderr);
  expect(r.stderr).toMatch(message);
}

const cases: Record<string, Failure> = {
  'unterminated quote': {
    args: ['layer', 'unterminated.csv'],
    files: { 'unterminated.csv': 'a,b\n1,2\n3,"4\n' },
    exit: 1,
    message: /unterminated\.csv:3: unterminated quoted field \(the quote opened on line 3 is never closed\)/,
  },
  'more fields than the header': {
    args: ['layer', 'more.csv'],
    files: { 'more.csv': 'a,b\n1,2\n3,4,5\n' },
    exit: 1,
    message: /more\.csv:3: expected 2 fields \(as in the header\), found 3/,
  },
  'fewer fields than the header': {
    args: ['layer', 'fewer.csv'],
    files: { 'fewer.csv': 'a,b\n1\n' },
    exit: 1,
    message: /fewer\.csv:2: expected 2 fields \(as in the header\), found 1/,
  },
  'a stray quote in an unquoted field': {
    args: ['layer', 'stray.csv'],
    files: { 'stray.csv': 'a,b\n1,2"x\n' },
    exit: 1,
    message: /stray\.csv:2: quote inside an unquoted field/,
  },
  'duplicate header names': {
    args: ['layer', 'dup.csv'],
    files: { 'dup.csv': 'a,a\n1,2\n' },
    exit: 1,
    message: /dup\.csv: duplicate column name "a" \(columns 1 and 2\)/,
  },
  'a line that is not JSON': {
    args: ['layer', 'bad.ndjson'],
    files: { 'bad.ndjson': '{"a":1,"b":2}\nnot json\n' },
    exit: 1,
    message: /bad\.ndjson:2: not valid JSON/,
  },
  'a JSON line that is not an object': {
    args: ['layer', 'array.ndjson'],
    files: { 'array.ndjson': '{"a":1,"b":2}\n[1,2]\n' },
    exit: 1,
    message: /array\.ndjson:2: expected a JSON object per line, got an array/,
  },
  'a JSON string as a feature value': {
    args: ['layer', '-c', 'a,b', 'string.ndjson'],
    files: { 'string.ndjson': '{"a":1,"b":2}\n{"a":"3","b":2}\n' },
    exit: 1,
    message: /string\.ndjson:2: column "a": value "3" is a JSON string, not a JSON number/,
  },
  'a JSON boolean, array or object as a feature value': {
    args: ['layer', '-c', 'a,b', 'object.ndjson'],
    files: { 'object.ndjson': '{"a":1,"b":2}\n{"a":1,"b":{"x":1}}\n' },
    exit: 1,
    message: /object\.ndjson:2: column "b": value .* is an object, not a number/,
  },
  'a key the first record lacks': {
    args: ['layer', 'newkey.ndjson'],
    files: { 'newkey.ndjson': '{"a":1,"b":2}\n{"a":1,"b":2,"c":3}\n' },
    exit: 1,
    message: /newkey\.ndjson:2: key "c" is not among the first record's keys/,
  },
  'non-numeric text': {
    args: ['layer', '-c', 'a,b', 'text.csv'],
    files: { 'text.csv': 'a,b\n1,2\nn/a,3\n' },
    exit: 1,
    message: /text\.csv:3: column "a": value "n\/a" is not a number/,
  },
  Infinity: { args: ['layer', '-c', 'a,b', 'inf.csv'], files: { 'inf.csv': 'a,b\n1,2\nInfinity,3\n' }, exit: 1, message: /inf\.csv:3: column "a": value "Infinity" is infinite/ },
  inf: { args: ['layer', '-c', 'a,b', 'inf2.csv'], files: { 'inf2.csv': 'a,b\n1,2\n-inf,3\n' }, exit: 1, message: /column "a": value "-inf" is infinite/ },
  hexadecimal: { args: ['layer', '-c', 'a,b', 'hex.csv'], files: { 'hex.csv': 'a,b\n1,2\n0x10,3\n' }, exit: 1, message: /hex\.csv:3: column "a": value "0x10" is hexadecimal/ },
  'thousands separators': {
    args: ['layer', '-c', 'a,b', 'thousands.csv'],
    files: { 'thousands.csv': 'a,b\n1,2\n"1,234",3\n' },
    exit: 1,
    message: /thousands\.csv:3: column "a": value "1,234" has thousands separators/,
  },
  percentages: { args: ['layer', '-c', 'a,b', 'pct.csv'], files: { 'pct.csv': 'a,b\n1,2\n5%,3\n' }, exit: 1, message: /pct\.csv:3: column "a": value "5%" is a percentage/ },
  'beyond float64': { args: ['layer', '-c', 'a,b', 'big.csv'], files: { 'big.csv': 'a,b\n1,2\n1e400,3\n' }, exit: 1, message: /big\.csv:3: column "a": value "1e400" is beyond the float64 range/ },
  'an unknown option': { args: ['layer', '--epsilom', '1'], exit: 2, message: /unknown option '--epsilom' \(did you mean --epsilon\?\)/ },
  'an unknown command': { args: ['lyaer'], exit: 2, message: /unknown command 'lyaer' \(did you mean layer\?\)/ },
  'a negative epsilon': { args: ['layer', '-e', '-1'], exit: 2, message: /--epsilon: expected --epsilon ≥ 0, got "-1"/ },
  'a NaN epsilon': { args: ['layer', '-e', 'NaN'], exit: 2, message: /--epsilon: expected --epsilon \(a finite decimal number\), got "NaN"/ },
  'a text epsilon': { args: ['layer', '-e', 'small'], exit: 2, message: /got "small"/ },
  'a column that does not exist': {
    args: ['layer', '-c', 'Prise', 'cols.csv'],
    files: { 'cols.csv': 'Price,Volume\n1,2\n' },
    exit: 2,
    message: /--columns: no column named "Prise" \(did you mean "Price"\?\); the columns are: Price, Volume/,
  },
  'no feature columns': {
    args: ['layer', 'words.csv'],
    files: { 'words.csv': 'ticker,name\nAAPL,Apple\n' },
    exit: 2,
    message: /no feature columns: none of the columns \(ticker, name\) holds only numbers/,
  },
  '--precision 0': { args: ['layer', '--precision', '0'], exit: 2, message: /--precision: expected --precision, a whole number from 1 to 17, got "0"/ },
  'conflicting options': { args: ['batch', '--params', 'x.json', '--save-params', 'y.json'], exit: 2, message: /--params and --save-params cannot be used together/ },
  'a parameter file that is not JSON': {
    args: ['batch', '--params', 'notjson.json', 'data.csv'],
    files: { 'notjson.json': 'mean: 3', 'data.csv': 'a\n1\n' },
    exit: 1,
    message: /notjson\.json:1: not a JSON parameter file/,
  },
  'a parameter file from a newer finorm': {
    args: ['batch', '--params', 'v9.json', 'data2.csv'],
    files: { 'v9.json': '{"format":"finorm-params","version":9,"columns":[]}', 'data2.csv': 'a\n1\n' },
    exit: 1,
    message: /v9\.json: parameter file version 9 is newer than this finorm reads \(version 2\); upgrade finorm/,
  },
  'a mistyped key in a parameter file': {
    args: ['batch', '--params', 'mistyped.json', 'data3.csv'],
    files: { 'mistyped.json': '{"format":"finorm-params","version":1,"columns":[{"name":"a","mean":"1","variance":1}]}', 'data3.csv': 'a\n1\n' },
    exit: 1,
    message: /mistyped\.json: columns\[0\] \("a"\)\.mean: expected number, received string/,
  },
  'an unknown key in a parameter file': {
    args: ['layer', '--params', 'gama.json', 'data4.csv'],
    files: { 'gama.json': '{"format":"finorm-params","version":1,"columns":[{"name":"a","gama":2}]}', 'data4.csv': 'a,b\n1,2\n' },
    exit: 1,
    message: /gama\.json: columns\[0\] \("a"\).*gama/,
  },
  'a missing key in a parameter file': {
    args: ['batch', '--params', 'nocolumns.json', 'data5.csv'],
    files: { 'nocolumns.json': '{"format":"finorm-params","version":1}', 'data5.csv': 'a\n1\n' },
    exit: 1,
    message: /nocolumns\.json: columns: missing \(expected an array\)/,
  },
  'parameter file columns the data lacks': {
    args: ['batch', '--params', 'other.json', 'data6.csv'],
    files: { 'other.json': '{"format":"finorm-params","version":1,"columns":[{"name":"zz","mean":1,"variance":1}]}', 'data6.csv': 'a\n1\n' },
    exit: 1,
    message: /other\.json has parameters for "zz", which the input does not have; the input's columns are: a/,
  },
  'a negative variance': {
    args: ['batch', '--params', 'negative.json', 'data7.csv'],
    files: { 'negative.json': '{"format":"finorm-params","version":1,"columns":[{"name":"a","mean":1,"variance":-1}]}', 'data7.csv': 'a\n1\n' },
    exit: 1,
    message: /negative\.json: columns\[0\] \("a"\)\.variance: expected a number ≥ 0/,
  },
  'a missing input file': { args: ['layer', '/nonexistent/prices.csv'], exit: 1, message: /cannot read \/nonexistent\/prices\.csv: no such file or directory \(ENOENT\)/ },
  'a directory as input': { args: ['layer', '/tmp'], exit: 1, message: /cannot read \/tmp: is a directory \(EISDIR\)/ },
  'output into a missing directory': {
    args: ['layer', '-o', '/nonexistent/dir/out.csv', 'ok.csv'],
    files: { 'ok.csv': 'a,b\n1,2\n' },
    exit: 1,
    message: /cannot write \/nonexistent\/dir\/out\.csv: no such file or directory \(ENOENT\)/,
  },
};

describe('one clear line and a meaningful exit code', () => {
  for (const [name, failure] of Object.entries(cases)) it(name, () => expectFailure(failure));
});

describe('inputs read by a documented rule', () => {
  it('an empty file is refused, exit 1, as by every command (a header alone is a table)', async () => {
    const empty = tmp.file('empty.csv', '');
    const r = await runFinorm(['layer', empty]);
    expect(r).toMatchObject({ code: 1, stdout: '', stderr: `finorm: ${empty}: the input is empty (no header, no rows); did a step before finorm fail?\n` });
  });

  it('a header-only file gives a header-only output, exit 0', async () => {
    const r = await runFinorm(['batch', tmp.file('header.csv', 'date,px\n')]);
    expect(r).toMatchObject({ code: 0, stdout: 'date,px\n', stderr: '' });
  });

  it('a header with an empty name is kept; the column is reachable by number', async () => {
    const r = await runFinorm(['layer', '-e', '0', '-c', '2-3', tmp.file('unnamed.csv', 'id,,c\nx,1,3\n')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('id,,c\nx,-1,1\n');
  });

  it('an NDJSON key a later record lacks is a missing value', async () => {
    const r = await runFinorm(['layer', '-e', '0'], { input: '{"a":1,"b":3}\n{"a":5}\n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('{"a":-1,"b":1}\n{"a":0,"b":null}\n');
  });

  it('scientific notation and surrounding spaces are numbers', async () => {
    const r = await runFinorm(['layer', '-e', '0'], { input: 'a,b\n-1.5e-7, 2.5E+12 \n' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('a,b\n-1,1\n');
  });
});

describe('nothing lost', () => {
  it('-o naming an input is refused before anything is touched', async () => {
    const input = tmp.file('self.csv', 'a,b\n1,2\n');
    const r = await runFinorm(['layer', '-o', input, input]);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr);
    expect(readFileSync(input, 'utf8')).toBe('a,b\n1,2\n');
  });

  it('a failure half-way leaves the previous output file untouched and no temporary file', async () => {
    const rows = Array.from({ length: 50_000 }, (_, i) => `${i},${i * 2}`).join('\n');
    const input = tmp.file('late-error.csv', `a,b\n${rows}\n1,oops\n`);
    const out = tmp.file('previous.csv', 'previous\n');
    const r = await runFinorm(['layer', '-o', out, input]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/late-error\.csv:50002: column "b": value "oops"/);
    expect(readFileSync(out, 'utf8')).toBe('previous\n');
    expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it.skipIf(!existsSync('/dev/full'))('a full disk is an error (exit 1), and a device given to -o is written in place, not replaced', async () => {
    const r = await runFinorm(['layer', '-o', '/dev/full', tmp.file('small.csv', 'a,b\n1,2\n')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot write \/dev\/full: no space left on device \(ENOSPC\)/);
    expect(statSync('/dev/full').isCharacterDevice()).toBe(true);
    const toNull = await runFinorm(['batch', '-o', '/dev/null', '--save-params', '/dev/null', tmp.file('small2.csv', 'a,b\n1,2\n')]);
    expect(toNull.code).toBe(0);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });
});

describe('bad rows: --on-error skip', () => {
  const input = 'date,px\nd1,1\nd2,oops\nd3,3\nd4,1,2\nd5,5\n';

  it('stops at the first bad row by default', async () => {
    const r = await runFinorm(['batch', '-c', 'px'], { input });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/<stdin>:3: column "px": value "oops" is not a number/);
  });

  it('skips bad rows, reports the first ones with their lines, and exits 0 (or 3 with --fail-on-skip)', async () => {
    const stats = `${tmp.dir}/skip.json`;
    const r = await runFinorm(['batch', '-c', 'px', '-e', '0', '--on-error', 'skip', '--stats', stats, '--summary'], { input });
    expect(r.code).toBe(0);
    // Rows 1, 3, 5 kept: mean 3, variance 8/3.
    const s = Math.sqrt(8 / 3);
    expect(r.stdout.trim().split('\n').map((line) => line.split(','))).toEqual([
      ['date', 'px'],
      ['d1', String(-2 / s)],
      ['d3', '0'],
      ['d5', String(2 / s)],
    ]);
    const summary = JSON.parse(readFileSync(stats, 'utf8')) as { rowsSkipped: number; skipped: { line: number; reason: string }[] };
    expect(summary.rowsSkipped).toBe(2);
    expect(summary.skipped.map((x) => x.line)).toEqual([3, 5]);
    expect(r.stderr).toMatch(/skipped/i);
    const strict = await runFinorm(['batch', '-c', 'px', '--on-error', 'skip', '--fail-on-skip', '-q'], { input });
    expect(strict.code).toBe(3);
  });
});

describe('bad values: --on-error null', () => {
  const input = 'date,px,vol\nd1,1,10\nd2,oops,20\nd3,3,30\nd4,1,2,extra\nd5,5,n.a.\n';

  for (const threads of ['1', '2']) {
    it(`makes a value that is not a number missing and keeps its row; skips a record of the wrong shape (threads ${threads})`, async () => {
      const stats = `${tmp.dir}/null-${threads}.json`;
      const r = await runFinorm(['batch', '-c', 'px,vol', '-e', '0', '--on-error', 'null', '--threads', threads, '--stats', stats, '--summary'], {
        input,
        env: { FINORM_PIECE_BYTES: '16' },
      });
      expect(r.code).toBe(0);
      // px: 1, 3, 5 are present (mean 3, variance 8/3); vol: 10, 20, 30 (mean 20, variance 200/3).
      const s = Math.sqrt(8 / 3);
      const v = Math.sqrt(200 / 3);
      expect(r.stdout.trim().split('\n').map((line) => line.split(','))).toEqual([
        ['date', 'px', 'vol'],
        ['d1', String(-2 / s), String(-10 / v)],
        ['d2', '', '0'],
        ['d3', '0', String(10 / v)],
        ['d5', String(2 / s), ''],
      ]);
      type Place = { line: number; column?: string; reason: string };
      const summary = JSON.parse(readFileSync(stats, 'utf8')) as {
        rowsSkipped: number;
        skipped: Place[];
        valuesMadeMissing: number;
        madeMissing: Place[];
        execution: { passes: { piecesPerWorker: number[] }[] };
      };
      // With two threads the pieces were decoded on workers, and their counts came back to be merged.
      const onWorkers = summary.execution.passes.some((pass) => pass.piecesPerWorker.some((n) => n > 0));
      expect(onWorkers).toBe(threads === '2');
      expect(summary.rowsSkipped).toBe(1);
      expect(summary.skipped.map((x) => x.line)).toEqual([5]);
      expect(summary.valuesMadeMissing).toBe(2);
      expect(summary.madeMissing).toEqual([
        { file: '<stdin>', line: 3, column: 'px', reason: 'value "oops" is not a number' },
        { file: '<stdin>', line: 6, column: 'vol', reason: 'value "n.a." is not a number' },
      ]);
      expect(r.stderr).toMatch(/1 skipped, 2 values made missing/);
      expect(r.stderr).toMatch(/made missing <stdin>:3: column "px": value "oops" is not a number/);
    });
  }

  it('exits 3 with --fail-on-skip when a value was made missing, and makes NDJSON values missing too', async () => {
    const strict = await runFinorm(['layer', '-c', 'px,vol', '--on-error', 'null', '--fail-on-skip', '-q'], { input: 'date,px,vol\nd1,1,x\n' });
    expect(strict.code).toBe(3);
    const ndjson = await runFinorm(['layer', '-c', 'a,b,c', '--on-error', 'null', '-e', '0'], { input: '{"a":1,"b":"2","c":3}\n' });
    expect(ndjson.code).toBe(0);
    expect(ndjson.stdout).toBe('{"a":-1,"b":null,"c":1}\n');
  });
});
