// The end-of-run summary as data: what the table on stderr shows and what
// --stats writes as JSON. Built from the statistics the commands gathered.

import type { LayerRowStats } from '../core/layer.js';
import type { ColumnMoments } from '../core/moments.js';
import type { RowError } from '../errors.js';
import type { BadRowPolicy } from '../io/bad-rows.js';
import type { FeatureSelection } from '../selection.js';
import type { ColumnHistograms } from './distributions.js';
import type { Histogram } from './histogram.js';

export interface ColumnSummary {
  count: number;
  missing: number;
  mean: number | null;
  std: number | null;
  min: number | null;
  max: number | null;
}

export interface RunSummary {
  command: string;
  rowsRead: number;
  rowsWritten: number;
  rowsSkipped: number;
  /** The first few skipped rows, with where and why. */
  skipped: BadPlace[];
  /** --on-error null: how many values were made missing (their rows kept), and the first few. */
  valuesMadeMissing?: number;
  madeMissing?: BadPlace[];
  epsilon?: number;
  columns: {
    name: string;
    input: ColumnSummary;
    output?: ColumnSummary;
    clipped?: number;
    /** Grouped runs: in how many of the groups ε is large next to the column's variance (at least 1% of it, std shrinking by 0.5% or more). */
    epsilonLarge?: { groups: number; of: number };
    /** --histogram: the column's distribution before and after normalizing. */
    histogram?: ColumnHistograms;
  }[];
  /** Nothing named the delimiter (no -f, -d or extension): the one sniffed from the header line of `source`, when not a comma. */
  delimiterSniffed?: { source: string; delimiter: string };
  /** Inferred features: the numeric columns left out, and why (keys, dates, an index, --exclude, --group-by). */
  leftOut?: { name: string; reason: string }[];
  /** Causal runs: the column whose values were checked never to go backwards within a group. */
  orderChecked?: string;
  /** Grouped runs: each group's variances were checked against ε (`columns[].epsilonLarge` says where ε is large). */
  epsilonCheckedPerGroup?: boolean;
  /** --group-by: how many groups, and the smallest (its group-by values and row count). */
  groups?: { count: number; smallest: { name: string; rows: number } };
  /** How the run was carried out: threads that processed pieces (1 = the main thread alone), pieces, and each pass over the input. */
  execution?: {
    threads: number;
    pieces: number;
    passes: { workers: number; pieces: number; piecesPerWorker: number[]; piecesOnMainThread: number }[];
  };
  /** `layer` only: facts about the rows. */
  rows?: {
    zeroVariance: number;
    noFeatures: number;
    sigma: { min: number | null; mean: number | null; max: number | null };
    /** The column that alone makes the spread of most rows (its own outlier among the features), if one does. */
    dominatedBy?: { column: string; rows: number };
  };
}

const orNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Count, missing, mean, std (with `ddof`), min and max of column j. */
export function columnSummary(m: ColumnMoments, j: number, ddof = 0): ColumnSummary {
  const empty = m.count[j] === 0;
  return {
    count: m.count[j],
    missing: m.missing[j],
    mean: empty ? null : orNull(m.mean(j)),
    std: empty ? null : orNull(m.std(j, ddof)),
    min: empty ? null : m.min[j],
    max: empty ? null : m.max[j],
  };
}

export function columnSummaries(
  names: readonly string[],
  input: ColumnMoments,
  output?: ColumnMoments,
): RunSummary['columns'] {
  return names.map((name, j) => ({
    name,
    input: columnSummary(input, j),
    ...(output ? { output: columnSummary(output, j) } : {}),
  }));
}

/** Where a bad row or value is, and why it is bad. */
export interface BadPlace {
  file: string;
  line: number;
  column?: string;
  reason: string;
}

function placesOf(errors: readonly RowError[]): BadPlace[] {
  return errors.map((error) => ({
    file: error.location?.file ?? '',
    line: error.location?.line ?? 0,
    ...(error.location?.column !== undefined ? { column: error.location.column } : {}),
    reason: error.detail,
  }));
}

/** What the summary says of bad rows: how many were skipped and the first few; under --on-error null, the values made missing too. */
export function badRowFacts(policy: BadRowPolicy): Pick<RunSummary, 'rowsSkipped' | 'skipped' | 'valuesMadeMissing' | 'madeMissing'> {
  const facts = { rowsSkipped: policy.skipped, skipped: placesOf(policy.examples) };
  return policy.madeMissing === 0 ? facts : { ...facts, valuesMadeMissing: policy.madeMissing, madeMissing: placesOf(policy.missingExamples) };
}

export function rowFacts(stats: LayerRowStats, names: readonly string[], rows: number): NonNullable<RunSummary['rows']> {
  const s = stats.sigma;
  const some = s.count[0] > 0;
  const facts: NonNullable<RunSummary['rows']> = {
    zeroVariance: stats.zeroVarianceRows,
    noFeatures: stats.emptyRows,
    sigma: {
      min: some ? s.min[0] : null,
      mean: some ? orNull(s.mean(0)) : null,
      max: some ? s.max[0] : null,
    },
  };
  // One column making the spread of most rows: worth a warning.
  let top = -1;
  stats.dominatedBy.forEach((count, j) => {
    if (count > 0 && (top < 0 || count > stats.dominatedBy[top])) top = j;
  });
  if (top >= 0 && stats.dominatedBy[top] > rows / 2) facts.dominatedBy = { column: names[top], rows: stats.dominatedBy[top] };
  return facts;
}

export function summaryJson(summary: RunSummary): string {
  const columns = summary.columns.map(({ histogram, ...column }) =>
    histogram === undefined
      ? column
      : {
          ...column,
          // As `stats --json` writes them: the bars and their scale.
          histogram: {
            ...(histogram.input ? { input: histogramJson(histogram.input) } : {}),
            ...(histogram.output ? { output: histogramJson(histogram.output) } : {}),
          },
        },
  );
  return JSON.stringify({ ...summary, columns }, null, 2) + '\n';
}

export function histogramJson(h: Histogram): { bars: string; scale: 'log' | 'linear' } {
  return { bars: h.bars, scale: h.log ? 'log' : 'linear' };
}

/** ε at least this share of a variance shrinks the output std by 0.5% or more: worth a warning. */
export const EPSILON_SHARE_WARNED = 0.01;

/**
 * Grouped runs: for each column, in how many groups ε is large next to the
 * group's variance (groups without spread, variance 0, are not counted:
 * they are written as β whatever ε is).
 */
export function withEpsilonLarge<T extends object>(
  columns: T[],
  epsilon: number,
  groupVariances: Iterable<ArrayLike<number>> | undefined,
): (T & { epsilonLarge?: { groups: number; of: number } })[] {
  if (groupVariances === undefined || epsilon <= 0) return columns;
  return columns.map((column, j) => {
    let groups = 0;
    let of = 0;
    for (const variances of groupVariances) {
      of++;
      const v = variances[j];
      if (v > 0 && epsilon >= EPSILON_SHARE_WARNED * v) groups++;
    }
    return groups === 0 ? column : { ...column, epsilonLarge: { groups, of } };
  });
}

/**
 * What the summary says of how the input was read: the delimiter sniffed
 * from a header line, if it was not a comma; the numeric columns left out of
 * inferred features, when there are some.
 */
export function inputFacts(input: {
  selection: FeatureSelection;
  sniffed: { source: string; delimiter: string } | undefined;
}): Pick<RunSummary, 'leftOut' | 'delimiterSniffed'> {
  return {
    ...(input.sniffed === undefined ? {} : { delimiterSniffed: input.sniffed }),
    ...(input.selection.leftOut.length === 0 ? {} : { leftOut: input.selection.leftOut }),
  };
}

/** A delimiter as the summary names it. */
export function delimiterName(delimiter: string): string {
  return delimiter === '\t' ? 'tab' : delimiter === ';' ? 'semicolon' : delimiter === '|' ? 'pipe' : JSON.stringify(delimiter);
}
