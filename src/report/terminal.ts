// What the terminal allows: colours, the summary, its width. Decided once
// from the options and the environment, never from inside the math or I/O.

import { Chalk, type ChalkInstance } from 'chalk';

export type ColorMode = 'auto' | 'always' | 'never';

/** Colours on stderr: `always`, or `auto` on a TTY without NO_COLOR and with a TERM that has them. */
export function stderrChalk(mode: ColorMode, env: NodeJS.ProcessEnv = process.env): ChalkInstance {
  return chalkFor(process.stderr, mode, env);
}

/** Colours on `stream` (stdout or stderr), by the same rules. */
export function chalkFor(stream: NodeJS.WriteStream, mode: ColorMode, env: NodeJS.ProcessEnv = process.env): ChalkInstance {
  let level: 0 | 1 | 2 | 3 = 0;
  if (mode === 'always') level = 1;
  else if (mode === 'auto') {
    const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
    if (stream.isTTY && !noColor && env.TERM !== 'dumb') level = 1;
  }
  if (mode === 'always' || level > 0) {
    const colorterm = env.COLORTERM ?? '';
    if (/truecolor|24bit/i.test(colorterm)) level = 3;
    else if (/256/.test(env.TERM ?? '')) level = 2;
  }
  return new Chalk({ level });
}

/**
 * The end-of-run summary goes to stderr on a terminal, or anywhere with
 * --summary; never with --quiet. In a pipeline or a cron job finorm is silent
 * on success (use --stats FILE for a machine-readable record).
 */
export function wantsSummary(options: { quiet: boolean; summary: boolean }): boolean {
  if (options.quiet) return false;
  return options.summary || process.stderr.isTTY === true;
}

/** Columns available on stderr for tables: $COLUMNS if set, else the terminal's, else 80. */
export function terminalWidth(env: NodeJS.ProcessEnv = process.env): number {
  const fromEnv = Number(env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return process.stderr.isTTY ? process.stderr.columns || 80 : 80;
}
