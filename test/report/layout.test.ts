// Terminal layout: names made safe, widths as a terminal counts them, prose
// wrapped at spaces, and tables that fit 50, 60, 80 and 120 columns without
// losing a value or cutting a name that could be shown whole.

import { describe, expect, it } from 'vitest';
import { type Cell, countText, counted, cutName, displayWidth, fitTable, printable, wrapText } from '../../src/report/layout.js';
import { styleOf } from '../../src/report/terminal.js';

const WIDTHS = [50, 60, 80, 120];
const plain = styleOf(false);

describe('printable', () => {
  it('escapes what a terminal would act on: ESC, BEL, line breaks, C1 controls, bidirectional controls', () => {
    expect(printable('a\x1b]0;pwned\x07')).toBe('a\\u001b]0;pwned\\u0007');
    expect(printable('two\nlines\r\tx')).toBe('two\\nlines\\r\\tx');
    expect(printable('csi\u009b2J')).toBe('csi\\u009b2J');
    expect(printable('abc\u202edcba')).toBe('abc\\u202edcba');
    expect(printable('line\u2028sep\u007f')).toBe('line\\u2028sep\\u007f');
  });

  it('leaves every other text alone', () => {
    for (const name of ['Price/Earnings', '52 Week Low', 'μ σ² ε', '收盘价', 'café', '"quoted", too']) expect(printable(name)).toBe(name);
  });
});

describe('displayWidth', () => {
  it('counts wide characters twice, combining marks and colour codes not at all', () => {
    expect(displayWidth('Price')).toBe(5);
    expect(displayWidth('收盘价')).toBe(6);
    expect(displayWidth('cafe\u0301')).toBe(4);
    expect(displayWidth('\x1b[33mwarn\x1b[39m')).toBe(4);
  });
});

describe('cutName', () => {
  it('keeps both ends, so names that differ at the end stay apart', () => {
    expect(cutName('momentum_return_2023', 12)).toBe('moment…_2023');
    expect(cutName('momentum_return_2024', 12)).toBe('moment…_2024');
    expect(displayWidth(cutName('收盘价收盘价收盘价', 9))).toBeLessThanOrEqual(9);
    expect(cutName('short', 12)).toBe('short');
  });
});

describe('wrapText', () => {
  const sentence =
    'ε = 1e-5 is large next to the variance of "Dividend Yield" (2.0666e-4): its output std shrinks to about 0.97665; scale the column or lower -e';

  it.each(WIDTHS)('wraps at spaces within %i columns, indenting the lines after the first', (width) => {
    const lines = wrapText(sentence, width, 9);
    for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(width);
    lines.slice(1).forEach((line) => expect(line).toMatch(/^ {9}\S/));
    // Put back together, the words are all there and none was split.
    expect(lines.map((line) => line.trim()).join(' ')).toBe(sentence);
  });

  it('cuts only a word longer than a line', () => {
    const lines = wrapText(`see ${'x'.repeat(30)} there`, 20, 2);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(20);
    expect(lines.join('').replace(/\s/g, '')).toBe(`see${'x'.repeat(30)}there`);
  });
});

describe('counts', () => {
  it('group thousands and use the singular for one', () => {
    expect(countText(2000000)).toBe('2,000,000');
    expect(countText(999)).toBe('999');
    expect(counted(1, 'row')).toBe('1 row');
    expect(counted(0, 'row')).toBe('0 rows');
    expect(counted(1234, 'group')).toBe('1,234 groups');
  });
});

/** A summary-shaped table: names, counts, the input's and the output's statistics. */
function summaryTable(names: string[]): Parameters<typeof fitTable>[0] {
  const numbers = ['6.8313e+11', '-1.4686e+12', '0.021235', '473.25', '-0.45931', '0.97665', '2.609', '-78.881'];
  const rows: Cell[][] = names.map((name, r) => [
    { text: name, align: 'left' },
    { text: countText(2_000_000 + r), align: 'right' },
    { text: String(r), align: 'right' },
    ...Array.from({ length: 8 }, (_, k): Cell => ({ text: numbers[(k + r) % numbers.length], align: 'right' })),
  ]);
  return {
    header: ['column', 'count', 'missing', 'mean', 'std', 'min', 'max', 'mean', 'std', 'min', 'max'],
    rows,
    groups: [{ start: 1 }, { start: 3 }, { start: 7, marker: '→ ' }],
  };
}

/** The parts of a laid-out table: each starts with a heading line beginning `column`. */
function partsOf(text: string): string[][] {
  const parts: string[][] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('column')) parts.push([line]);
    else parts[parts.length - 1].push(line);
  }
  return parts;
}

describe('fitTable', () => {
  const names = ['Price', 'Price/Earnings', 'Dividend Yield', 'Market Cap'];

  it.each(WIDTHS)('fits %i columns, with every value and every name in full', (width) => {
    const table = summaryTable(names);
    const text = fitTable(table, plain, width);
    for (const line of text.split('\n')) expect(displayWidth(line), line).toBeLessThanOrEqual(width);
    // Each row's values, part by part, are its values in order.
    const parts = partsOf(text);
    names.forEach((name, r) => {
      const shown = parts.flatMap((part) => part[r + 1].slice(name.length).trim().split(/\s+/));
      expect(part0Name(parts, r)).toBe(name);
      expect(shown).toEqual(table.rows[r].slice(1).map((cell) => cell.text));
    });
    // The output's statistics are marked where they start.
    expect(parts.some((part) => /→ mean/.test(part[0]))).toBe(true);
  });

  it('is one table when it fits, and breaks between groups before anywhere else', () => {
    const table = summaryTable(names);
    expect(partsOf(fitTable(table, plain, 200))).toHaveLength(1);
    const parts = partsOf(fitTable(table, plain, 80));
    expect(parts).toHaveLength(2);
    expect(parts[0][0]).toMatch(/^column\s+count\s+missing\s+mean\s+std\s+min\s+max$/);
    expect(parts[1][0]).toMatch(/^column\s+→ mean\s+std\s+min\s+max$/);
  });

  it('marks a part that starts inside the output with the arrow', () => {
    const parts = partsOf(fitTable(summaryTable(names), plain, 50));
    const first = parts.findIndex((part) => /→ mean/.test(part[0]));
    for (const part of parts.slice(first + 1)) expect(part[0]).toMatch(/^column\s+→ /);
  });

  it('cuts names only when in full they would leave room for fewer than two statistics', () => {
    const long = 'a_rather_long_feature_column_name_indeed_x'; // 42 characters
    for (const width of [80, 120]) expect(fitTable(summaryTable([long, 'b']), plain, width)).toContain(long);
    const narrow = fitTable(summaryTable([long, 'b']), plain, 50);
    expect(narrow).not.toContain(long);
    expect(narrow).toMatch(/\na_rather_lo\S*…\S*ndeed_x /);
    for (const line of narrow.split('\n')) expect(displayWidth(line)).toBeLessThanOrEqual(50);
  });

  it('escapes control characters in names and aligns wide ones', () => {
    const text = fitTable(summaryTable(['a\x1b]0;pwned\x07', '收盘价']), plain, 200);
    expect(text).not.toMatch(/[\x00-\x08\x0b-\x1f]/);
    expect(text).toContain('a\\u001b]0;pwned\\u0007');
    const widths = text.split('\n').map(displayWidth);
    expect(new Set(widths.slice(1)).size).toBe(1);
  });
});

function part0Name(parts: string[][], r: number): string {
  return parts[0][r + 1].split(/\s{2,}/)[0];
}
