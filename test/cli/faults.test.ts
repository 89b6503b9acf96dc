// Nothing lost: whichever command fails and however, every file named by -o,
// --save-params or --stats keeps its previous content and no temporary file
// remains; a reader that goes away early ends the run quietly with exit 0 and
// leaves no stdin spool behind.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, FIXTURES, runFinorm } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();

/** A fresh directory holding one file, `previous.out`, with known content. */
function outputDir(name: string): { dir: string; previous: string } {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  const previous = join(dir, 'previous.out');
  writeFileSync(previous, 'previous\n');
  return { dir, previous };
}

function expectUntouched(dir: string, previous: string): void {
  expect(readFileSync(previous, 'utf8')).toBe('previous\n');
  expect(readdirSync(dir)).toEqual(['previous.out']);
}

// 60,000 good rows (several blocks, so -o has been written to before the
// failure) and then a value that is not a number.
const isoDay = (i: number): string => new Date(Date.UTC(2000, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
const goodRows = Array.from({ length: 60_000 }, (_, i) => `${isoDay(i)},${i % 97},${(i * 7) % 101}`).join('\n');
const lateError = tmp.file('late-error.csv', `date,a,b\n${goodRows}\nd,1,oops\n`);
const LATE_ERROR_MESSAGE = `finorm: ${lateError}:60002: column "b": value "oops" is not a number\n`;

describe('a failure late in the input leaves every output file as it was', () => {
  const cases: [string, (out: string) => string[]][] = [
    ['layer -o', (out) => ['layer', '-o', out, lateError]],
    ['layer --stats', (out) => ['layer', '--stats', out, '-o', '/dev/null', lateError]],
    ['batch -o', (out) => ['batch', '-o', out, lateError]],
    ['batch --save-params', (out) => ['batch', '--save-params', out, '-o', '/dev/null', lateError]],
    ['batch -g -o (grouped, two passes)', (out) => ['batch', '-g', 'date', '-o', out, lateError]],
    ['batch --window -o (one causal pass)', (out) => ['batch', '--window', '5', '-o', out, lateError]],
    ['fit -o', (out) => ['fit', '-o', out, lateError]],
    ['fit --stats', (out) => ['fit', '--stats', out, '-o', '/dev/null', lateError]],
    ['stats -o', (out) => ['stats', '-o', out, lateError]],
  ];
  for (const [name, argsFor] of cases) {
    it(name, async () => {
      const { dir, previous } = outputDir(name.replace(/\W+/g, '-'));
      const r = await runFinorm(argsFor(previous));
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(LATE_ERROR_MESSAGE);
      expectUntouched(dir, previous);
    });
  }

  it('merge -o with a bad second file', async () => {
    const { dir, previous } = outputDir('merge');
    const bad = tmp.file('bad-fit.json', '{"format":"finorm-params","version":1,"columns":[{"name":"Price","count":"3"}]}');
    const r = await runFinorm(['merge', '-o', previous, join(FIXTURES, 'params', 'sp500-part1.json'), bad]);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^finorm: .*bad-fit\.json: columns\[0\] \("Price"\)\.count/);
    expectUntouched(dir, previous);
  });

  it('under --on-error skip --fail-on-skip (exit 3) the output is complete: the run did not fail, it reports', async () => {
    const dir = join(tmp.dir, 'fail-on-skip');
    mkdirSync(dir);
    const out = join(dir, 'out.csv');
    const r = await runFinorm(['layer', '-e', '0', '-c', 'a,b', '--on-error', 'skip', '--fail-on-skip', '-q', '-o', out], { input: 'a,b\n1,3\nx,1\n5,7\n' });
    expect(r.code).toBe(3);
    expect(readFileSync(out, 'utf8')).toBe('a,b\n-1,1\n-1,1\n');
    expect(readdirSync(dir)).toEqual(['out.csv']);
  });
});

describe.skipIf(!existsSync('/dev/full'))('several outputs: one failing output leaves the others as they were', () => {
  // The table (-o) is renamed into place last, after --save-params and
  // --stats: when one of those fails, the previous -o file must be untouched.
  const data = tmp.file('small.csv', 'a,b\n1,2\n3,5\n');
  const cases: [string, (out: string) => string[]][] = [
    ['batch -o with --save-params on a full disk', (out) => ['batch', '-o', out, '--save-params', '/dev/full', data]],
    ['layer -o with --stats on a full disk', (out) => ['layer', '-o', out, '--stats', '/dev/full', data]],
    ['fit -o with --stats on a full disk', (out) => ['fit', '-o', out, '--stats', '/dev/full', data]],
  ];
  for (const [name, argsFor] of cases) {
    it(name, async () => {
      const { dir, previous } = outputDir(name.replace(/\W+/g, '-'));
      const r = await runFinorm(argsFor(previous));
      expect(r.code).toBe(1);
      expect(r.stderr).toBe('finorm: cannot write /dev/full: no space left on device (ENOSPC)\n');
      expectUntouched(dir, previous);
    });
  }

  it('a --save-params file into a missing directory is refused before -o is written', async () => {
    const { dir, previous } = outputDir('missing-dir');
    const r = await runFinorm(['batch', '-o', previous, '--save-params', join(dir, 'no', 'fit.json'), data]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`finorm: cannot write ${join(dir, 'no', 'fit.json')}: no such file or directory (ENOENT)\n`);
    expectUntouched(dir, previous);
  });
});

/**
 * Runs finorm with `input` on stdin and closes its stdout after the first
 * line, as `| head -1` does. Returns the exit code, stderr and that line.
 */
function readFirstLineThenClose(args: string[], input: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stderr: string; firstLine: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let seen = '';
    let firstLine: string | undefined;
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      if (firstLine !== undefined) return;
      seen += d.toString();
      const newline = seen.indexOf('\n');
      if (newline >= 0) {
        firstLine = seen.slice(0, newline);
        child.stdout.destroy();
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr, firstLine: firstLine ?? seen }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

describe('a reader that closes stdout early', () => {
  // About 10 MB: far more than the pipe and the stream buffers hold.
  const rows = Array.from({ length: 200_000 }, (_, i) => `2024-01-02,T${i % 500},${i % 1000},${(i * 2.5) % 977},${i % 7}`).join('\n');
  const big = `date,ticker,a,b,c\n${rows}\n`;

  it('layer: exit 0, nothing on stderr', async () => {
    const r = await readFirstLineThenClose(['layer'], big);
    expect(r).toEqual({ code: 0, stderr: '', firstLine: 'date,ticker,a,b,c' });
  });

  it('layer --output-format ndjson: exit 0, nothing on stderr', async () => {
    const r = await readFirstLineThenClose(['layer', '-c', 'a,b', '--output-format', 'ndjson'], big);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const first = JSON.parse(r.firstLine) as Record<string, unknown>;
    expect(Object.keys(first)).toEqual(['date', 'ticker', 'a', 'b', 'c']);
  });

  it('batch on stdin: exit 0, nothing on stderr, and the stdin spool removed', async () => {
    const spoolDir = mkdtempSync(join(tmpdir(), 'finorm-closed-'));
    const r = await readFirstLineThenClose(['batch'], big, { TMPDIR: spoolDir });
    expect(r).toEqual({ code: 0, stderr: '', firstLine: 'date,ticker,a,b,c' });
    expect(readdirSync(spoolDir)).toEqual([]);
  });
});
