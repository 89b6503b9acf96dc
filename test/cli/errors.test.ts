// Bad input, bad options, bad parameter files and bad files, beyond the cases
// of bad-input.test.ts: each failure is exactly one line on stderr, naming
// file, line, column and value where there are some, with a meaningful exit
// code and nothing on stdout that could be mistaken for a result.

import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, FIXTURES, REPO, runFinorm, type RunResult } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();

/** The run failed with `exit` and printed exactly `finorm: <message>` and nothing else. */
function expectFailure(r: RunResult, exit: number, message: string): void {
  expect(r.code, r.stderr).toBe(exit);
  expect(r.stderr).toBe(`finorm: ${message}\n`);
}

const params = (columns: string, extra = ''): string => `{"format":"finorm-params","version":1${extra},"columns":${columns}}`;

describe('malformed NDJSON', () => {
  it('a boolean feature value names line, column and value', async () => {
    const r = await runFinorm(['layer', '-c', 'a,b'], { input: '{"a":1,"b":2}\n{"a":true,"b":2}\n' });
    expectFailure(r, 1, '<stdin>:2: column "a": value "true" is a boolean, not a number');
    // The rows before the bad one are written; the bad one and what follows are not.
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
  });

  it('an array feature value names line, column and value', async () => {
    const r = await runFinorm(['layer', '-c', 'a,b'], { input: '{"a":1,"b":2}\n{"a":[1],"b":2}\n' });
    expectFailure(r, 1, '<stdin>:2: column "a": value "[1]" is an array, not a number');
  });

  it('a number beyond the float64 range is an error, not Infinity', async () => {
    const path = tmp.file('overflow.ndjson', '{"x":"a","a":1,"b":2}\n{"x":"a","a":-1e400,"b":2}\n');
    const r = await runFinorm(['layer', '-c', 'a,b', path]);
    expectFailure(r, 1, `${path}:2: column "a": value "-1e400" is beyond the float64 range`);
  });

  it('fit refuses 1e400 instead of writing a parameter file full of nulls', async () => {
    // JSON.parse reads 1e400 as Infinity; fit used to write "mean": null and exit 0.
    const r = await runFinorm(['fit', '-c', 'a,b'], { input: '{"a":1,"b":2}\n{"a":1e400,"b":3}\n' });
    expectFailure(r, 1, '<stdin>:2: column "a": value "1e400" is beyond the float64 range');
    expect(r.stdout).toBe('');
  });

  it('1e400 in a pass-through key is refused too: JSON cannot write it back', async () => {
    const r = await runFinorm(['layer', '-c', 'a,b'], { input: '{"a":1,"b":2,"note":1}\n{"a":1,"b":2,"note":2e999}\n' });
    expectFailure(r, 1, '<stdin>:2: column "note": value "2e999" is beyond the float64 range');
  });

  it('under --on-error skip, an out-of-range number skips its row', async () => {
    const r = await runFinorm(['fit', '-c', 'a', '--on-error', 'skip', '-q'], { input: '{"a":1}\n{"a":1e400}\n{"a":3}\n' });
    expect(r.code, r.stderr).toBe(0);
    const fit = JSON.parse(r.stdout) as { columns: { count: number; mean: number; variance: number }[] };
    expect(fit.columns[0]).toMatchObject({ count: 2, mean: 2, variance: 1 });
  });

  it('a first record that is not an object cannot give the columns', async () => {
    const r = await runFinorm(['layer', '-f', 'ndjson'], { input: '[1,2]\n{"a":1}\n' });
    expectFailure(r, 1, '<stdin>:1: cannot read the first record: expected a JSON object per line, got an array');
  });

  it('a top-level null or string is not a record', async () => {
    const nullLine = await runFinorm(['layer'], { input: '{"a":1,"b":2}\nnull\n' });
    expectFailure(nullLine, 1, '<stdin>:2: expected a JSON object per line, got null');
    const stringLine = await runFinorm(['layer'], { input: '{"a":1,"b":2}\n"x"\n' });
    expectFailure(stringLine, 1, '<stdin>:2: expected a JSON object per line, got a string');
  });
});

describe('malformed CSV', () => {
  it('two empty header names are duplicates', async () => {
    const r = await runFinorm(['layer'], { input: 'x,,\n1,2,3\n' });
    expectFailure(r, 1, '<stdin>: duplicate column name "" (columns 2 and 3); rename one, or read with --no-header and select columns by number');
  });

  it('a wrong field count after a header with a line break inside quotes names the physical line', async () => {
    const r = await runFinorm(['layer', '-c', 'a'], { input: 'a,"b\nc",d\n1,2,3\n4,5,6,7\n' });
    expectFailure(r, 1, '<stdin>:4: expected 3 fields (as in the header), found 4');
  });

  it('only the first 1,000 rows decide which columns are features: later text is an error, not a silent pass-through', async () => {
    // Column a holds numbers in rows 1..1000 and text in row 1001 (line 1002).
    const rows = Array.from({ length: 1000 }, (_, i) => `${i + 1},1`).join('\n');
    const path = tmp.file('late-text.csv', `a,b\n${rows}\nx,1\n`);
    const r = await runFinorm(['layer', path]);
    expectFailure(r, 1, `${path}:1002: column "a": value "x" is not a number`);
  });
});

describe('values read by the documented rule', () => {
  it('a value below the smallest subnormal (1e-400) reads as 0', async () => {
    // Column a = (0, 2): mean 1, population variance 1, so z = (−1, 1) with ε = 0.
    const r = await runFinorm(['batch', '-e', '0'], { input: 'a\n1e-400\n2\n' });
    expect(r).toMatchObject({ code: 0, stdout: 'a\n-1\n1\n', stderr: '' });
  });

  it('an NDJSON string listed in --na is missing', async () => {
    const r = await runFinorm(['layer', '-e', '0', '-c', 'a,b,c'], { input: '{"a":1,"b":3,"c":"NA"}\n' });
    expect(r).toMatchObject({ code: 0, stdout: '{"a":-1,"b":1,"c":null}\n', stderr: '' });
  });
});

describe('options', () => {
  it('--fail-on-skip without --on-error skip is refused (it would do nothing)', async () => {
    const r = await runFinorm(['layer', '--fail-on-skip', '-q'], { input: 'a,b\n1,2\n' });
    expectFailure(r, 2, '--fail-on-skip needs --on-error skip or null');
    expect(r.stdout).toBe('');
  });

  const data = tmp.file('ab.csv', 'a,b\n1,2\n3,5\n');
  const cases: [string, string[], string][] = [
    ['stats --json with --csv', ['stats', '--json', '--csv', data], '--json and --csv cannot be used together: choose one output format'],
    ['--window with --expanding', ['batch', '--window', '3', '--expanding', data], '--window and --expanding cannot be used together: choose one'],
    ['--unseen without --params', ['batch', '--unseen', 'global', '-g', 'a', data], '--unseen needs --params: it says what to do with a group the parameter file lacks'],
    ['--sorted without --group-by', ['batch', '--sorted', data], '--sorted needs --group-by: it says the input is sorted by the groups'],
    ['--fail-on-skip with --on-error stop', ['stats', '--fail-on-skip', '--on-error', 'stop', data], '--fail-on-skip needs --on-error skip or null'],
    ['help for a command that does not exist', ['help', 'nosuch'], "unknown command 'nosuch'"],
    ['help for a mistyped command', ['help', 'lyer'], "unknown command 'lyer' (did you mean layer?)"],
    ['an empty --columns list', ['layer', '-c', '', data], '--columns: the list is empty; name at least one column'],
    ['--exclude leaving no features', ['layer', '-x', 'a,b', data], '--exclude leaves no feature columns: it excludes every one of "a", "b"'],
    ['--group-by taking the only numeric column', ['batch', '-g', 'a', '-x', 'b', data], 'no feature columns: the only numeric ones, "a", are --group-by columns; name the features with --columns'],
    ['a column number out of range', ['layer', '-c', '3', data], '--columns: column 3 in "3" is out of range; the input has 2 columns'],
    ['column 0', ['layer', '-c', '0', data], '--columns: column 0 in "0" is out of range; the input has 2 columns'],
    ['a backwards range', ['layer', '-c', '2-1', data], '--columns: range "2-1" runs backwards'],
    ['--precision 18', ['layer', '--precision', '18', data], '--precision: expected --precision, a whole number from 1 to 17, got "18"'],
    ['--epsilon 1e400', ['layer', '-e', '1e400', data], '--epsilon: expected --epsilon (a finite decimal number), got "1e400"'],
    ['--epsilon Infinity', ['layer', '-e', 'Infinity', data], '--epsilon: expected --epsilon (a finite decimal number), got "Infinity"'],
    ['--epsilon in hexadecimal', ['fit', '-e', '0x10', data], '--epsilon: expected --epsilon (a finite decimal number), got "0x10"'],
    ['an empty --epsilon', ['batch', '-e', '', data], '--epsilon: expected --epsilon (a finite decimal number), got ""'],
    ['an unknown --format', ['layer', '-f', 'xml', data], "option '-f, --format <format>' argument 'xml' is invalid. Allowed choices are csv, tsv, ndjson, parquet."],
    ['a two-character delimiter', ['layer', '-d', 'ab', data], '--delimiter: expected one character (or tab, \\t, semicolon, pipe), got "ab"'],
    ['a mistyped merge option', ['merge', '--outptu', 'x'], "unknown option '--outptu' (did you mean --output?)"],
    ['a mistyped batch option', ['batch', '--save-param', 'x'], "unknown option '--save-param' (did you mean --save-params?)"],
    ['a mistyped stats option', ['stats', '--quantile', '0.5'], "unknown option '--quantile' (did you mean --quantiles?)"],
    ['--output and --save-params naming one file', ['batch', '-o', join(tmp.dir, 'same.out'), '--save-params', join(tmp.dir, 'same.out'), data], `--output and --save-params name the same file, ${join(tmp.dir, 'same.out')}; give each its own file`],
    ['--output and --stats naming one file', ['layer', '-o', join(tmp.dir, 'same2.out'), '--stats', join(tmp.dir, 'same2.out'), data], `--output and --stats name the same file, ${join(tmp.dir, 'same2.out')}; give each its own file`],
  ];
  for (const [name, args, message] of cases) {
    it(`${name}: exit 2`, async () => {
      const r = await runFinorm(args);
      expectFailure(r, 2, message);
      expect(r.stdout).toBe('');
    });
  }

  it('refusing two outputs on one file writes neither', async () => {
    const same = join(tmp.dir, 'same3.out');
    const previous = tmp.file('same3.out', 'previous\n');
    const clash = await runFinorm(['batch', '-o', same, '--save-params', previous, data]);
    expect(clash.code).toBe(2);
    expect(readFileSync(same, 'utf8')).toBe('previous\n');
  });

  it('--columns that differ from the parameter file: exit 2 naming both sides', async () => {
    const fit = tmp.file('fit-a.json', params('[{"name":"a","mean":1,"variance":1}]'));
    const r = await runFinorm(['batch', '--params', fit, '-c', 'b', data]);
    expectFailure(r, 2, `the selected features do not match the parameter file: ${fit} has no parameters for "b"; --columns leaves out "a", which ${fit} has`);
  });

  it('/dev/null may take several outputs', async () => {
    const r = await runFinorm(['batch', '-o', '/dev/null', '--save-params', '/dev/null', '--stats', '/dev/null', data]);
    expect(r).toMatchObject({ code: 0, stderr: '' });
  });
});

describe('parameter files', () => {
  const data = tmp.file('pa.csv', 'a,b\n1,2\n3,5\n');
  const cases: [string, string, string][] = [
    ['version 0', params('[{"name":"a","mean":1,"variance":1}]').replace('"version":1', '"version":0'), 'version: expected 1 or 2'],
    ['a version written as text', params('[{"name":"a","mean":1,"variance":1}]').replace('"version":1', '"version":"1"'), 'version: expected number, received string'],
    ['no format key', '{"version":1,"columns":[{"name":"a","mean":1,"variance":1}]}', 'format: expected "finorm-params"'],
    ['a top-level array', '[]', ':1: not a JSON parameter file (expected a JSON object, found "[")'],
    ['an empty file', '', 'no parameter file in it (it is empty)'],
    ['mean without variance', params('[{"name":"a","mean":1}]'), 'columns[0] ("a"): give both "mean" and "variance", or neither'],
    ['no fitted statistics', params('[{"name":"a","gamma":2}]'), 'column "a" has no fitted "mean" and "variance"; fit them with finorm fit'],
    ['a column twice', params('[{"name":"a","mean":1,"variance":1},{"name":"a","mean":1,"variance":1}]'), 'column "a" appears twice'],
    ['no columns', params('[]'), 'columns: expected at least one column'],
    ['a negative epsilon', params('[{"name":"a","mean":1,"variance":1}]', ',"epsilon":-1'), 'epsilon: expected a number ≥ 0'],
    ['a mean beyond float64', params('[{"name":"a","mean":1e999,"variance":1}]'), 'columns[0] ("a").mean: expected number, received Infinity'],
    ['a mistyped nested key (variance as text)', params('[{"name":"b","mean":1,"variance":"2"}]'), 'columns[0] ("b").variance: expected a number ≥ 0, or beyond the double range its decimal text such as "4.5e+616" (exponent within ±1000), got "2"'],
  ];
  for (const [name, content, message] of cases) {
    it(`${name}: exit 1 naming the key`, async () => {
      const file = tmp.file(`params-${name.replace(/\W+/g, '-')}.json`, content);
      const r = await runFinorm(['batch', '--params', file, data]);
      // A syntax error names the line (`:1: …`), a bad value the key.
      expectFailure(r, 1, `${file}${message.startsWith(':') ? '' : ': '}${message}`);
      expect(r.stdout).toBe('');
    });
  }

  /** A second file merge can take, so that the first file's flaw is what it reports. */
  const completeFit = tmp.file('complete-fit.json', params('[{"name":"a","count":2,"mean":1,"variance":1,"m2":2,"min":0,"max":2}]'));

  it('merge names a missing statistic and what merge needs', async () => {
    const file = tmp.file('no-count.json', params('[{"name":"a","mean":1,"variance":1}]'));
    const r = await runFinorm(['merge', file, completeFit]);
    expectFailure(r, 1, `${file}: columns[0] ("a").count: missing; merge needs count, mean, m2, min and max (files written by finorm fit have them)`);
  });

  it('merge refuses a fractional count', async () => {
    const file = tmp.file('frac-count.json', params('[{"name":"a","count":2.5,"mean":1,"variance":1,"m2":1,"min":0,"max":2}]'));
    const r = await runFinorm(['merge', file, completeFit]);
    expectFailure(r, 1, `${file}: columns[0] ("a").count: expected a whole number`);
  });

  it('a missing parameter file: ENOENT with its path', async () => {
    const r = await runFinorm(['batch', '--params', '/nonexistent/fit.json', data]);
    expectFailure(r, 1, 'cannot read /nonexistent/fit.json: no such file or directory (ENOENT)');
  });

  it('a directory as parameter file: EISDIR', async () => {
    const r = await runFinorm(['batch', '--params', tmp.dir, data]);
    expectFailure(r, 1, `cannot read ${tmp.dir}: is a directory (EISDIR)`);
  });
});

describe('files', () => {
  const data = tmp.file('f.csv', 'a,b\n1,2\n3,5\n');

  it('an input below a regular file: ENOTDIR', async () => {
    const r = await runFinorm(['layer', `${data}/x.csv`]);
    expectFailure(r, 1, `cannot read ${data}/x.csv: a parent of it is not a directory (ENOTDIR)`);
  });

  it.skipIf(process.getuid?.() === 0)('an unreadable input: EACCES with its path (root reads anything, so skipped as root)', async () => {
    const locked = tmp.file('locked.csv', 'a,b\n1,2\n');
    chmodSync(locked, 0o000);
    try {
      const r = await runFinorm(['layer', locked]);
      expectFailure(r, 1, `cannot read ${locked}: permission denied (EACCES)`);
    } finally {
      chmodSync(locked, 0o644);
    }
  });

  it('-o naming a directory: EISDIR, before reading', async () => {
    const r = await runFinorm(['layer', '-o', tmp.dir, data]);
    expectFailure(r, 1, `cannot write ${tmp.dir}: is a directory (EISDIR)`);
  });

  it('-o below a regular file: ENOTDIR', async () => {
    const r = await runFinorm(['layer', '-o', `${data}/out.csv`, data]);
    expectFailure(r, 1, `cannot write ${data}/out.csv: a parent of it is not a directory (ENOTDIR)`);
  });

  it('--save-params into a missing directory: ENOENT, and no output written', async () => {
    const out = join(tmp.dir, 'z-not-written.csv');
    const r = await runFinorm(['batch', '-o', out, '--save-params', '/nonexistent/p.json', data]);
    expectFailure(r, 1, 'cannot write /nonexistent/p.json: no such file or directory (ENOENT)');
    expect(existsSync(out)).toBe(false);
  });

  it('-o naming an input through a symbolic link or ./ is refused, the input untouched', async () => {
    const input = tmp.file('self2.csv', 'a,b\n1,2\n');
    const r = await runFinorm(['stats', '-o', './self2.csv', input], { cwd: tmp.dir });
    expectFailure(r, 2, '--output ./self2.csv is also an input; write to another file and rename it afterwards');
    const fitOver = await runFinorm(['fit', '-o', input, input]);
    expectFailure(fitOver, 2, `--output ${input} is also an input; write to another file and rename it afterwards`);
    expect(readFileSync(input, 'utf8')).toBe('a,b\n1,2\n');
  });
});

/** Runs finorm with stdout on /dev/full: every write fails with ENOSPC. */
function runToFullDisk(args: string[]): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const full = openSync('/dev/full', 'w');
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', full, 'pipe'] });
    closeSync(full);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout: '', stderr }));
  });
}

describe.skipIf(!existsSync('/dev/full'))('a full disk', () => {
  const sample = join(FIXTURES, 'sp500-sample.csv');
  const part1 = join(FIXTURES, 'params', 'sp500-part1.json');
  const part2 = join(FIXTURES, 'params', 'sp500-part2.json');
  const targets: [string, string[]][] = [
    ['batch -o', ['batch', '-o', '/dev/full', sample]],
    ['fit -o', ['fit', '-o', '/dev/full', sample]],
    ['stats -o', ['stats', '-o', '/dev/full', sample]],
    ['merge -o', ['merge', '-o', '/dev/full', part1, part2]],
    ['batch --save-params', ['batch', '--save-params', '/dev/full', '-o', '/dev/null', sample]],
    ['layer --stats', ['layer', '--stats', '/dev/full', '-o', '/dev/null', sample]],
  ];
  for (const [name, args] of targets) {
    it(`${name} /dev/full: exit 1, one line`, async () => {
      expectFailure(await runFinorm(args), 1, 'cannot write /dev/full: no space left on device (ENOSPC)');
    });
  }

  const commands: [string, string[]][] = [
    ['layer', ['layer', sample]],
    ['batch', ['batch', sample]],
    ['fit', ['fit', sample]],
    ['stats', ['stats', sample]],
    ['merge', ['merge', part1, part2]],
  ];
  for (const [name, args] of commands) {
    it(`${name} with stdout on a full disk: exit 1, one line`, async () => {
      expectFailure(await runToFullDisk(args), 1, 'cannot write stdout: no space left on device (ENOSPC)');
    });
  }

  // The launcher answers --version itself: its write error too is one line.
  it('--version with stdout on a full disk: one line, no stack trace', async () => {
    const r = await runToFullDisk(['--version']);
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expectFailure(r, 1, 'cannot write stdout: no space left on device (ENOSPC)');
  });

  // Help and completion scripts written to a full disk must not be lost silently.
  it('--help with stdout on a full disk: exit 1', async () => {
    expectFailure(await runToFullDisk(['--help']), 1, 'cannot write stdout: no space left on device (ENOSPC)');
  });

  it('completion bash with stdout on a full disk: exit 1', async () => {
    expectFailure(await runToFullDisk(['completion', 'bash']), 1, 'cannot write stdout: no space left on device (ENOSPC)');
  });
});

// Column names, NDJSON keys and group values are data: printed in a message or a summary, they must not retitle the
// window, clear the screen or split the line (`printf 'a\033]0;pwned\007,b\n1,2\n' | finorm layer -c zz`).
describe('names from the input, printed', () => {
  const TERMINAL_CONTROLS = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;

  it('a CSV column name with an escape sequence is escaped in the message', async () => {
    const r = await runFinorm(['layer', '-c', 'zz'], { input: 'a\x1b]0;pwned\x07,b\n1,2\n' });
    expectFailure(r, 2, '--columns: no column named "zz" (did you mean "b"?); the columns are: a\\u001b]0;pwned\\u0007, b');
  });

  it('a column name holding a line break leaves the message one line', async () => {
    const r = await runFinorm(['layer', '-c', 'zz'], { input: '"x\ny\u009b",b\n1,2\n' });
    expectFailure(r, 2, '--columns: no column named "zz" (did you mean "b"?); the columns are: x\\ny\\u009b, b');
  });

  it('an NDJSON key with an escape sequence is escaped in the message', async () => {
    const r = await runFinorm(['layer', '-c', 'zz'], { input: '{"a\\u001b[2J":1,"b":2}\n' });
    expectFailure(r, 2, '--columns: no column named "zz" (did you mean "b"?); the columns are: a\\u001b[2J, b');
  });

  it('a group value with escape sequences is escaped in the message and in the summary', async () => {
    const fit = tmp.file('groups-fit.json', '');
    await runFinorm(['fit', '-g', 'g', '-o', fit], { input: 'g,x\nA,1\nA,2\n' });
    const hostile = 'g,x\nB\x1b[2J\u009b,1\nB\x1b[2J\u009b,3\nA,1\n';
    const unseen = await runFinorm(['batch', '--params', fit], { input: hostile });
    expect(unseen.code).toBe(1);
    expect(unseen.stderr).not.toMatch(TERMINAL_CONTROLS);
    expect(unseen.stderr).toContain('group g "B\\u001b[2J\\u009b" is not in');
    const summary = await runFinorm(['batch', '-g', 'g', '--summary', '-o', '/dev/null'], { input: hostile.replace('A,1\n', 'A,1\nA,5\n') });
    expect(summary.code, summary.stderr).toBe(0);
    expect(summary.stderr).not.toMatch(TERMINAL_CONTROLS);
    expect(summary.stderr).toContain('B\\u001b[2J\\u009b');
  });

  it('column names with escape sequences are escaped in the summary and in the stats table', async () => {
    const input = 'p\x1b]0;pwned\x07x,q\u202e\n1,2\n3,5\n';
    const summary = await runFinorm(['layer', '--summary', '-o', '/dev/null'], { input });
    expect(summary.stderr).not.toMatch(TERMINAL_CONTROLS);
    expect(summary.stderr).toMatch(/\np\\u001b\]0;pwned\\u0007x +2 /);
    const stats = await runFinorm(['stats'], { input });
    expect(stats.stdout).not.toMatch(TERMINAL_CONTROLS);
    expect(stats.stdout).toMatch(/\nq\\u202e +2 /);
  });
});

describe('no temporary file is left by any failure above', () => {
  it('the test directory holds no *.tmp file', () => {
    expect(readdirSync(tmp.dir).filter((name) => name.includes('.tmp'))).toEqual([]);
  });
});
