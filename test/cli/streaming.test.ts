// Behaviour in a Unix pipeline: stdin/stdout, streaming, closed pipes, exit codes.

import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BIN, REPO, runFinorm } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();

// Row (1, 3) normalized with ε = 1e-5: ±1/√1.00001, computed to 40 digits with
// Python's decimal module: 0.99999500003749968750273435039...
const Y = 0.9999950000374996875;

/** The numbers of a CSV line, checked against expected values to 2e-16 relative. */
function expectRow(line: string, expected: (number | string)[]): void {
  const cells = line.split(',');
  expect(cells).toHaveLength(expected.length);
  cells.forEach((cell, i) => {
    const want = expected[i];
    if (typeof want === 'string') expect(cell).toBe(want);
    else expect(Math.abs(Number(cell) - want)).toBeLessThanOrEqual(2.3e-16 * Math.max(1, Math.abs(want)));
  });
}

describe('streaming', () => {
  it('writes the first row before stdin has ended', async () => {
    const child = spawn(process.execPath, [BIN, 'layer', '-c', 'a,b,c'], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.write('a,b,c\n0.5,10,-2\n');
    const firstRow = await new Promise<string>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error(`no output while stdin is open; got ${JSON.stringify(text)}`)), 10_000);
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const lines = text.split('\n');
        if (lines.length >= 3) {
          clearTimeout(timer);
          resolve(lines[1]);
        }
      });
    });
    expect(child.exitCode).toBeNull(); // still running: its input is not finished
    const [a, b, c] = firstRow.split(',').map(Number);
    expect([a, b, c].map((x) => x.toFixed(4))).toEqual(['-0.4514', '1.3864', '-0.9350']);
    child.stdin.end('1,2,3\n');
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
  });

  it('stops quietly with exit 0 when stdout is closed early (| head -1)', () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => `2024-01-02,T${i},${i},${i * 2.5},${i % 7}`).join('\n');
    const big = tmp.file('big.csv', `date,ticker,a,b,c\n${rows}\n`);
    const result = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${BIN}" layer "${big}" | head -1; echo "status=\${PIPESTATUS[0]}" >&2`], {
      encoding: 'utf8',
    });
    expect(result.stdout).toBe('date,ticker,a,b,c\n');
    expect(result.stderr).toBe('status=0\n');
  });

  it('reads stdin when no file or - is given, and files and - together', async () => {
    const input = 'x,y\n1,3\n';
    const fromStdin = await runFinorm(['layer', '-q'], { input });
    expect(fromStdin).toMatchObject({ code: 0, stderr: '' });
    const lines = fromStdin.stdout.split('\n');
    expect([lines[0], lines.length]).toEqual(['x,y', 3]);
    expectRow(lines[1], [-Y, Y]);
    const file = tmp.file('other.csv', 'x,y\n5,5\n');
    const mixed = await runFinorm(['layer', file, '-'], { input });
    const mixedLines = mixed.stdout.split('\n');
    expect(mixedLines.slice(0, 2)).toEqual(['x,y', '0,0']);
    expectRow(mixedLines[2], [-Y, Y]);
  });

  it('reads gzip input and converts CSV to NDJSON', async () => {
    const gz = tmp.file('in.csv.gz', gzipSync('d,x,y\n2024-01-02,1,3\n'));
    const result = await runFinorm(['layer', '--output-format', 'ndjson', gz]);
    expect(result.code).toBe(0);
    const object = JSON.parse(result.stdout);
    expect(Object.keys(object)).toEqual(['d', 'x', 'y']);
    expect(object.d).toBe('2024-01-02');
    expectRow(`${object.x},${object.y}`, [-Y, Y]);
  });

  it('is silent on stderr when it is not a terminal, unless --summary', async () => {
    const input = 'x,y\n1,3\n';
    expect((await runFinorm(['layer'], { input })).stderr).toBe('');
    const withSummary = await runFinorm(['layer', '--summary'], { input });
    expect(withSummary.stderr).toMatch(/finorm layer: 1 row read, 1 written/);
    expect(withSummary.stderr).toMatch(/^x\s+1\s+0\s+1\s+0\s+1\s+1\s+-1\s+0\s+-1\s+-1$/m);
    expect((await runFinorm(['layer', '--summary', '-q'], { input })).stderr).toBe('');
  });
});

describe('exit codes and messages', () => {
  it('exits 2 on usage errors with one line on stderr', async () => {
    for (const args of [['layer', '--epsilo', '1'], ['layer', '-e', 'abc'], ['layer', '-e', '-1'], ['layer', '-p', '0'], ['lyer'], ['layer', '--on-error', 'maybe']]) {
      const result = await runFinorm(args, { input: 'x\n1\n' });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(result.stderr).toMatch(/^finorm: /);
    }
    expect((await runFinorm(['layer', '--epsilo', '1'])).stderr).toMatch(/did you mean --epsilon/);
    expect((await runFinorm(['layer', '-e', 'abc'])).stderr).toMatch(/--epsilon: expected --epsilon .*"abc"/);
  });

  it('exits 1 with file, line, column and value for a bad number', async () => {
    const path = tmp.file('bad.csv', 'd,x,y\n2024-01-02,1,2\n2024-01-03,3,1;5\n');
    const result = await runFinorm(['layer', '-c', 'x,y', path]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`finorm: ${path}:3: column "y": value "1;5" is not a number\n`);
  });

  it('exits 1 naming a missing input or a directory, before writing anything', async () => {
    const out = join(tmp.dir, 'never.csv');
    const missing = await runFinorm(['layer', '-o', out, join(tmp.dir, 'nope.csv')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read .*nope\.csv: no such file or directory \(ENOENT\)/);
    const dir = await runFinorm(['layer', '-o', out, tmp.dir]);
    expect(dir.code).toBe(1);
    expect(dir.stderr).toMatch(/is a directory \(EISDIR\)/);
    expect(() => statSync(out)).toThrow();
  });

  it('prints help and version', async () => {
    const help = await runFinorm(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/layer \[options\] \[file\.\.\.\]/);
    const version = await runFinorm(['--version']);
    expect(version.stdout.trim()).toBe(JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')).version);
  });
});

describe('output files', () => {
  it('writes -o atomically and leaves the old file untouched on failure', async () => {
    const good = tmp.file('good.csv', 'x,y\n1,3\n');
    const bad = tmp.file('bad2.csv', 'x,y\n1,3\n2,oops\n');
    const out = join(tmp.dir, 'out.csv');
    writeFileSync(out, 'previous contents\n');
    const failed = await runFinorm(['layer', '-c', 'x,y', '-o', out, bad]);
    expect(failed.code).toBe(1);
    expect(readFileSync(out, 'utf8')).toBe('previous contents\n');
    expect(readdirSync(tmp.dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const ok = await runFinorm(['layer', '-o', out, good]);
    expect(ok).toMatchObject({ code: 0, stdout: '' });
    const written = readFileSync(out, 'utf8').split('\n');
    expect(written[0]).toBe('x,y');
    expectRow(written[1], [-Y, Y]);
  });

  it('refuses -o naming one of the inputs, before touching it', async () => {
    const input = tmp.file('self.csv', 'x,y\n1,3\n');
    const result = await runFinorm(['layer', '-o', input, input]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--output .*self\.csv is also an input/);
    expect(readFileSync(input, 'utf8')).toBe('x,y\n1,3\n');
  });

  it('fails clearly writing into a missing directory', async () => {
    const result = await runFinorm(['layer', '-o', join(tmp.dir, 'no', 'such', 'out.csv')], { input: 'x\n1\n' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot write .*out\.csv: no such file or directory \(ENOENT\)/);
  });

  it('writes the summary as JSON with --stats', async () => {
    const stats = join(tmp.dir, 'stats.json');
    const result = await runFinorm(['layer', '-c', 'x,y,z', '--stats', stats], { input: 'x,y,z\n1,3,NA\n2,2,\n' });
    expect(result.code).toBe(0);
    const summary = JSON.parse(readFileSync(stats, 'utf8'));
    expect(summary).toMatchObject({ command: 'layer', rowsRead: 2, rowsWritten: 2, rowsSkipped: 0, epsilon: 1e-5 });
    expect(summary.columns.map((c: { name: string }) => c.name)).toEqual(['x', 'y', 'z']);
    expect(summary.columns[0].input).toEqual({ count: 2, missing: 0, mean: 1.5, std: 0.5, min: 1, max: 2 });
    expect(summary.columns[2].input).toEqual({ count: 0, missing: 2, mean: null, std: null, min: null, max: null });
    expect(summary.rows).toEqual({ zeroVariance: 1, noFeatures: 0, sigma: { min: 0, mean: 0.5, max: 1 } });
  });
});
