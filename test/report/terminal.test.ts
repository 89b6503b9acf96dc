// When colours and the progress line appear: the rules, without a terminal.

import { describe, expect, it } from 'vitest';
import { formatDuration, progressShown, progressText } from '../../src/report/progress.js';
import { layoutFor, styleOf, wantsColor } from '../../src/report/terminal.js';

describe('wantsColor', () => {
  it('auto: on a terminal only, and never with NO_COLOR or TERM=dumb', () => {
    expect(wantsColor(true, 'auto', { TERM: 'xterm' })).toBe(true);
    expect(wantsColor(false, 'auto', { TERM: 'xterm' })).toBe(false);
    expect(wantsColor(true, 'auto', { TERM: 'xterm', NO_COLOR: '1' })).toBe(false);
    // no-color.org: an empty NO_COLOR does not count.
    expect(wantsColor(true, 'auto', { TERM: 'xterm', NO_COLOR: '' })).toBe(true);
    expect(wantsColor(true, 'auto', { TERM: 'dumb' })).toBe(false);
  });

  it('always and never override the terminal and NO_COLOR', () => {
    expect(wantsColor(false, 'always', { NO_COLOR: '1' })).toBe(true);
    expect(wantsColor(true, 'never', {})).toBe(false);
  });

  it('styles with SGR codes that close themselves, or not at all', () => {
    expect(styleOf(true).yellow('x')).toBe('\x1b[33mx\x1b[39m');
    expect(styleOf(true).bold('x')).toBe('\x1b[1mx\x1b[22m');
    expect(styleOf(false).yellow('x')).toBe('x');
  });
});

describe('layoutFor', () => {
  it('takes $COLUMNS when it is a positive whole number, else the terminal\'s width', () => {
    expect(layoutFor({ isTTY: false }, 80, { COLUMNS: '63' })).toEqual({ width: 63, wrap: true });
    expect(layoutFor({ isTTY: true, columns: 120 }, 80, { COLUMNS: 'wide' })).toEqual({ width: 120, wrap: true });
  });

  it('off a terminal: tables fit the fallback width, prose is not wrapped', () => {
    expect(layoutFor({ isTTY: false }, 80, {})).toEqual({ width: 80, wrap: false });
    expect(layoutFor({}, Infinity, {})).toEqual({ width: Infinity, wrap: false });
  });
});

describe('progressShown', () => {
  const settings = { quiet: false, progress: false };
  it('on a terminal, unless -q, CI, or rows going to the same terminal', () => {
    expect(progressShown(settings, true, {})).toBe(true);
    expect(progressShown(settings, false, {})).toBe(false);
    expect(progressShown({ ...settings, quiet: true }, true, {})).toBe(false);
    expect(progressShown(settings, true, { CI: 'true' })).toBe(false);
    expect(progressShown(settings, true, { CI: 'false' })).toBe(true);
    expect(progressShown({ ...settings, rowsToTerminal: true }, true, {})).toBe(false);
  });

  it('always with --progress', () => {
    expect(progressShown({ quiet: true, progress: true }, false, { CI: '1' })).toBe(true);
  });
});

describe('progressText', () => {
  const state = { phase: '', rows: 1234567, bytes: 50e6, seconds: 10, totalBytes: undefined, passesAfter: 0 };

  it('shows rows, megabytes and throughput', () => {
    expect(progressText(state)).toBe('finorm: 1,234,567 rows, 50.0 MB, 5.0 MB/s');
  });

  it('adds the pass, the size, percent and time left when the size is known', () => {
    // A quarter of pass 1 read in 10 s: three quarters of it and all of pass 2 left, 70 s at the same rate.
    expect(progressText({ ...state, phase: 'pass 1/2', rows: 1000, totalBytes: 200e6, passesAfter: 1 })).toBe(
      'finorm: pass 1/2, 1,000 rows, 50.0 of 200.0 MB, 5.0 MB/s, 25%, 1 min 10 s left',
    );
  });

  it('counts rows and megabytes of the pass on one basis, never more than the input holds', () => {
    const pass2 = progressText({ ...state, phase: 'pass 2/2', rows: 500, bytes: 164e6 + 3, seconds: 8, totalBytes: 164e6 });
    expect(pass2).toBe('finorm: pass 2/2, 500 rows, 164.0 of 164.0 MB, 20.5 MB/s, 100%, 0 s left');
  });

  const full = { phase: 'pass 2/2', rows: 1234567, bytes: 82e6, seconds: 4, totalBytes: 164e6, passesAfter: 0 };

  it.each([
    [120, 'finorm: pass 2/2, 1,234,567 rows, 82.0 of 164.0 MB, 20.5 MB/s, 50%, 4 s left'],
    [80, 'finorm: pass 2/2, 1,234,567 rows, 82.0 of 164.0 MB, 20.5 MB/s, 50%, 4 s left'],
    [60, 'finorm: pass 2/2, 1,234,567 rows, 50%, 4 s left'],
    [50, 'finorm: pass 2/2, 1,234,567 rows, 50%, 4 s left'],
    [40, 'pass 2/2, 1,234,567 rows, 50%, 4 s left'],
    [30, 'pass 2/2, 50%, 4 s left'],
  ])('at %i columns drops the least useful fields first', (width, text) => {
    expect(progressText(full, width)).toBe(text);
    expect(progressText(full, width).length).toBeLessThanOrEqual(width);
  });

  it('writes durations in seconds, minutes, hours', () => {
    expect(formatDuration(4.2)).toBe('5 s');
    expect(formatDuration(125)).toBe('2 min 5 s');
    expect(formatDuration(3 * 3600 + 7 * 60)).toBe('3 h 7 min');
  });
});
