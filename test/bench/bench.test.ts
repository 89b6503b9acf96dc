// A smoke run of `npm run bench` on a tiny input, so the script cannot rot:
// every command runs, and every figure it prints is there and plausible.

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/cli.js';

describe('bench/bench.mjs', () => {
  it('measures every command on a small generated dataset', () => {
    // --threads 2: the worker threads run even on this small input.
    const args = ['bench/bench.mjs', '--rows', '2000', '--threads', '2', '--json'];
    const out = execFileSync(process.execPath, args, { cwd: REPO, encoding: 'utf8' });
    const report = JSON.parse(out) as {
      startup: { versionMs: number; tenRowsMs: number };
      runs: { rows: number; bytes: number; results: { name: string; seconds: number; mbPerSecond: number; rowsPerSecond: number; peakRssMb: number; ratioToFloor: number; ratioToCsvParse: number }[] }[];
    };
    const [run] = report.runs;
    expect(run.rows).toBe(2000);
    // About 160 bytes a row, as the generator promises.
    expect(run.bytes / run.rows).toBeGreaterThan(120);
    expect(run.results.map((r) => r.name)).toEqual([
      'floor (read + write, no parsing)',
      'csv-parse → csv-stringify, no math',
      'layer',
      'batch (two passes)',
      'fit',
      'batch --params',
      'stats',
      'layer, CSV → NDJSON',
      'batch --group-by ticker',
      'batch --window 20 -g ticker',
      'layer, quoted ticker',
      'layer, Parquet → Parquet',
      'layer, Parquet → CSV',
    ]);
    for (const r of run.results) {
      expect(r.seconds, r.name).toBeGreaterThan(0);
      expect(r.rowsPerSecond, r.name).toBeCloseTo(2000 / r.seconds, 6);
      // Both baselines are measured in the same run: floor first, csv-parse second.
      expect(r.ratioToFloor, r.name).toBeCloseTo(r.seconds / run.results[0].seconds, 6);
      expect(r.ratioToCsvParse, r.name).toBeCloseTo(r.seconds / run.results[1].seconds, 6);
      expect(r.peakRssMb, r.name).toBeGreaterThan(10);
    }
    expect(report.startup.versionMs).toBeGreaterThan(0);
  }, 60_000);
});
