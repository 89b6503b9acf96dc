// The progress line: on a terminal, long runs show one updating line on
// stderr with what the current pass has read, the throughput, and (for files)
// percent and time left, fitted to the width. Never in a pipe, with --quiet,
// or in CI, unless --progress; then, off a terminal, a plain line every few
// seconds.
//
// Our own module rather than a progress-bar library: all it needs is one
// line rewritten with \r at most ten times a second, and the check per block
// is two comparisons (measured: no difference in `npm run bench`).

import { bytesReadSoFar } from '../io/byte-stream.js';
import { countText } from './layout.js';

export interface ProgressSettings {
  quiet: boolean;
  /** --progress: show it even when stderr is not a terminal. */
  progress: boolean;
  /**
   * The command writes its rows to stdout as it goes, and stdout is a
   * terminal: the rows would break the line (and show progress themselves).
   */
  rowsToTerminal?: boolean;
  /** The command writes its rows to stdout as it goes, and stdout is a pipe (whose reader may print to this terminal). */
  rowsToPipe?: boolean;
}

const FIRST_AFTER_MS = Number(process.env.FINORM_PROGRESS_DELAY_MS ?? 1000);
const EVERY_MS = 100;
/** Off a terminal (--progress into a log): a plain line this often, not a line rewritten ten times a second. */
const PLAIN_EVERY_MS = 5000;
/**
 * Once rows start going into a pipe, the line waits this long: a reader such
 * as `head` prints them to the same terminal, and a line drawn just before
 * would be left on screen with their text glued to it.
 */
const HOLD_AFTER_OUTPUT_MS = 2000;

class ProgressLine {
  private enabled = false;
  /** Where the line goes: rewritten in place on a terminal, or plain lines in a log. */
  private onTerminal = false;
  private nextAt = Infinity;
  private totalBytes: number | undefined;
  private passes = 1;
  private passesStarted = 0;
  private phase = '';
  private phaseStarted = 0;
  private bytesBeforePhase = 0;
  private shown = false;
  private rows = 0;
  private outputToPipe = false;
  private outputStarted = false;

  /** Decides, once per run, whether to show progress; `totalBytes` if the input size is known. */
  configure(settings: ProgressSettings, totalBytes: number | undefined, env: NodeJS.ProcessEnv = process.env): void {
    this.onTerminal = process.stderr.isTTY === true;
    this.enabled = progressShown(settings, this.onTerminal, env);
    this.totalBytes = totalBytes;
    this.passes = 1;
    this.passesStarted = 0;
    this.phase = '';
    this.rows = 0;
    this.phaseStarted = Date.now();
    this.bytesBeforePhase = bytesReadSoFar();
    this.outputToPipe = settings.rowsToPipe === true;
    this.outputStarted = false;
    this.nextAt = this.enabled ? this.phaseStarted + FIRST_AFTER_MS : Infinity;
  }

  /** The input is read `passes` times: time left counts the passes still to come. */
  expectPasses(passes: number): void {
    this.passes = passes;
  }

  /** Names the pass that starts now (`pass 2/2`): its rows and megabytes count from zero, on one basis. */
  startPhase(phase: string): void {
    this.phase = phase;
    this.passesStarted++;
    this.rows = 0;
    this.phaseStarted = Date.now();
    this.bytesBeforePhase = bytesReadSoFar();
  }

  /**
   * Called once per block of rows, before they are written (`writes`): cheap
   * unless it is time to redraw. The first rows written into a pipe clear the
   * line first (see HOLD_AFTER_OUTPUT_MS).
   */
  advance(rows: number, writes = false): void {
    this.rows += rows;
    if (writes && this.outputToPipe && !this.outputStarted) {
      this.outputStarted = true;
      this.clear();
      this.nextAt = Math.max(this.nextAt, Date.now() + HOLD_AFTER_OUTPUT_MS);
    }
    if (Date.now() < this.nextAt) return;
    this.nextAt = Date.now() + (this.onTerminal ? EVERY_MS : PLAIN_EVERY_MS);
    this.draw();
  }

  /** Clears the line (before the summary, a result, an error message, or when finorm stops early). */
  clear(): void {
    if (!this.shown) return;
    process.stderr.write('\r\x1b[2K');
    this.shown = false;
  }

  private draw(): void {
    const state: ProgressState = {
      phase: this.phase,
      rows: this.rows,
      bytes: bytesReadSoFar() - this.bytesBeforePhase,
      seconds: (Date.now() - this.phaseStarted) / 1000,
      totalBytes: this.totalBytes,
      passesAfter: Math.max(0, this.passes - Math.max(1, this.passesStarted)),
    };
    if (!this.onTerminal) {
      process.stderr.write(progressText(state) + '\n');
      return;
    }
    // One column short of the width: a line that fills it would wrap on some terminals.
    process.stderr.write('\r\x1b[2K' + progressText(state, (process.stderr.columns || 80) - 1));
    this.shown = true;
  }
}

/** Whether to show progress: --progress always; else on a terminal, unless -q, CI, or rows going to the terminal. */
export function progressShown(settings: ProgressSettings, stderrIsTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  if (settings.progress) return true;
  const ci = env.CI !== undefined && env.CI !== '' && env.CI !== 'false';
  return stderrIsTTY && !settings.quiet && !ci && settings.rowsToTerminal !== true;
}

/** Where a pass is: everything counted from its start, so rows and megabytes agree. */
export interface ProgressState {
  /** `pass 2/2`, or '' for a one-pass command. */
  phase: string;
  rows: number;
  /** Bytes this pass has read (compressed bytes for gzip, as the size counts them). */
  bytes: number;
  seconds: number;
  /** What one pass reads, when every input is a file. */
  totalBytes: number | undefined;
  /** Passes still to come after this one (time left counts them). */
  passesAfter: number;
}

const megabytes = (bytes: number): string => (bytes / 1e6).toFixed(1);

/**
 * The progress line, at most `width` columns: the fields least worth a glance
 * go first (the throughput, then the megabytes, the `finorm:` label, the
 * rows), so that the pass, percent and time left stay.
 */
export function progressText(state: ProgressState, width = Infinity): string {
  const { phase, rows, bytes, seconds, totalBytes, passesAfter } = state;
  const rate = bytes / Math.max(seconds, 1e-3);
  const sized = totalBytes !== undefined && totalBytes > 0;
  // In display order, each with how long it stays as the width shrinks (higher stays longer).
  const fields: { text: string; keep: number }[] = [];
  if (phase) fields.push({ text: phase, keep: 7 });
  fields.push({ text: `${countText(rows)} rows`, keep: 4 });
  fields.push({ text: sized ? `${megabytes(Math.min(bytes, totalBytes))} of ${megabytes(totalBytes)} MB` : `${megabytes(bytes)} MB`, keep: 2 });
  fields.push({ text: `${(rate / 1e6).toFixed(1)} MB/s`, keep: 1 });
  if (sized) {
    const share = Math.min(1, bytes / totalBytes);
    fields.push({ text: `${(share * 100).toFixed(0)}%`, keep: 6 });
    const left = rate > 0 ? (totalBytes * (1 - share) + totalBytes * passesAfter) / rate : NaN;
    if (share > 0 && Number.isFinite(left)) fields.push({ text: `${formatDuration(left)} left`, keep: 5 });
  }
  const label = { text: 'finorm: ', keep: 3 };
  const render = (): string => (label.keep > 0 ? label.text : '') + fields.filter((f) => f.keep > 0).map((f) => f.text).join(', ');
  // Drop the least useful field until the line fits (the last one standing is cut).
  for (let least = 1; render().length > width && least <= 7; least++) {
    for (const field of [...fields, label]) if (field.keep === least) field.keep = 0;
  }
  return render().slice(0, Math.max(0, width));
}
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.ceil(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The one progress line of this process. */
export const progress = new ProgressLine();
