// Memory bounded by the data that must be held, not by the width or the key
// count: fit -g and batch -g on hundreds of thousands of keys, stats on
// thousands of columns, a record of millions of "" escapes (measured: the
// child's peak RSS, from getrusage, as the benchmark does), on one thread and
// on workers; and when the heap cannot hold the groups, finorm says so in
// one line naming what to change, never a V8 abort. Inputs are generated
// here and removed afterwards.

import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();
const RSS_PROBE = new URL('../../bench/rss-probe.mjs', import.meta.url).href;

/** `keys` distinct keys, each in `rows` rows far apart (all keys, then all again), and `features` numbers. */
function writeKeys(path: string, keys: number, rows: number, features: number): void {
  const fd = openSync(path, 'w');
  writeSync(fd, 'key,' + Array.from({ length: features }, (_, j) => `f${j}`).join(',') + '\n');
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let r = 0; r < rows; r++) {
    let chunk = '';
    for (let k = 0; k < keys; k++) {
      chunk += `k${k}`;
      for (let j = 0; j < features; j++) chunk += ',' + (100 * next()).toFixed(2);
      chunk += '\n';
      if (chunk.length > 1 << 20) {
        writeSync(fd, chunk);
        chunk = '';
      }
    }
    writeSync(fd, chunk);
  }
  closeSync(fd);
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  /** Peak resident set size, MB. */
  peakMb: number;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const rssFile = join(tmp.dir, `rss-${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', RSS_PROBE, BIN, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', FINORM_BENCH_RSS_FILE: rssFile, ...env },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      let peakMb = NaN;
      try {
        peakMb = Number(readFileSync(rssFile, 'utf8')) / 1024;
      } catch {
        // No file: the process died before its exit handler (an abort).
      }
      resolve({ code, signal, stderr, peakMb });
    });
  });
}

describe('memory per group', () => {
  const keys = join(tmp.dir, 'keys.csv');
  writeKeys(keys, 300_000, 2, 4);

  // On main, fit -g on these 300,000 keys peaked at 2.4 GB; 1,000,000 keys failed after 9.5 GB.
  for (const threads of ['1', '2']) {
    it(`fit -g and batch -g on 300,000 keys × 4 features stay under 450 MB (--threads ${threads})`, async () => {
      const fit = await run(['fit', '-g', 'key', '--threads', threads, '-o', join(tmp.dir, `fit${threads}.ndjson`), keys]);
      expect(fit.code, fit.stderr).toBe(0);
      expect(fit.peakMb).toBeLessThan(450);
      const batch = await run(['batch', '-g', 'key', '--threads', threads, '-o', '/dev/null', keys]);
      expect(batch.code, batch.stderr).toBe(0);
      expect(batch.peakMb).toBeLessThan(450);
      const applied = await run(['batch', '--params', join(tmp.dir, `fit${threads}.ndjson`), '--threads', threads, '-o', '/dev/null', keys]);
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.peakMb).toBeLessThan(450);
    }, 120_000);
  }

  it('export --group and layer --params keep one group of a 300,000-group fit, not the file (under 200 MB)', async () => {
    const fit = join(tmp.dir, 'fit-export.ndjson');
    expect((await run(['fit', '-g', 'key', '-o', fit, keys])).code).toBe(0);
    const exported = await run(['export', '--to', 'torch', '--group', 'k12345', '-o', join(tmp.dir, 'k.st'), fit]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.peakMb).toBeLessThan(200);
    const missing = await run(['export', '--to', 'torch', '--group', 'nope', '-o', join(tmp.dir, 'n.st'), fit]);
    expect(missing.stderr).toMatch(/no group "nope" \(it has 300000: k0; k1; k2; k3; k4; …\)/);
    const small = tmp.file('small.csv', 'key,f0,f1,f2,f3\nk1,1,2,3,4\n');
    const layer = await run(['layer', '--params', fit, '-o', '/dev/null', small]);
    expect(layer.code, layer.stderr).toBe(0);
    expect(layer.peakMb).toBeLessThan(200);
  }, 120_000);

  it("a user's NODE_OPTIONS=--max-old-space-size is the main thread's: batch -g on two workers still runs", async () => {
    const r = await run(['batch', '-g', 'key', '--threads', '2', '-o', '/dev/null', keys], { NODE_OPTIONS: '--max-old-space-size=100' });
    expect(r.signal).toBeNull();
    expect(r.code, r.stderr).toBe(0);
  }, 120_000);

  it('a heap too small for the groups: one line naming what to change, exit 1, never a V8 abort', async () => {
    const many = join(tmp.dir, 'many.csv');
    writeKeys(many, 1_500_000, 1, 1);
    for (const threads of ['1', '2']) {
      const r = await run(['fit', '-g', 'key', '--threads', threads, '-o', join(tmp.dir, 'many.ndjson'), many], { NODE_OPTIONS: '--max-old-space-size=100' });
      expect(r.signal).toBeNull();
      expect(r.code).toBe(1);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^finorm: [\d,]+ groups of 1 column need more memory than this process has: group by fewer or coarser columns .*, or raise the JavaScript heap limit \(\d+ MB, as NODE_OPTIONS or node options set it\) with NODE_OPTIONS=--max-old-space-size=\d+\n$/);
    }
  }, 120_000);

  it('stats on 5,000 columns of 200 values over nine decades stays under 400 MB (main: 2.5 GB)', async () => {
    const wide = join(tmp.dir, 'wide.csv');
    const fd = openSync(wide, 'w');
    writeSync(fd, Array.from({ length: 5000 }, (_, j) => `c${j}`).join(',') + '\n');
    let seed = 3;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let r = 0; r < 200; r++) {
      writeSync(fd, Array.from({ length: 5000 }, () => ((next() < 0.3 ? -1 : 1) * 10 ** (next() * 9 - 3)).toPrecision(6)).join(',') + '\n');
    }
    closeSync(fd);
    const r = await run(['stats', '--csv', '-o', '/dev/null', wide]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.peakMb).toBeLessThan(400);
  }, 120_000);

  it('a record of 10,000,000 "" escapes is read in a few times its size (main: 500 MB)', async () => {
    const escapes = join(tmp.dir, 'escapes.csv');
    writeFileSync(escapes, `name,x\n"${'""'.repeat(10_000_000)}",1\n`);
    for (const command of ['layer', 'fit']) {
      const r = await run([command, '-o', '/dev/null', escapes]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.peakMb, command).toBeLessThan(260);
    }
  }, 120_000);
});
