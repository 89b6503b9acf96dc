// Delivers the summary at the end of a run: JSON to --stats, a table to stderr.

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
  const rowsToTerminal = streamsRows && raw.output === undefined && process.stdout.isTTY === true;
  progress.configure({ quiet, progress: raw.progress === true, rowsToTerminal }, totalBytes);
  const stats = typeof raw.stats === 'string' ? raw.stats : undefined;
  summaryDistributions.configure(raw.histogram === true && summaryWanted({ quiet, summary: raw.summary === true, stats }));
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
