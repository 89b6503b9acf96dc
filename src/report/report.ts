// Delivers the summary at the end of a run: JSON to --stats, a table to stderr.

import { fstatSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic-file.js';
import { summaryDistributions } from './distributions.js';
import { progress } from './progress.js';
import { renderSummary } from './render.js';
import { type RunSummary, summaryJson } from './summary.js';
import { type ColorMode, layoutFor, stderrStyle, wantsSummary } from './terminal.js';

export interface ReportSettings {
  quiet: boolean;
  summary: boolean;
  stats?: string | undefined;
  color: ColorMode;
  /** --histogram: add each column's histogram, input and output. */
  histogram?: boolean;
}

/** Whether a summary will be printed or written: else its statistics need not be gathered. */
export function summaryWanted(settings: Pick<ReportSettings, 'quiet' | 'summary' | 'stats'>): boolean {
  return settings.stats !== undefined || wantsSummary(settings);
}

/**
 * Prepares the reporting of one run from its raw command-line options:
 * the progress line and, with --histogram, the summary's sketches.
 * `streamsRows`: the command writes rows as it reads them (layer, batch).
 */
export function configureReporting(
  raw: Record<string, unknown>,
  totalBytes: number | undefined,
  streamsRows: boolean,
): void {
  const quiet = raw.quiet === true;
  const rowsToStdout = streamsRows && raw.output === undefined;
  const rowsToTerminal = rowsToStdout && process.stdout.isTTY === true;
  const rowsToPipe = rowsToStdout && stdoutIsPipe();
  progress.configure({ quiet, progress: raw.progress === true, rowsToTerminal, rowsToPipe }, totalBytes);
  const stats = typeof raw.stats === 'string' ? raw.stats : undefined;
  summaryDistributions.configure(raw.histogram === true && summaryWanted({ quiet, summary: raw.summary === true, stats }));
}

/** Whether stdout is a pipe or a socket: something that may print what it reads (`| head`), unlike a file. */
function stdoutIsPipe(): boolean {
  try {
    const info = fstatSync(1);
    return info.isFIFO() || info.isSocket();
  } catch {
    return false;
  }
}

export async function deliverSummary(summary: RunSummary, settings: ReportSettings): Promise<void> {
  progress.clear();
  const histograms = settings.histogram ? summaryDistributions.histograms(summary.columns.length) : undefined;
  const complete: RunSummary = histograms
    ? { ...summary, columns: summary.columns.map((column, j) => ({ ...column, histogram: histograms[j] })) }
    : summary;
  if (settings.stats !== undefined) await writeFileAtomic(settings.stats, summaryJson(complete));
  // Off a terminal (--summary into a log) the tables still fit 80 columns: a viewer can rewrap prose, not a table.
  if (wantsSummary(settings)) process.stderr.write(renderSummary(complete, stderrStyle(settings.color), layoutFor(process.stderr, 80)));
}
