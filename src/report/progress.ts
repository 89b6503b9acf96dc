// The progress line: on a terminal, long runs show one updating line on
// stderr with what has been read, the throughput, and (for files) percent and
// time left. Never in a pipe, with --quiet, or in CI, unless --progress.
//
// Our own module rather than a progress-bar library: all it needs is one
// line rewritten with \r at most ten times a second, and the check per block
// is two comparisons (measured: no difference in `npm run bench`).

import { bytesReadSoFar } from '../io/byte-stream.js';

export interface ProgressSettings {
  quiet: boolean;
  /** --progress: show it even when stderr is not a terminal. */
  progress: boolean;
  /**
   * The command writes its rows to stdout as it goes, and stdout is a
   * terminal: the rows would break the line (and show progress themselves).
   */
  rowsToTerminal?: boolean;
}

const FIRST_AFTER_MS = Number(process.env.FINORM_PROGRESS_DELAY_MS ?? 1000);
const EVERY_MS = 100;

class ProgressLine {
  private enabled = false;
  private started = 0;
  private nextAt = Infinity;
  private totalBytes: number | undefined;
  private phase = '';
  private shown = false;
  private rows = 0;

  /** Decides, once per run, whether to show progress; `totalBytes` if the input size is known. */
  configure(settings: ProgressSettings, totalBytes: number | undefined, env: NodeJS.ProcessEnv = process.env): void {
    this.enabled = progressShown(settings, process.stderr.isTTY === true, env);
    this.totalBytes = totalBytes;
    this.started = Date.now();
    this.nextAt = this.enabled ? this.started + FIRST_AFTER_MS : Infinity;
  }

  /** The input is read `passes` times: percent and time left count all of the reading. */
  expectPasses(passes: number): void {
    if (this.totalBytes !== undefined) this.totalBytes *= passes;
  }

  /** Names the current pass (`pass 1/2`); rows count from zero again. */
  startPhase(phase: string): void {
    this.phase = phase;
    this.rows = 0;
  }

  /** Called once per block of rows: cheap unless it is time to redraw. */
  advance(rows: number): void {
    this.rows += rows;
    if (Date.now() < this.nextAt) return;
    this.nextAt = Date.now() + EVERY_MS;
    this.draw();
  }

  /** Clears the line (before the summary or an error message). */
  clear(): void {
    if (!this.shown) return;
    process.stderr.write('\r\x1b[2K');
    this.shown = false;
  }

  private draw(): void {
    const text = progressText({
      phase: this.phase,
      rows: this.rows,
      bytes: bytesReadSoFar(),
      seconds: (Date.now() - this.started) / 1000,
      totalBytes: this.totalBytes,
    });
    const width = process.stderr.isTTY ? (process.stderr.columns || 80) - 1 : 200;
    process.stderr.write('\r\x1b[2K' + text.slice(0, width));
    this.shown = true;
  }
}

/** Whether to show progress: --progress always; else on a terminal, unless -q, CI, or rows going to the terminal. */
export function progressShown(settings: ProgressSettings, stderrIsTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  if (settings.progress) return true;
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false';
  return stderrIsTTY && !settings.quiet && !ci && settings.rowsToTerminal !== true;
}

/** The progress line: pass, rows, megabytes, throughput, and percent and time left when the size is known. */
export function progressText(state: {
  phase: string;
  rows: number;
  bytes: number;
  seconds: number;
  totalBytes: number | undefined;
}): string {
  const { phase, rows, bytes, seconds, totalBytes } = state;
  const rate = bytes / 1e6 / Math.max(seconds, 1e-3);
  let text = `finorm: ${phase ? phase + ', ' : ''}${rows.toLocaleString('en-US')} rows, ${(bytes / 1e6).toFixed(1)} MB, ${rate.toFixed(1)} MB/s`;
  if (totalBytes !== undefined && totalBytes > 0) {
    // Two-pass commands read the input twice: percent of all the reading.
    const share = Math.min(1, bytes / totalBytes);
    const left = share > 0 ? seconds * (1 / share - 1) : NaN;
    text += `, ${(share * 100).toFixed(0)}%${Number.isFinite(left) ? `, ${formatDuration(left)} left` : ''}`;
  }
  return text;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The one progress line of this process. */
export const progress = new ProgressLine();
