// At a terminal versus in a pipe: the CLI runs under a pseudo-terminal
// (`script`, from util-linux) to check that progress and colours appear on a
// TTY, and never in a pipe. Help and summary content are checked by what they
// contain (a name, a number, a warning), not by whole screens.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, REPO, runFinorm } from '../support/cli.js';
import { tempDir } from '../support/temp.js';
import { hasTmux, onScreen } from '../support/tmux.js';

const tmp = tempDir();
const hasScript = spawnSync('script', ['--version']).status === 0;
const hasZsh = spawnSync('zsh', ['-c', 'true']).status === 0;
if (!hasScript) console.warn('terminal.test.ts: `script` (util-linux) not found; the pseudo-terminal tests are skipped');

const shellQuote = (a: string): string => `'${a.replaceAll("'", "'\\''")}'`;

/** Runs finorm with stdin, stdout and stderr on a pseudo-terminal (`columns` wide); returns what the terminal showed. */
function onTerminal(args: string[], env: NodeJS.ProcessEnv = {}, columns = 80): string {
  const command = `stty cols ${columns} rows 40; ${[process.execPath, BIN, ...args].map(shellQuote).join(' ')}`;
  return execFileSync('script', ['-qfec', command, '/dev/null'], {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: '', CI: '', TERM: 'xterm', COLUMNS: '', ...env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Like onTerminal, for a run expected to fail: the screen and the exit code. */
function onTerminalFailing(args: string[], env: NodeJS.ProcessEnv = {}): { screen: string; code: number | null } {
  const command = [process.execPath, BIN, ...args].map(shellQuote).join(' ');
  const r = spawnSync('script', ['-qfec', command, '/dev/null'], {
    cwd: REPO,
    env: { ...process.env, NO_COLOR: '', CI: '', TERM: 'xterm', COLUMNS: '', ...env },
    encoding: 'utf8',
  });
  return { screen: r.stdout, code: r.status };
}

const PROGRESS = /finorm: (pass \d\/\d, )?[\d,]+ rows, [\d.]+ (of [\d.]+ )?MB, [\d.]+ MB\/s/;
const ESC = '\x1b[';
const now = { FINORM_PROGRESS_DELAY_MS: '0' };

let bigFile: string | undefined;
const big = (): string =>
  (bigFile ??= tmp.file('big.csv', 'a,b,c\n' + Array.from({ length: 200_000 }, (_, i) => `${i},${i % 7},${i % 13}`).join('\n') + '\n'));

describe.skipIf(!hasScript)('on a terminal', () => {
  it('shows the progress line with percent, then a coloured summary', () => {
    const screen = onTerminal(['layer', '-o', `${tmp.dir}/out.csv`, big()], now);
    expect(screen).toMatch(/finorm: [\d,]+ rows, [\d.]+ of [\d.]+ MB, [\d.]+ MB\/s, \d+%/);
    expect(screen).toContain('\x1b[1m'); // bold headings
    expect(screen).toMatch(/200,000 rows read, 200,000 written/);
    // The line is cleared before the summary starts.
    expect(screen).toMatch(/\r\x1b\[2K(\x1b\[1m)?finorm layer(\x1b\[22m)?: 200,000 rows read/);
  });

  it('says which pass batch is in', () => {
    const screen = onTerminal(['batch', '-o', `${tmp.dir}/outb.csv`, big()], now);
    expect(screen).toMatch(/finorm: pass 1\/2, [\d,]+ rows/);
    expect(screen).toMatch(/finorm: pass 2\/2, [\d,]+ rows/);
  });

  it('counts rows and megabytes of each pass on one basis: never more than the input holds', () => {
    const screen = onTerminal(['batch', '-o', `${tmp.dir}/outb2.csv`, big()], now);
    const size = statSync(big()).size / 1e6;
    const passes = [...screen.matchAll(/pass (\d)\/2, ([\d,]+) rows, ([\d.]+)(?: of [\d.]+)? MB/g)].map((m) => ({
      pass: Number(m[1]),
      rows: Number(m[2].replaceAll(',', '')),
      mb: Number(m[3]),
    }));
    expect(passes.filter((p) => p.pass === 2).length).toBeGreaterThan(0);
    for (const p of passes) {
      expect(p.rows).toBeLessThanOrEqual(200_000);
      expect(p.mb, `pass ${p.pass}: ${p.mb} MB of a ${size} MB file`).toBeLessThanOrEqual(Number(size.toFixed(1)));
    }
  });

  it('keeps the pass, percent and time left on a narrow terminal, dropping other fields', () => {
    const screen = onTerminal(['batch', '-o', `${tmp.dir}/outb3.csv`, big()], now, 44);
    const lines = screen.split('\r\x1b[2K').map((text) => text.replace(/[\r\n].*/s, '')).filter((text) => /^(finorm: )?pass/.test(text));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line.length, line).toBeLessThan(44);
      expect(line).toMatch(/pass \d\/2, .*\d+%, (\d+ min )?\d+ s left$/);
    }
  });

  it('clears the line before a result on stdout and before an error', () => {
    const stats = onTerminal(['stats', big()], now);
    expect(stats).toMatch(PROGRESS);
    expect(stats).toMatch(/\r\x1b\[2K(\x1b\[1m)?column/);
    const bad = tmp.file('bad-late.csv', readFileSync(big(), 'utf8') + 'x,1,2\n');
    const failed = onTerminalFailing(['layer', '-o', `${tmp.dir}/never.csv`, bad], now);
    expect(failed.code).toBe(1);
    expect(failed.screen).toMatch(PROGRESS);
    expect(failed.screen).toMatch(/\r\x1b\[2Kfinorm: .*bad-late\.csv:200002: column "a": value "x" is not a number/);
  });

  it('shows no colours with NO_COLOR or --color never, and no progress with -q or in CI', () => {
    const noColor = onTerminal(['layer', '-o', `${tmp.dir}/out2.csv`, big()], { NO_COLOR: '1', ...now });
    expect(noColor).toMatch(/rows read/);
    expect(noColor).not.toContain(ESC + '1m');
    const never = onTerminal(['layer', '--color', 'never', '-o', `${tmp.dir}/out2b.csv`, big()], now);
    expect(never).not.toContain(ESC + '1m');
    const quiet = onTerminal(['layer', '-q', '-o', `${tmp.dir}/out3.csv`, big()], now);
    expect(quiet).not.toMatch(PROGRESS);
    expect(quiet).not.toMatch(/rows read/);
    const ci = onTerminal(['layer', '-o', `${tmp.dir}/out4.csv`, big()], { CI: 'true', ...now });
    expect(ci).not.toMatch(PROGRESS);
  });

  it('shows no progress while rows go to the same terminal', () => {
    const screen = onTerminal(['layer', big()], now);
    expect(screen).toMatch(/200,000 rows read, 200,000 written/);
    expect(screen).not.toMatch(PROGRESS);
  });
});

const finorm = `${shellQuote(process.execPath)} ${shellQuote(BIN)}`;
const SP500_NAMES = ['Price', 'Price/Earnings', 'Dividend Yield', 'Earnings/Share', '52 Week Low', '52 Week High', 'Market Cap', 'EBITDA', 'Price/Sales', 'Price/Book'];

describe.skipIf(!hasTmux)('at real widths (tmux)', () => {
  it.each([50, 60, 80, 120])('stats fits %i columns, every name whole and every statistic shown', async (width) => {
    const screen = await onScreen(`${finorm} stats fixtures/sp500-sample.csv`, { width });
    const lines = screen.trimEnd().split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(width);
    for (const name of SP500_NAMES) expect(lines.filter((line) => line.startsWith(`${name} `)).length).toBeGreaterThan(0);
    const headings = lines.filter((line) => line.startsWith('column')).flatMap((line) => line.split(/\s+/).slice(1));
    expect(headings).toEqual(['count', 'missing', 'mean', 'std', 'min', 'p1', 'p25', 'p50', 'p75', 'p99', 'max']);
    expect(lines.at(-1)).toBe('27 rows; quantiles within 0.1% (relative)');
  });

  it.each(['batch', 'layer'])('%s big.csv | head -2 leaves head\'s two lines on the screen and no progress line', async (command) => {
    const screen = await onScreen(`${finorm} ${command} ${shellQuote(big())} | head -2`, { width: 80, env: now });
    const firstRow = command === 'batch' ? /^-?\d\.\d+(e-?\d+)?,-?\d\.\d+(e-?\d+)?,-?\d\.\d+(e-?\d+)?$/ : /^[-\d.e,]+$/;
    const lines = screen.trimEnd().split('\n');
    expect(lines, screen).toHaveLength(2);
    expect(lines[0]).toBe('a,b,c');
    expect(lines[1]).toMatch(firstRow);
  });

  it.each([50, 60, 80, 120])('the summary fits %i columns, names whole, warnings labelled and wrapped between words', async (width) => {
    const screen = await onScreen(`${finorm} batch --clip 2 -o /dev/null fixtures/sp500-sample.csv`, { width });
    const lines = screen.trimEnd().split('\n');
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(width);
    for (const name of SP500_NAMES) expect(lines.some((line) => line.startsWith(`${name} `))).toBe(true);
    const at = lines.findIndex((line) => line.startsWith('warning: ε'));
    expect(at).toBeGreaterThan(0);
    const warning = [lines[at], ...lines.slice(at + 1).filter((line) => line.startsWith(' '.repeat(9)))].map((line) => line.trim()).join(' ');
    expect(warning).toMatch(/^warning: ε = 1e-5 is large next to the variance of "Dividend Yield" \(2\.0666e-4\): its output std shrinks to about 0\.97665 \(output std [\d.]+\); scale the column or lower -e$/);
  });
});

describe('in a pipe', () => {
  it('--progress off a terminal writes plain lines, without carriage returns or escape codes', async () => {
    const r = await runFinorm(['batch', '--progress', '-o', `${tmp.dir}/plain.csv`, big()], { env: now });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^finorm: pass 1\/2, [\d,]+ rows, .*\n/);
    expect(r.stderr).not.toMatch(/[\r\x1b]/);
  });

  it('prints neither progress nor colours, unless asked', async () => {
    const input = big();
    const silent = await runFinorm(['layer', '-o', `${tmp.dir}/p1.csv`, input], { env: { ...now, NO_COLOR: '' } });
    expect(silent.stderr).toBe('');
    const forced = await runFinorm(['layer', '--progress', '--summary', '-o', `${tmp.dir}/p2.csv`, input], { env: { ...now, NO_COLOR: '' } });
    expect(forced.stderr).toMatch(PROGRESS);
    expect(forced.stderr).not.toContain(ESC + '1m');
    const colored = await runFinorm(['layer', '--summary', '--color', 'always', '-o', `${tmp.dir}/p3.csv`, input]);
    expect(colored.stderr).toContain(ESC + '1mcolumn');
  });
});

describe('help', () => {
  it('lists every command with one line and examples', async () => {
    const top = await runFinorm(['--help']);
    expect(top.code).toBe(0);
    for (const name of ['layer', 'batch', 'fit', 'stats', 'merge', 'completion']) expect(top.stdout).toMatch(new RegExp(`\\n\\s+${name}\\b`));
    expect(top.stdout).toContain("Examples:\n  printf 'date,ticker,mom_1m,mom_12m,value\\n2024-01-31,AAPL,0.5,10,-2\\n' | finorm layer\n");
  });

  it('without arguments prints the help on stderr and exits 2', async () => {
    const r = await runFinorm([]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^Usage: finorm /);
    expect(r.stderr).toContain('Examples:');
  });

  it("groups each command's options and shows defaults", async () => {
    const batch = await runFinorm(['batch', '--help']);
    const groups = ['Input:', 'Columns:', 'Normalization:', 'Output:', 'Reporting:'];
    const at = groups.map((g) => batch.stdout.indexOf(`\n${g}\n`));
    expect(at.every((i) => i > 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(batch.stdout).toMatch(/--epsilon <number>.*the file's, unless given\) \(default: 1e-5\)/s);
    expect(batch.stdout.slice(at[4])).toMatch(/--histogram/);
    expect(batch.stdout).toMatch(/Examples:\n {2}\S.* \| finorm batch\n/);
  });

  it('every example the help shows runs as shown, in an empty directory, with finorm installed on the PATH', async () => {
    // finorm as an installed package has it: bin/ and dist/ only, no fixtures/.
    const bin = join(tmp.dir, 'installed-bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'finorm'), `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(BIN)} "$@"\n`, { mode: 0o755 });
    const helps = [await runFinorm(['--help']), ...(await Promise.all(['layer', 'batch', 'fit', 'stats', 'merge', 'completion'].map((c) => runFinorm([c, '--help']))))];
    const examples = helps.flatMap((help) => {
      const section = help.stdout.slice(help.stdout.indexOf('\nExamples:\n') + 1);
      return section.split('\n').filter((line) => /^ {2}\S/.test(line)).map((line) => line.trim());
    });
    expect(examples.length).toBeGreaterThanOrEqual(18);
    const { loadCommands } = await import('../../src/cli.js');
    for (const c of (await loadCommands()).filter((c) => c.name !== 'completion')) expect(c.examples.length, c.name).toBeGreaterThanOrEqual(3);
    for (const example of examples) {
      expect(example, 'names no file of the repository').not.toMatch(/fixtures\//);
      const dir = mkdtempSync(join(tmp.dir, 'example-'));
      // zsh's example writes into its function path: a directory of the test's.
      const zsh = /\$\{?fpath/.test(example);
      if (zsh && !hasZsh) continue;
      const r = spawnSync(zsh ? 'zsh' : 'bash', zsh ? ['-fc', `fpath=(${shellQuote(dir)}); ${example}`] : ['--norc', '--noprofile', '-c', `set -o pipefail; ${example}`], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' },
      });
      expect(r.status, `${example}\n${r.stderr}`).toBe(0);
      expect(r.stderr, example).toBe('');
    }
  });

  it('suggests the closest command or option for a typo, with exit code 2', async () => {
    const command = await runFinorm(['lyer', 'fixtures/sp500-sample.csv']);
    expect(command.code).toBe(2);
    expect(command.stderr).toBe("finorm: unknown command 'lyer' (did you mean layer?)\n");
    const option = await runFinorm(['layer', '--epsilo', '1e-6', 'fixtures/sp500-sample.csv']);
    expect(option.code).toBe(2);
    expect(option.stderr).toBe("finorm: unknown option '--epsilo' (did you mean --epsilon?)\n");
    expect(option.stdout).toBe('');
    const stats = await runFinorm(['stats', '--histgram', 'fixtures/sp500-sample.csv']);
    expect(stats.code).toBe(2);
    expect(stats.stderr).toContain('(did you mean --histogram?)');
  });

  it('prints the version from package.json', async () => {
    const { version } = JSON.parse(readFileSync(`${REPO}/package.json`, 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) expect((await runFinorm([flag])).stdout).toBe(`${version}\n`);
  });
});

describe('summary content', () => {
  it('prints a summary with names, numbers, groups and warnings', async () => {
    const input = tmp.file('warn.csv', 'ticker,px,flat,tiny\nA,1,5,0.001\nA,3,5,0.002\nB,10,5,0.003\n');
    const r = await runFinorm(['batch', '--summary', '-c', 'px,flat,tiny', input]);
    expect(r.stderr).toMatch(/finorm batch: 3 rows read, 3 written/);
    // px: 1, 3, 10: mean 14/3, population std √(110/3 − (14/3)²) = √(134/9) = 3.8586.
    expect(r.stderr).toMatch(/px\s+3\s+0\s+4\.6667\s+3\.8586\s+1\s+10/);
    expect(r.stderr).toMatch(/column "flat" is constant/);
    expect(r.stderr).toMatch(/ε = 1e-5 is large next to the variance of "tiny" \(6\.6667e-7\): its output std shrinks to about 0\.25/);
    const grouped = await runFinorm(['batch', '--summary', '-g', 'ticker', input]);
    expect(grouped.stderr).toMatch(/2 groups; the smallest, ticker "B", has 1 row/);
  });

  it('warns when one column alone makes the spread of most rows in layer, and not for comparable columns', async () => {
    const stats = `${tmp.dir}/dominated.json`;
    const r = await runFinorm(['layer', '--summary', '--stats', stats, '-o', '/dev/null', 'fixtures/sp500-sample.csv']);
    expect(r.stderr).toMatch(/column "Market Cap" alone makes the spread of \d+ of 27 rows: .*normalize comparable columns \(-c\), or batch-normalize first/);
    const facts = JSON.parse(readFileSync(stats, 'utf8')) as { rows: { dominatedBy?: { column: string; rows: number } } };
    expect(facts.rows.dominatedBy?.column).toBe('Market Cap');
    expect(facts.rows.dominatedBy?.rows).toBeGreaterThan(13);
    const comparable = await runFinorm(['layer', '--summary', '-o', '/dev/null', '-c', '52 Week Low,Price,52 Week High', 'fixtures/sp500-sample.csv']);
    expect(comparable.code).toBe(0);
    expect(comparable.stderr).not.toMatch(/alone makes the spread/);
  });

  it('counts with thousands separators and a singular for one, in the summary and under the stats table', async () => {
    const one = await runFinorm(['stats', '-c', 'x'], { input: 'x,y\n5,\n' });
    expect(one.stdout.trimEnd().split('\n').at(-1)).toBe('1 row; quantiles within 0.1% (relative)');
    const input = big();
    const many = await runFinorm(['batch', '--summary', '-o', '/dev/null', '-c', 'a', input]);
    expect(many.stderr).toMatch(/^finorm batch: 200,000 rows read, 200,000 written\n/);
    expect(many.stderr).toMatch(/\na +200,000 +0 /);
    const sparse = await runFinorm(['batch', '--summary', '-o', '/dev/null', '-c', 'x'], { input: 'x,y\n1,2\n,3\n,4\n' });
    expect(sparse.stderr).toContain('finorm batch: 3 rows read, 3 written');
    expect(sparse.stderr).toContain('warning: column "x" is mostly missing (2 of 3)');
  });

  it('fits the summary to $COLUMNS, names whole while two statistics fit beside them', async () => {
    const input = tmp.file('wide.csv', 'a_rather_long_column_name_indeed,b\n1,2\n3,5\n');
    const r = await runFinorm(['batch', '--summary', input], { env: { COLUMNS: '60' } });
    expect(r.stderr).toMatch(/\na_rather_long_column_name_indeed /);
    for (const line of r.stderr.split('\n')) expect(line.length).toBeLessThanOrEqual(60);
    const narrow = await runFinorm(['batch', '--summary', input], { env: { COLUMNS: '40' } });
    expect(narrow.stderr).toMatch(/\na_rather_lo\S*…\S*indeed /);
    for (const line of narrow.stderr.split('\n')) expect(line.length).toBeLessThanOrEqual(40);
  });
});

describe('--histogram', () => {
  it('stats draws a histogram per column, logarithmic for columns spanning decades', async () => {
    const r = await runFinorm(['stats', '--histogram', '--json', '-c', 'Market Cap,Price/Sales', 'fixtures/sp500-financials.csv']);
    expect(r.code).toBe(0);
    const columns = (JSON.parse(r.stdout) as { columns: { name: string; histogram: { bars: string; scale: string } }[] }).columns;
    expect(columns.map((c) => c.histogram.bars.length)).toEqual([20, 20]);
    // Market caps from 4.6e6 to 5.2e12: log bins. Price/Sales from 0.18 to 70: skewed right on linear bins.
    expect(columns.map((c) => c.histogram.scale)).toEqual(['log', 'linear']);
    expect(columns[1].histogram.bars[0]).toBe('█');
    const table = await runFinorm(['stats', '--histogram', '-c', 'Price/Sales', 'fixtures/sp500-financials.csv']);
    expect(table.stdout).toMatch(/Price\/Sales .*█/);
  });

  it('stats draws every bin that holds a value: three outliers among 100,000', async () => {
    // 100,000 values spread over [−3, 3], then −20, 30 and 50: bins of 3.5 from −20, so the bulk fills bins 4 to 6,
    // the outliers bins 0, 14 and 19, and no other bin holds anything.
    const values = Array.from({ length: 100_000 }, (_, i) => (-3 + (6 * i) / 99_999).toFixed(6));
    const input = tmp.file('outliers.csv', ['x', ...values, '-20', '30', '50'].join('\n') + '\n');
    const r = await runFinorm(['stats', '--histogram', '--json', input]);
    expect(r.code, r.stderr).toBe(0);
    const [x] = (JSON.parse(r.stdout) as { columns: { histogram: { bars: string } }[] }).columns;
    expect(x.histogram.bars).toMatch(/^▁   [▁-█]{3}       ▁    ▁$/);
  });

  it('the summary shows input and output: clipping piles values up at both ends', async () => {
    // x = 1..100: uniform, so its 20 bins are level (each holds 4 or 5 values: one
    // step of the bars at most). z-scores reach ±1.71; --clip 1
    // moves the 21 values at each end (|x − 50.5| > 28.87) to ±1, the ends of the output's range.
    const input = tmp.file('uniform.csv', 'x\n' + Array.from({ length: 100 }, (_, i) => i + 1).join('\n') + '\n');
    const stats = `${tmp.dir}/uniform-stats.json`;
    const r = await runFinorm(['batch', '--clip', '1', '--histogram', '--summary', '--stats', stats, '-o', `${tmp.dir}/u.csv`, input]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(readFileSync(stats, 'utf8')) as {
      columns: { name: string; clipped: number; histogram: { input: { bars: string; scale: string }; output: { bars: string } } }[];
    };
    const [x] = json.columns;
    expect(x.clipped).toBe(42);
    expect(x.histogram.input.scale).toBe('linear');
    expect(x.histogram.input.bars).toMatch(/^[▆▇█]{20}$/);
    const out = x.histogram.output.bars;
    expect(out[0]).toBe('█');
    expect(out[19]).toBe('█');
    expect(out.slice(1, 19)).toMatch(/^[▁▂▃ ]+$/);
    expect(r.stderr).toMatch(/\nhistogram\s+input \(min → max\)\s+output \(min → max\)\nx\s+[▆▇█]{20} {6}█/);
  });

  it('adds nothing without --histogram', async () => {
    const stats = `${tmp.dir}/plain-stats.json`;
    await runFinorm(['layer', '--stats', stats, '-o', `${tmp.dir}/plain.csv`, 'fixtures/sp500-sample.csv']);
    expect(readFileSync(stats, 'utf8')).not.toContain('histogram');
  });
});
