// Round trips through finorm's own outputs: what it writes as NDJSON it
// reads back as the same table (numbers as numbers, empty cells as null), and
// a tool that compares numbers (here JSON.parse, as jq does) sees numbers.

import { describe, expect, it } from 'vitest';
import { FIXTURES, runFinorm } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();
const SAMPLE = `${FIXTURES}sp500-sample.csv`;

/** A stats --json document without the keys that say how it ran. */
function statistics(text: string): unknown {
  const document = JSON.parse(text) as Record<string, unknown>;
  delete document.execution;
  return document;
}

describe('NDJSON written from CSV', () => {
  it('reads back with stats as the same table: the same statistics as the CSV output', async () => {
    const args = ['layer', '-c', 'Price,EBITDA', '-q', SAMPLE];
    const [csv, ndjson] = await Promise.all([runFinorm(args), runFinorm([...args, '--output-format', 'ndjson'])]);
    expect([csv.code, ndjson.code]).toEqual([0, 0]);
    const [fromCsv, fromNdjson] = await Promise.all([
      runFinorm(['stats', '--json', tmp.file('out.csv', csv.stdout)]),
      runFinorm(['stats', '--json', tmp.file('out.ndjson', ndjson.stdout)]),
    ]);
    expect(fromNdjson.stderr).toBe('');
    expect(fromNdjson.code).toBe(0);
    const want = statistics(fromCsv.stdout) as { columns: { name: string }[] };
    // Every numeric column of the sample, normalized or passed through, is a feature of both.
    expect(want.columns.map((c) => c.name)).toContain('Market Cap');
    expect(statistics(fromNdjson.stdout)).toEqual(want);
  });

  it('has numbers where the CSV had numbers, null where it had nothing, text elsewhere', async () => {
    const r = await runFinorm(['layer', '-c', 'Price,EBITDA', '--output-format', 'ndjson', SAMPLE]);
    const rows = r.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const big = rows.filter((row) => (row['Market Cap'] as number) > 1e11).map((row) => row.Symbol);
    expect(big.length).toBeGreaterThan(0);
    expect(big.length).toBeLessThan(rows.length);
    expect(rows.every((row) => typeof row.Symbol === 'string' && typeof row['Market Cap'] !== 'string')).toBe(true);
  });
});
