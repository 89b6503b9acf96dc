// At a terminal versus in a pipe: the CLI runs under a pseudo-terminal
// (`script`, from util-linux) to check that progress and colours appear on a
// TTY, and never in a pipe. Help and summary content are checked by what they
// contain (a name, a number, a warning), not by whole screens.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BIN, REPO, runFinorm } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();
const hasScript = spawnSync('script', ['--version']).status === 0;

/** Runs finorm with stdout and stderr on a pseudo-terminal; returns what the terminal showed. */
function onTerminal(args: string[], env: NodeJS.ProcessEnv = {}): string {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  return execFileSync('script', ['-qfec', command, '/dev/null'], {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: '', CI: '', TERM: 'xterm', ...env },
    encoding: 'utf8',
  });
}

const big = () => tmp.file('big.csv', 'a,b,c\n' + Array.from({ length: 200_000 }, (_, i) => `${i},${i % 7},${i % 13}`).join('\n') + '\n');

describe.skipIf(!hasScript)('on a terminal', () => {
  it('shows the progress line and a coloured summary', () => {
    const screen = onTerminal(['layer', '-o', `${tmp.dir}/out.csv`, big()], { FINORM_PROGRESS_DELAY_MS: '0' });
    expect(screen).toMatch(/finorm: [\d,]+ rows, [\d.]+ MB, [\d.]+ MB\/s, \d+%/);
    expect(screen).toMatch(/\x1b\[1m/); // bold headings
    expect(screen).toMatch(/200000 rows read, 200000 written/);
  });

  it('shows no colours with NO_COLOR, and no progress with -q or in CI', () => {
    const noColor = onTerminal(['layer', '-o', `${tmp.dir}/out2.csv`, big()], { NO_COLOR: '1', FINORM_PROGRESS_DELAY_MS: '0' });
    expect(noColor).not.toMatch(/\x1b\[1m/);
    const quiet = onTerminal(['layer', '-q', '-o', `${tmp.dir}/out3.csv`, big()], { FINORM_PROGRESS_DELAY_MS: '0' });
    expect(quiet).not.toMatch(/rows, [\d.]+ MB/);
    expect(quiet).not.toMatch(/rows read/);
    const ci = onTerminal(['layer', '-o', `${tmp.dir}/out4.csv`, big()], { CI: 'true', FINORM_PROGRESS_DELAY_MS: '0' });
    expect(ci).not.toMatch(/rows, [\d.]+ MB/);
  });
});

describe('in a pipe', () => {
  it('prints neither progress nor colours, unless asked', async () => {
    const input = big();
    const quiet = await runFinorm(['layer', '-o', `${tmp.dir}/p1.csv`, input], { env: { FINORM_PROGRESS_DELAY_MS: '0', NO_COLOR: '' } });
    expect(quiet.stderr).toBe('');
    const forced = await runFinorm(['layer', '--progress', '--summary', '-o', `${tmp.dir}/p2.csv`, input], { env: { FINORM_PROGRESS_DELAY_MS: '0', NO_COLOR: '' } });
    expect(forced.stderr).toMatch(/finorm: [\d,]+ rows, [\d.]+ MB/);
    expect(forced.stderr).not.toMatch(/\x1b\[1m/);
  });
});

describe('help and summary content', () => {
  it('lists every command with examples, and groups each command\'s options', async () => {
    const top = await runFinorm(['--help']);
    for (const name of ['layer', 'batch', 'fit', 'stats', 'merge', 'completion']) expect(top.stdout).toMatch(new RegExp(`\\n\\s+${name}\\b`));
    expect(top.stdout).toMatch(/Examples:/);
    const batch = await runFinorm(['batch', '--help']);
    for (const group of ['Input:', 'Columns:', 'Normalization:', 'Output:']) expect(batch.stdout).toContain(group);
    expect(batch.stdout).toMatch(/--epsilon <number>.*\(default: "1e-5"\)/s);
    expect(batch.stdout).toMatch(/--group-by/);
  });

  it('runs every example of every command help that uses bundled fixtures', async () => {
    const { commands } = await import('../../src/cli.js');
    const runnable = commands.flatMap((c) => c.examples.map((e) => e.command)).filter((command) => /^finorm \S/.test(command) && !/[|&<>]/.test(command) && /fixtures\//.test(command));
    expect(runnable.length).toBeGreaterThanOrEqual(10);
    for (const command of runnable) {
      const args = command.split(/\s+/).slice(1).map((a) => (a.endsWith('.json') && !existsSync(`${REPO}/${a}`) ? `${tmp.dir}/${a}` : a));
      // Outputs named by the example go to the temporary directory.
      const fixed = args.map((a, i) => (['-o', '--save-params', '--output'].includes(args[i - 1] ?? '') ? `${tmp.dir}/${a.split('/').pop()}` : a));
      const r = await runFinorm(fixed);
      expect(r.code, `${command}: ${r.stderr}`).toBe(0);
    }
  });

  it('prints a summary with names, numbers, groups and warnings', async () => {
    const input = tmp.file('warn.csv', 'ticker,px,flat,tiny\nA,1,5,0.001\nA,3,5,0.002\nB,10,5,0.003\n');
    const r = await runFinorm(['batch', '--summary', '-c', 'px,flat,tiny', input]);
    expect(r.stderr).toMatch(/finorm batch: 3 rows read, 3 written/);
    expect(r.stderr).toMatch(/px\s+3\s+0\s+4\.6667/);
    expect(r.stderr).toMatch(/column "flat" is constant/);
    expect(r.stderr).toMatch(/ε = 1e-5 is large next to the variance of "tiny" \(6\.6667e-7\): its output std shrinks to 0\.25/);
    const grouped = await runFinorm(['batch', '--summary', '-g', 'ticker', input]);
    expect(grouped.stderr).toMatch(/2 groups; the smallest, ticker "B", has 1 row/);
  });

  it('fits the summary to a narrow terminal', async () => {
    const input = tmp.file('wide.csv', 'a_rather_long_column_name_indeed,b\n1,2\n3,5\n');
    const r = await runFinorm(['batch', '--summary', input], { env: { COLUMNS: '60' } });
    expect(r.stderr).toMatch(/a_rather_lo…/);
  });
});

describe('stats --histogram', () => {
  it('draws a histogram per column, logarithmic for columns spanning decades', async () => {
    const r = await runFinorm(['stats', '--histogram', '--json', '-c', 'Market Cap,Price/Sales', 'fixtures/sp500-financials.csv']);
    expect(r.code).toBe(0);
    const columns = (JSON.parse(r.stdout) as { columns: { name: string; histogram: { bars: string; scale: string } }[] }).columns;
    expect(columns.map((c) => c.histogram.bars.length)).toEqual([20, 20]);
    // Market caps from 2.6e9 to 5.2e12: log bins. Price/Sales from 0.xx to 70: skewed right on linear bins.
    expect(columns.map((c) => c.histogram.scale)).toEqual(['log', 'linear']);
    expect(columns[1].histogram.bars[0]).toBe('█');
    const table = await runFinorm(['stats', '--histogram', '-c', 'Price/Sales', 'fixtures/sp500-financials.csv']);
    expect(table.stdout).toMatch(/Price\/Sales .*█/);
  });
});
