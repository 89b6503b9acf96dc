// SIGINT and SIGTERM mid-run: exit 130/143, the stdin spool and the -o
// temporary file removed, the previous output untouched. And a slow reader of
// stdout must not make memory grow (back-pressure).

import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

const tmp = tempDir();

describe('signals', () => {
  for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
    it(`${signal} during batch on stdin: exit ${code}, spool and temporary output removed, old output kept`, async () => {
      const spoolDir = mkdtempSync(join(tmpdir(), 'finorm-spool-'));
      const out = tmp.file(`out-${signal}.csv`, 'previous\n');
      const child = spawn(process.execPath, [BIN, 'batch', '-o', out], {
        env: { ...process.env, TMPDIR: spoolDir },
        stdio: ['pipe', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      // finorm dies of the signal (the shell shows 128 + its number).
      const closed = new Promise<number | null>((resolve) => child.on('close', (c, s) => resolve(s === null ? c : 128 + constants.signals[s])));
      child.stdin.write('date,px\n' + Array.from({ length: 1000 }, (_, i) => `d${i},${i}`).join('\n') + '\n');
      // The first pass is under way once the spool exists (stdin stays open).
      await waitFor(() => readdirSync(spoolDir).some((f) => f.endsWith('.spool')), 'the spool file');
      child.kill(signal);
      expect(await closed).toBe(code);
      expect(stderr).toBe('');
      expect(readdirSync(spoolDir)).toEqual([]);
      expect(readFileSync(out, 'utf8')).toBe('previous\n');
      expect(readdirSync(tmp.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    });
  }
});

describe('back-pressure', () => {
  it('a paused reader of stdout does not make memory grow', async () => {
    // About 60 MB of output from a generated input on stdin, read slowly.
    const child = spawn(process.execPath, [BIN, 'layer'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const row = Array.from({ length: 16 }, (_, j) => (j + 1) * 1.5).join(',');
    const header = Array.from({ length: 16 }, (_, j) => `f${j}`).join(',');
    let written = 0;
    const feed = async () => {
      child.stdin.write(header + '\n');
      const chunk = (row + '\n').repeat(2000);
      while (written < 300_000) {
        if (!child.stdin.write(chunk)) await new Promise((r) => child.stdin.once('drain', r));
        written += 2000;
      }
      child.stdin.end();
    };
    const feeding = feed().catch(() => undefined);
    child.stdout.pause();
    // Let it fill every buffer, then look at its resident memory.
    await new Promise((r) => setTimeout(r, 1500));
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
    expect(rssKb / 1024).toBeLessThan(150);
    child.stdout.resume();
    child.stdout.on('data', () => undefined);
    await feeding;
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
  });
});
