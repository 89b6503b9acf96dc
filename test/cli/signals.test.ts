// SIGINT, SIGTERM and SIGHUP in the middle of a run, beyond interrupts.test.ts
// (batch -o on stdin): every command that writes files, several temporary
// files at once, a run blocked on a reader that does not read, and a run
// blocked in opening a FIFO that has no reader or no writer. Each must end at
// once by the signal itself (the shell shows 130/143/129), print nothing,
// remove its temporary files (the stdin spool in $TMPDIR, the .tmp files
// beside -o, --save-params and --stats) and leave the previous files untouched.

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

const tmp = tempDir();

interface Started {
  child: ChildProcess;
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
}

/** Starts finorm with an open stdin (the test feeds it) and $TMPDIR set to `spoolDir`. */
function start(args: string[], spoolDir: string, stdout: 'ignore' | 'pipe' = 'ignore'): Started {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, TMPDIR: spoolDir },
    stdio: ['pipe', stdout, 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin?.on('error', () => undefined);
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, closed, stderr: () => stderr };
}

const header = 'date,px,vol\n';
const someRows = (from: number, count: number): string =>
  Array.from({ length: count }, (_, i) => `${isoDay(from + i)},${(from + i) % 113},${((from + i) * 7) % 31}`).join('\n') + '\n';
/** Day i after 2000-01-01, as an ISO date: the date column is in time order. */
function isoDay(i: number): string {
  return new Date(Date.UTC(2000, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
}

/** A directory with the files a run may replace, each holding "previous". */
function outputs(name: string, files: string[]): { dir: string; paths: string[] } {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  const paths = files.map((file) => join(dir, file));
  for (const path of paths) writeFileSync(path, 'previous\n');
  return { dir, paths };
}

/** The exit status a shell shows: the code, or 128 + the number of the signal the process died of. */
function shellStatus({ code, signal }: { code: number | null; signal: NodeJS.Signals | null }): number | null {
  return signal === null ? code : 128 + constants.signals[signal];
}

const temporaryFiles = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.tmp'));

describe('signals while writing files', () => {
  const runs: { name: string; signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP'; code: number; args: (paths: string[]) => string[]; files: string[]; spools: boolean }[] = [
    { name: 'layer -o on stdin', signal: 'SIGINT', code: 130, args: ([out]) => ['layer', '-o', out], files: ['out.csv'], spools: false },
    { name: 'layer -o --stats on stdin', signal: 'SIGTERM', code: 143, args: ([out, stats]) => ['layer', '-o', out, '--stats', stats], files: ['out.csv', 'stats.json'], spools: false },
    { name: 'fit -o on stdin', signal: 'SIGTERM', code: 143, args: ([out]) => ['fit', '-o', out], files: ['fit.json'], spools: false },
    {
      name: 'batch -o --save-params --stats on stdin (spooling)',
      signal: 'SIGINT',
      code: 130,
      args: ([out, fit, stats]) => ['batch', '-o', out, '--save-params', fit, '--stats', stats],
      files: ['out.csv', 'fit.json', 'stats.json'],
      spools: true,
    },
    { name: 'batch -g on stdin (spooling)', signal: 'SIGTERM', code: 143, args: ([out]) => ['batch', '-g', 'vol', '-o', out], files: ['out.csv'], spools: true },
    { name: 'batch --window -o on stdin (one pass)', signal: 'SIGINT', code: 130, args: ([out]) => ['batch', '--window', '3', '-c', 'px', '-o', out], files: ['out.csv'], spools: false },
    { name: 'layer -o on stdin (the terminal closed)', signal: 'SIGHUP', code: 129, args: ([out]) => ['layer', '-o', out], files: ['out.csv'], spools: false },
    { name: 'batch -o on stdin (spooling, the terminal closed)', signal: 'SIGHUP', code: 129, args: ([out]) => ['batch', '-o', out], files: ['out.csv'], spools: true },
  ];

  for (const run of runs) {
    it(`${run.signal} during ${run.name}: ends by the signal (${run.code}), temporary files removed, previous files kept`, async () => {
      const spoolDir = mkdtempSync(join(tmpdir(), 'finorm-signal-'));
      const { dir, paths } = outputs(run.name.replace(/\W+/g, '-'), run.files);
      const started = start(run.args(paths), spoolDir);
      started.child.stdin?.write(header + someRows(0, 3000));
      // The run is under way once its -o temporary file exists (created before
      // any work), or for a two-pass batch on stdin (which opens -o in its
      // second pass) once its spool exists; stdin stays open.
      if (run.spools) await waitFor(() => readdirSync(spoolDir).some((f) => f.endsWith('.spool')), 'the spool file');
      else await waitFor(() => temporaryFiles(dir).length > 0, 'the temporary output file');
      started.child.kill(run.signal);
      expect(shellStatus(await started.closed)).toBe(run.code);
      expect(started.stderr()).toBe('');
      expect(readdirSync(spoolDir)).toEqual([]);
      expect(temporaryFiles(dir)).toEqual([]);
      for (const path of paths) expect(readFileSync(path, 'utf8')).toBe('previous\n');
    });
  }
});

describe('signals while blocked on a reader that does not read', () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal} while stdout is full: exit ${code} at once`, async () => {
      const spoolDir = mkdtempSync(join(tmpdir(), 'finorm-blocked-'));
      const started = start(['layer'], spoolDir, 'pipe');
      started.child.stdout?.pause();
      // Far more output than the pipe holds: finorm must be waiting on it.
      let fed = 0;
      const chunk = someRows(0, 5000);
      started.child.stdin?.write(header);
      while (fed < 40) {
        if (!started.child.stdin?.write(chunk)) break;
        fed++;
      }
      await new Promise((r) => setTimeout(r, 500));
      const sentAt = Date.now();
      started.child.kill(signal);
      expect(shellStatus(await started.closed)).toBe(code);
      expect(Date.now() - sentAt).toBeLessThan(5000);
      expect(started.stderr()).toBe('');
      expect(readdirSync(spoolDir)).toEqual([]);
    });
  }
});

describe('signals while blocked opening a FIFO', () => {
  const fifo = (name: string): string => {
    const path = join(tmp.dir, name);
    execFileSync('mkfifo', [path]);
    return path;
  };
  const cases: { name: string; args: (path: string) => string[]; signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP'; code: number }[] = [
    { name: '-o FIFO with no reader', args: (path) => ['layer', '-o', path, '-c', 'px'], signal: 'SIGINT', code: 130 },
    { name: 'an input FIFO with no writer', args: (path) => ['layer', path], signal: 'SIGTERM', code: 143 },
    { name: 'an input FIFO with no writer, two-pass batch', args: (path) => ['batch', path], signal: 'SIGHUP', code: 129 },
  ];
  for (const c of cases) {
    it(`${c.signal} while ${c.name}: ends at once (${c.code})`, async () => {
      const spoolDir = mkdtempSync(join(tmpdir(), 'finorm-fifo-'));
      const path = fifo(`${c.name.replace(/\W+/g, '-')}.fifo`);
      const started = start(c.args(path), spoolDir);
      started.child.stdin?.end(header + someRows(0, 10));
      // Blocked in open(): nothing to wait for but time.
      await new Promise((r) => setTimeout(r, 700));
      const sentAt = Date.now();
      started.child.kill(c.signal);
      const closed = await Promise.race([started.closed, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000))]);
      if (closed === 'hung') started.child.kill('SIGKILL');
      expect(closed).not.toBe('hung');
      expect(shellStatus(closed as { code: number | null; signal: NodeJS.Signals | null })).toBe(c.code);
      expect(Date.now() - sentAt).toBeLessThan(5000);
      expect(started.stderr()).toBe('');
      expect(readdirSync(spoolDir)).toEqual([]);
      expect(temporaryFiles(tmp.dir)).toEqual([]);
    });
  }
});
