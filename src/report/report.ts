// Delivers the summary at the end of a run: JSON to --stats, a table to stderr.

import { writeFileAtomic } from '../io/atomic-file.js';
import { progress } from './progress.js';
import { renderSummary } from './render.js';
import { type RunSummary, summaryJson } from './summary.js';
import { type ColorMode, stderrChalk, terminalWidth, wantsSummary } from './terminal.js';

export interface ReportSettings {
  quiet: boolean;
  summary: boolean;
  stats?: string | undefined;
  color: ColorMode;
}

/** Whether a summary will be printed or written: else its statistics need not be gathered. */
export function summaryWanted(settings: ReportSettings): boolean {
  return settings.stats !== undefined || wantsSummary(settings);
}

export async function deliverSummary(summary: RunSummary, settings: ReportSettings): Promise<void> {
  progress.clear();
  if (settings.stats !== undefined) await writeFileAtomic(settings.stats, summaryJson(summary));
  if (wantsSummary(settings)) process.stderr.write(renderSummary(summary, stderrChalk(settings.color), terminalWidth()));
}
