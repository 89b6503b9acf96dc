// What the terminal allows: colours, the summary, its width. Decided once
// from the options and the environment, never from inside the math or I/O.

import { Chalk } from 'chalk';

export type ColorMode = 'auto' | 'always' | 'never';

/** How the summary marks headings and warnings: ANSI codes, or plain text. */
export interface Style {
  readonly colored: boolean;
  bold(text: string): string;
  yellow(text: string): string;
}

// chalk does the escape codes; whether to colour at all is decided here (wantsColor),
// from the options and the environment, so it is level 1 (16 colours) or nothing.
const chalk = new Chalk({ level: 1 });
const plain: Style = { colored: false, bold: (text) => text, yellow: (text) => text };
const ansi: Style = { colored: true, bold: (text) => chalk.bold(text), yellow: (text) => chalk.yellow(text) };

/** The style for `colored`: ANSI codes or none. */
export function styleOf(colored: boolean): Style {
  return colored ? ansi : plain;
}

/** Colours on stderr: `always`, or `auto` on a TTY without NO_COLOR and with a TERM that has them. */
export function stderrStyle(mode: ColorMode, env: NodeJS.ProcessEnv = process.env): Style {
  return styleFor(process.stderr, mode, env);
}

/** Colours on `stream` (stdout or stderr), by the same rules. */
export function styleFor(stream: { isTTY?: boolean }, mode: ColorMode, env: NodeJS.ProcessEnv = process.env): Style {
  return styleOf(wantsColor(stream.isTTY === true, mode, env));
}

/** `always`; never for `never`; for `auto`, on a terminal unless NO_COLOR is set (https://no-color.org) or TERM=dumb. */
export function wantsColor(isTTY: boolean, mode: ColorMode, env: NodeJS.ProcessEnv): boolean {
  if (mode !== 'auto') return mode === 'always';
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return isTTY && !noColor && env.TERM !== 'dumb';
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

/**
 * How wide the tables and prose written to `stream` may be: $COLUMNS if it is
 * set, else the terminal's width. Off a terminal (a log, a file) tables fit
 * `offTerminal` columns and prose is left unwrapped, for a viewer to wrap.
 */
export function layoutFor(
  stream: { isTTY?: boolean; columns?: number },
  offTerminal: number,
  env: NodeJS.ProcessEnv = process.env,
): { width: number; wrap: boolean } {
  const fromEnv = Number(env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return { width: fromEnv, wrap: true };
  if (stream.isTTY === true) return { width: stream.columns || 80, wrap: true };
  return { width: offTerminal, wrap: false };
}
