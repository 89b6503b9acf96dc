// Constant memory: a file of a few hundred MB goes through layer and two-pass
// batch with the JavaScript heap capped at 64 MB, as CSV and as Parquet
// (written by DuckDB, read and written by finorm). Generated here, never
// committed; removed afterwards.

import { spawn } from 'node:child_process';
import { closeSync, openSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN } from '../support/cli.js';
import { duck, sqlText } from '../support/duckdb.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();

function writeBigFile(path: string, megabytes: number): void {
  const fd = openSync(path, 'w');
  writeSync(fd, 'date,ticker,' + Array.from({ length: 12 }, (_, j) => `f${j}`).join(',') + '\n');
  let row = 0;
  let written = 0;
  while (written < megabytes * 1e6) {
    let chunk = '';
    for (let i = 0; i < 5000; i++, row++) {
      let line = `2024-01-${String((row % 28) + 1).padStart(2, '0')},T${row % 997}`;
      for (let j = 0; j < 12; j++) line += ',' + (((row * 7919 + j * 104729) % 100003) / 7 + j * 1000).toFixed(4);
      chunk += line + '\n';
    }
    writeSync(fd, chunk);
    written += chunk.length;
  }
  closeSync(fd);
}

function runCapped(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-old-space-size=64', BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('memory', () => {
  it('layer and two-pass batch run through 200 MB with a 64 MB heap', async () => {
    const big = join(tmp.dir, 'big.csv');
    writeBigFile(big, 200);
    expect(statSync(big).size).toBeGreaterThan(200e6);
    const layer = await runCapped(['layer', '-o', '/dev/null', big]);
    expect(layer, layer.stderr).toEqual({ code: 0, stderr: '' });
    const batch = await runCapped(['batch', '-o', '/dev/null', big]);
    expect(batch, batch.stderr).toEqual({ code: 0, stderr: '' });
    // The same rows as Parquet, in and out: a row group at a time, on either side.
    const parquet = join(tmp.dir, 'big.parquet');
    await duck(`COPY (SELECT * FROM read_csv(${sqlText(big)})) TO ${sqlText(parquet)} (FORMAT parquet)`);
    const out = join(tmp.dir, 'out.parquet');
    const toParquet = await runCapped(['layer', '-o', out, parquet]);
    expect(toParquet, toParquet.stderr).toEqual({ code: 0, stderr: '' });
    const rows = await duck(`SELECT count(*) FROM ${sqlText(out)}`);
    expect(Number(rows[0][0])).toBeGreaterThan(1_000_000);
    const twoPasses = await runCapped(['batch', '--output-format', 'csv', '-o', '/dev/null', parquet]);
    expect(twoPasses, twoPasses.stderr).toEqual({ code: 0, stderr: '' });
  }, 360_000);
});
