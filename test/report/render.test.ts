// The summary as people read it: numbers, names, warnings and layout, checked
// by what the text contains rather than by whole screens.

import { describe, expect, it } from 'vitest';
import { histogramText, humanNumber, meanForPeople, renderSummary } from '../../src/report/render.js';
import type { RunSummary } from '../../src/report/summary.js';
import { styleOf } from '../../src/report/terminal.js';

const YELLOW = '\x1b[33m';
const wide = (width: number) => ({ width, wrap: true });
const BOLD = '\x1b[1m';
// eslint-disable-next-line no-control-regex
const plainText = (text: string): string => text.replace(/\x1b\[[0-9;]*m/g, '');

describe('humanNumber', () => {
  it('keeps 5 significant digits and drops trailing zeros', () => {
    expect(humanNumber(187.15576923076924)).toBe('187.16');
    expect(humanNumber(-0.0364631)).toBe('-0.036463');
    expect(humanNumber(1.5)).toBe('1.5');
    expect(humanNumber(100)).toBe('100');
    expect(humanNumber(12345.67)).toBe('12346');
  });

  it('writes large and small magnitudes in exponent form, 6.8313e+11 style', () => {
    expect(humanNumber(683132925715.6923)).toBe('6.8313e+11');
    expect(humanNumber(-1234567)).toBe('-1.2346e+6');
    expect(humanNumber(0.0002)).toBe('2e-4');
    expect(humanNumber(0.00099999)).toBe('9.9999e-4');
  });

  it('chooses the form after rounding, so no 1.0000e+6 or 0.0010000 appears', () => {
    expect(humanNumber(999999.7)).toBe('1e+6');
    expect(humanNumber(0.0009999951)).toBe('0.001');
    expect(humanNumber(99999.5)).toBe('100000');
    expect(humanNumber(123456.7)).toBe('123457');
  });

  it('writes zero, nothing and non-finite values plainly', () => {
    expect(humanNumber(0)).toBe('0');
    expect(humanNumber(-0)).toBe('0');
    expect(humanNumber(null)).toBe('–');
    expect(humanNumber(Infinity)).toBe('Infinity');
  });
});

function summary(overrides: Partial<RunSummary> = {}): RunSummary {
  const stats = (mean: number, std: number, min: number, max: number, count = 10, missing = 0) => ({ count, missing, mean, std, min, max });
  return {
    command: 'batch',
    rowsRead: 12,
    rowsWritten: 12,
    rowsSkipped: 0,
    skipped: [],
    epsilon: 1e-5,
    columns: [
      { name: 'Price', input: stats(187.15576923, 109.66, 14.77, 473.25), output: stats(0, 1, -1.5718, 2.6089) },
      { name: 'flat', input: stats(5, 0, 5, 5), output: stats(0, 0, 0, 0) },
      { name: 'sparse', input: stats(2, 1, 1, 3, 2, 10), output: stats(0, 1, -1, 1, 2, 10) },
      { name: 'tiny', input: stats(0.002, 0.001, 0.001, 0.003), output: stats(0, 0.3015, -0.3015, 0.3015) },
    ],
    ...overrides,
  };
}

describe('renderSummary', () => {
  it('shows rows, names, input and output statistics aligned, columns as rows', () => {
    const text = renderSummary(summary(), styleOf(false), wide(200));
    expect(text).toContain('finorm batch: 12 rows read, 12 written');
    const lines = text.split('\n');
    const header = lines.find((l) => l.startsWith('column'));
    expect(header).toMatch(/^column\s+count\s+missing\s+mean\s+std\s+min\s+max\s+→ mean\s+std\s+min\s+max$/);
    const price = lines.find((l) => l.startsWith('Price'));
    expect(price).toMatch(/^Price\s+10\s+0\s+187\.16\s+109\.66\s+14\.77\s+473\.25\s+0\s+1\s+-1\.5718\s+2\.6089$/);
    // Aligned: every right-aligned column ends at the same place on each row.
    const table = lines.slice(1, 6);
    expect(new Set(table.map((l) => l.length)).size).toBe(1);
  });

  it('warns about constant, mostly missing columns and a large ε, in yellow on a terminal', () => {
    const colored = renderSummary(summary(), styleOf(true), wide(200));
    expect(colored).toContain(`${YELLOW}warning: column "flat" is constant`);
    expect(colored).toContain(`${YELLOW}warning: column "sparse" is mostly missing (10 of 12)`);
    // tiny: variance 1e-6 and ε = 1e-5: output std √(1e-6 / 1.1e-5) = 0.30151.
    expect(colored).toContain('ε = 1e-5 is large next to the variance of "tiny" (1e-6): its output std shrinks to about 0.30151');
    expect(colored).toContain(`${BOLD}column`);
    // Price has none of these problems.
    expect(colored).not.toMatch(/"Price"/);
  });

  it('says nothing of rows written for fit, which writes none', () => {
    const columns = summary().columns.map(({ output: _, ...c }) => c);
    const text = renderSummary(summary({ command: 'fit', rowsWritten: 0, columns }), styleOf(false), wide(200));
    expect(text.split('\n')[0]).toBe('finorm fit: 12 rows read');
    expect(text).toMatch(/\ncolumn\s+count\s+missing\s+mean\s+std\s+min\s+max\n/);
  });

  it('has no escape codes without colours', () => {
    const text = renderSummary(summary({ rowsSkipped: 1, skipped: [{ file: 'a.csv', line: 3, column: 'Price', reason: 'not a number' }] }), styleOf(false), wide(200));
    expect(text).not.toContain('\x1b');
    expect(text).toContain('1 skipped');
    expect(text).toContain('warning: skipped a.csv:3: column "Price": not a number');
  });

  it('counts clipped values and reports groups', () => {
    const columns = summary().columns.map((c, j) => ({ ...c, clipped: j === 0 ? 3 : 0 }));
    const text = renderSummary(summary({ columns, groups: { count: 11, smallest: { name: 'Sector "Telecom"', rows: 1 } } }), styleOf(false), wide(200));
    expect(text).toMatch(/max\s+clipped\n/);
    expect(text).toMatch(/\nPrice .* 3\n/);
    expect(text).toContain('11 groups; the smallest, Sector "Telecom", has 1 row');
    expect(text).toContain('groups with one row are written as β');
  });

  it('reports layer\'s rows: σ range and zero-variance rows', () => {
    const rows = { zeroVariance: 2, noFeatures: 1, sigma: { min: 0, mean: 12.5, max: 1.5e9 } };
    const text = renderSummary(summary({ command: 'layer', rows }), styleOf(false), wide(200));
    expect(text).toContain('per-row σ: min 0, mean 12.5, max 1.5e+9');
    expect(text).toContain('warning: 2 rows with zero variance (written as β)');
    expect(text).toContain('warning: 1 row with no feature value (passed through)');
  });

  it.each([50, 60, 80, 120])('fits %i columns: every line, names in full, warnings labelled and wrapped at spaces', (width) => {
    const long = summary({ rowsRead: 2_000_000, rowsWritten: 2_000_000, rowsSkipped: 1234, skipped: [{ file: 'prices.csv', line: 1_500_000, column: 'Market Cap', reason: 'value "1,234" is not a number (thousands separators are not read)' }] });
    long.columns[0] = { ...long.columns[0], name: 'Market Cap', input: { count: 1_999_999, missing: 1, mean: 6.8313e11, std: 1.4686e12, min: -8.5731e9, max: 5.2007e12 } };
    long.columns[1] = { ...long.columns[1], name: 'Price/Earnings' };
    const text = renderSummary(long, styleOf(true), wide(width));
    const lines = plainText(text).trimEnd().split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(width);
    for (const name of ['Market Cap', 'Price/Earnings', 'sparse', 'tiny']) expect(lines.some((line) => line.startsWith(`${name} `))).toBe(true);
    const headline = lines.slice(0, lines.findIndex((line) => line.startsWith('column')));
    expect(headline.map((line) => line.trim()).join(' ')).toBe('finorm batch: 2,000,000 rows read, 2,000,000 written, 1,234 skipped');
    expect(plainText(text)).toMatch(/\nMarket Cap +1,999,999 +1\b/);
    // Each warning starts with its label; its lines after the first are indented under the text, and none splits a word.
    const warnings: string[] = [];
    for (const line of lines) {
      if (line.startsWith('warning: ')) warnings.push(line.slice('warning: '.length));
      else if (line.startsWith(' '.repeat(9)) && warnings.length > 0) warnings[warnings.length - 1] += ` ${line.trim()}`;
    }
    expect(warnings).toContain('ε = 1e-5 is large next to the variance of "tiny" (1e-6): its output std shrinks to about 0.30151 (output std 0.3015); scale the column or lower -e');
    expect(warnings).toContain('skipped prices.csv:1500000: column "Market Cap": value "1,234" is not a number (thousands separators are not read)');
    expect(warnings).toContain('1,233 more rows skipped');
    // In colour, each line of a warning is yellow on its own (a pager shows any line rightly).
    for (const line of text.split('\n').filter((l) => plainText(l).startsWith('         '))) expect(line.startsWith(YELLOW)).toBe(true);
  });

  it('keeps names whole where two tables fit them, and cuts them only as a last resort', () => {
    const long = summary();
    long.columns[0] = { ...long.columns[0], name: 'an_extremely_long_feature_column_name' };
    for (const width of [80, 120]) {
      const text = renderSummary(long, styleOf(false), wide(width));
      expect(text).toContain('an_extremely_long_feature_column_name');
      for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(width);
    }
    const narrow = renderSummary(long, styleOf(false), wide(50));
    for (const line of narrow.split('\n')) expect(line.length).toBeLessThanOrEqual(50);
    expect(narrow).toMatch(/\nan_extremely\S*…\S*_name /);
    expect(narrow).toMatch(/\ncolumn\s+→ mean/);
  });

  it('off a terminal, tables still fit and prose is left for the viewer to wrap', () => {
    const text = renderSummary(summary(), styleOf(false), { width: 60, wrap: false });
    expect(text).toContain('warning: ε = 1e-5 is large next to the variance of "tiny" (1e-6): its output std shrinks to about 0.30151 (output std 0.3015); scale the column or lower -e\n');
    for (const line of text.split('\n').filter((l) => !l.startsWith('warning:'))) expect(line.length).toBeLessThanOrEqual(60);
  });

  it('escapes control characters in names, group values and places', () => {
    const hostile = summary({
      groups: { count: 2, smallest: { name: 'ticker "A\x1b[2J"', rows: 1 } },
      leftOut: [{ name: 'id\u009b', reason: 'named like an identifier' }],
      rowsSkipped: 1,
      skipped: [{ file: 'a.csv', line: 3, column: 'x\ny', reason: 'not a number' }],
    });
    hostile.columns[0] = { ...hostile.columns[0], name: 'a\x1b]0;pwned\x07' };
    const text = renderSummary(hostile, styleOf(false), wide(120));
    expect(text).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f-\x9f]/);
    expect(text).toContain('a\\u001b]0;pwned\\u0007');
    expect(text).toContain('id\\u009b (named like an identifier)');
    expect(text).toContain('skipped a.csv:3: column "x\\ny"');
  });

  it('draws input and output histograms when the columns have them', () => {
    const bars = '█'.repeat(20);
    const columns = summary().columns.map((c) => ({
      ...c,
      histogram: { input: { bars, log: c.name === 'Price' }, output: { bars: '▁'.repeat(20), log: false } },
    }));
    const text = renderSummary(summary({ columns }), styleOf(false), wide(200));
    expect(text).toMatch(/\nhistogram\s+input \(min → max\)\s+output \(min → max\)\n/);
    expect(text).toMatch(/\nPrice +█{20} log  ▁{20}\n/);
    expect(text).toMatch(/\nflat +█{20} {6}▁{20}\n/);
    expect(renderSummary(summary(), styleOf(false), wide(200))).not.toContain('histogram');
  });
});

describe('meanForPeople', () => {
  it('shows a mean that is rounding noise next to the range as 0', () => {
    expect(meanForPeople({ mean: -5.7463e-18, min: -1, max: 1 })).toBe(0);
    expect(meanForPeople({ mean: 1e-9, min: -1, max: 1 })).toBe(1e-9);
    // A column of tiny values keeps its tiny mean.
    expect(meanForPeople({ mean: 2e-15, min: 1e-15, max: 3e-15 })).toBe(2e-15);
    expect(meanForPeople({ mean: null, min: null, max: null })).toBeNull();
  });
});

describe('histogramText', () => {
  it('marks logarithmic bins and pads linear ones to the same width', () => {
    expect(histogramText({ bars: '▁▂', log: true })).toBe('▁▂ log');
    expect(histogramText({ bars: '▁▂', log: false })).toBe('▁▂    ');
    expect(histogramText(undefined)).toBe('');
  });
});
