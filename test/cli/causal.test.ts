// batch --window / --expanding through the built binary, against a reference
// that recomputes each row's window from scratch (two-pass, no updates).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runFinorm } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();

interface Reference {
  window?: number;
  minPeriods: number;
  excludeCurrent: boolean;
  epsilon: number;
  ddof: number;
}

/** z of each row's value with its group's window, recomputed from scratch. */
function reference(groups: string[], values: number[], how: Reference): (number | null)[] {
  const history = new Map<string, number[]>();
  return values.map((x, i) => {
    const past = history.get(groups[i]) ?? [];
    history.set(groups[i], [...past, x]);
    const upTo = how.excludeCurrent ? past : [...past, x];
    const window = how.window === undefined ? upTo : upTo.slice(-how.window);
    const present = window.filter((v) => !Number.isNaN(v));
    if (Number.isNaN(x) || present.length < how.minPeriods) return null;
    const mean = present.reduce((s, v) => s + v, 0) / present.length;
    const m2 = present.reduce((s, v) => s + (v - mean) ** 2, 0);
    const variance = present.length > how.ddof ? m2 / (present.length - how.ddof) : 0;
    return (x - mean) / Math.sqrt(variance + how.epsilon);
  });
}

function column(csv: string, name: string): string[] {
  const [header, ...rows] = csv.trim().split('\n').map((line) => line.split(','));
  const j = header.indexOf(name);
  // A record whose only field is empty is written `""` (else it would be a blank line).
  return rows.map((row) => (row[j] === '""' ? '' : row[j]));
}

function expectClose(actual: string[], expected: (number | null)[]): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((cell, i) => {
    const want = expected[i];
    if (want === null) return expect(cell, `row ${i + 1}`).toBe('');
    expect(Math.abs(Number(cell) - want), `row ${i + 1}: ${cell} vs ${want}`).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want)));
  });
}

/** Deterministic random walk per ticker, interleaved, with some missing values. */
function dataset(rows: number): { csv: string; groups: string[]; px: number[] } {
  const tickers = ['AAA', 'BBB', 'CCC'];
  const level: Record<string, number> = { AAA: 100, BBB: 2500, CCC: 0.5 };
  let seed = 12345;
  const next = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const groups: string[] = [];
  const px: number[] = [];
  const lines = ['date,ticker,px'];
  for (let i = 0; i < rows; i++) {
    const t = tickers[Math.floor(next() * 3)];
    level[t] *= 1 + (next() - 0.5) * 0.05;
    const missing = next() < 0.1;
    const x = missing ? NaN : Number(level[t].toPrecision(8));
    groups.push(t);
    px.push(x);
    // One row a day, in time order (the date column is checked).
    lines.push(`${new Date(Date.UTC(2020, 0, 1) + i * 86_400_000).toISOString().slice(0, 10)},${t},${missing ? '' : x}`);
  }
  return { csv: lines.join('\n') + '\n', groups, px };
}

describe('batch --window', () => {
  it('hand-computed: window 3 over 1, 2, 4, 8 (ε = 0)', async () => {
    // [1,2,4]: mean 7/3, var 14/9 → (4 − 7/3)/√(14/9) = 5/√14.
    // [2,4,8]: mean 14/3, var 56/9 → (8 − 14/3)/√(56/9) = 10/√56.
    const r = await runFinorm(['batch', '--window', '3', '-e', '0'], { input: 'x\n1\n2\n4\n8\n' });
    expect(r.code).toBe(0);
    expectClose(column(r.stdout, 'x'), [null, null, 5 / Math.sqrt(14), 10 / Math.sqrt(56)]);
  });

  it('hand-computed: --exclude-current uses only the rows before', async () => {
    // Row 3 with [1,2]: mean 1.5, var 0.25 → (4 − 1.5)/0.5 = 5. Row 4 with [2,4]: (8 − 3)/1 = 5.
    const r = await runFinorm(['batch', '--window', '2', '--exclude-current', '-e', '0'], { input: 'x\n1\n2\n4\n8\n' });
    expectClose(column(r.stdout, 'x'), [null, null, 5, 5]);
  });

  for (const [label, args, how] of [
    ['window 5 per ticker', ['--window', '5', '-g', 'ticker'], { window: 5, minPeriods: 5, excludeCurrent: false }],
    ['window 4, min-periods 2, exclude current', ['-w', '4', '--min-periods', '2', '--exclude-current', '-g', 'ticker'], { window: 4, minPeriods: 2, excludeCurrent: true }],
    ['expanding per ticker', ['--expanding', '-g', 'ticker'], { minPeriods: 2, excludeCurrent: false }],
    ['expanding, exclude current, ddof 1', ['--expanding', '--exclude-current', '--ddof', '1', '-g', 'ticker'], { minPeriods: 2, excludeCurrent: true, ddof: 1 }],
    ['window 7 without groups', ['--window', '7'], { window: 7, minPeriods: 7, excludeCurrent: false, all: true }],
  ] as const) {
    it(`agrees with a from-scratch reference: ${label}`, async () => {
      const { csv, groups, px } = dataset(400);
      const input = tmp.file(`${label.replace(/\W+/g, '-')}.csv`, csv);
      const r = await runFinorm(['batch', ...args, '-c', 'px', input]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const expected = reference('all' in how ? groups.map(() => '') : groups, px, {
        epsilon: 1e-5,
        ddof: 'ddof' in how ? how.ddof : 0,
        minPeriods: how.minPeriods,
        excludeCurrent: how.excludeCurrent,
        ...('window' in how ? { window: how.window } : {}),
      });
      expectClose(column(r.stdout, 'px'), expected);
    });
  }

  it('works on NDJSON and leaves missing values missing', async () => {
    const input = ['{"t":"A","x":1}', '{"t":"A","x":null}', '{"t":"A","x":3}', '{"t":"A","x":5}'].join('\n') + '\n';
    const r = await runFinorm(['batch', '--expanding', '-g', 't', '-e', '0'], { input });
    expect(r.code).toBe(0);
    const xs = r.stdout.trim().split('\n').map((line) => (JSON.parse(line) as { x: number | null }).x);
    // Row 3: [1, 3] → 1. Row 4: [1, 3, 5] → (5 − 3)/√(8/3).
    expect(xs[0]).toBeNull();
    expect(xs[1]).toBeNull();
    expect(xs[2]).toBeCloseTo(1, 12);
    expect(xs[3]).toBeCloseTo(2 / Math.sqrt(8 / 3), 12);
  });

  it('rejects options that make no sense together', async () => {
    const both = await runFinorm(['batch', '--window', '3', '--expanding'], { input: 'x\n1\n' });
    expect(both.code).toBe(2);
    const minOnly = await runFinorm(['batch', '--min-periods', '3'], { input: 'x\n1\n' });
    expect(minOnly.code).toBe(2);
    expect(minOnly.stderr).toMatch(/--min-periods needs --window or --expanding/);
    const tooMany = await runFinorm(['batch', '--window', '3', '--min-periods', '4'], { input: 'x\n1\n' });
    expect(tooMany.code).toBe(2);
  });

  it('refuses --order-by without a causal window', async () => {
    const r = await runFinorm(['batch', '--order-by', 'date'], { input: 'date,x\n2024-01-02,1\n' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('finorm: --order-by needs --window or --expanding\n');
  });
});

describe('time order of causal runs', () => {
  it('stops at a date that goes backwards within a group (a newest-first file), naming file, line, group and both dates', async () => {
    const input = tmp.file(
      'newest-first.csv',
      'date,ticker,ret\n2024-01-05,A,0.01\n2024-01-05,B,0.02\n2024-01-04,A,0.03\n2024-01-04,B,0.04\n',
    );
    const r = await runFinorm(['batch', '--window', '2', '--exclude-current', '-g', 'ticker', input]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      `finorm: ${input}:4: date goes backwards in group ticker "A": "2024-01-04" comes after "2024-01-05"; causal windows need the rows in time order: sort the input by date first\n`,
    );
    // The rows before it are written; none from it on.
    expect(r.stdout.trim().split('\n')).toHaveLength(3);
  });

  it('takes the rows of each group in order even when groups interleave, and says which column it checked', async () => {
    const input = 'permno,yyyymmdd,ret\n7,20240102,1\n9,20231229,2\n7,20240103,4\n9,20240102,8\n7,20240104,16\n';
    const stats = `${tmp.dir}/order-stats.json`;
    const r = await runFinorm(['batch', '--expanding', '-g', 'permno', '-c', 'ret', '--order-by', 'yyyymmdd', '--stats', stats], { input });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((JSON.parse(readFileSync(stats, 'utf8')) as { orderChecked: string }).orderChecked).toBe('yyyymmdd');
    // yyyymmdd compares as numbers, and across a year end: 20231231 then 20240102 is in order.
    const back = await runFinorm(['batch', '--expanding', '-c', 'ret', '--order-by', '2'], { input: 'p,d,ret\n1,20240102,1\n1,20231231,2\n' });
    expect(back.code).toBe(1);
    expect(back.stderr).toMatch(/<stdin>:3: d goes backwards: "20231231" comes after "20240102"/);
  });

  it('compares timestamps as instants and refuses a value that is neither a number nor a date', async () => {
    const ordered = 'time,x\n2024-01-02T09:30:00Z,1\n2024-01-02T10:30:00+01:00,2\n2024-01-02T09:31:00Z,3\n';
    expect((await runFinorm(['batch', '--expanding', '-q'], { input: ordered })).code).toBe(0);
    const swapped = 'time,x\n2024-01-02T09:30:00Z,1\n2024-01-02T10:29:00+01:00,2\n';
    expect((await runFinorm(['batch', '--expanding', '-q'], { input: swapped })).stderr).toMatch(/time goes backwards/);
    const labels = await runFinorm(['batch', '--expanding', '-q'], { input: 'Date,x\nday9,1\nday10,2\n' });
    expect(labels.code).toBe(1);
    expect(labels.stderr).toMatch(/Date "day9" is neither a number nor an ISO-like date or time, so the time order cannot be checked; name another time column with --order-by, or trust the input order with --order-by none/);
    // --order-by none: the input order is trusted, without a warning.
    const trusted = await runFinorm(['batch', '--expanding', '--order-by', 'none'], { input: 'Date,x\nday9,1\nday10,2\n' });
    expect([trusted.code, trusted.stderr]).toEqual([0, '']);
    // A date and time without an offset is UTC, like a plain date, in any time zone.
    for (const TZ of ['UTC', 'Asia/Tokyo', 'America/New_York']) {
      const r = await runFinorm(['batch', '--expanding', '-q'], { input: 'date,p\n2020-01-05,1\n2020-01-05 05:00,2\n2020-01-05T04:00:00-03:00,3\n', env: { TZ } });
      expect([r.code, r.stderr], TZ).toEqual([0, '']);
    }
  });

  it('warns once that the input order is trusted when no time column is named or found, unless -q', async () => {
    const input = 'ticker,px\nA,1\nA,2\nA,4\n';
    const r = await runFinorm(['batch', '--expanding', '-g', 'ticker'], { input });
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('finorm: warning: no --order-by and no column named date, time, timestamp, datetime: the input order is trusted to be time order\n');
    expect((await runFinorm(['batch', '--expanding', '-g', 'ticker', '-q'], { input })).stderr).toBe('');
  });
});
