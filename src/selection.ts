// Which columns are features (normalized) and which pass through unchanged.

import { UsageError } from './errors.js';
import { parseDecimal } from './io/decimal.js';

/** A cell of the sample features are inferred from: CSV text, or an NDJSON value (undefined = key absent). */
export type Cell = unknown;

/** How many leading rows decide which columns are numeric when --columns is not given. */
export const INFERENCE_ROWS = 1000;

export interface FeatureSelection {
  /** All column names, in input order. */
  columns: string[];
  /** Indexes of the feature columns, ascending (input order). */
  features: number[];
  /** Names of the feature columns. */
  names: string[];
  /** For each column: its position among the features, or −1 if it passes through. */
  slotOf: Int32Array;
  /** Inferred features only: the numeric columns left out, and why (keys, dates, index, --exclude, --group-by). */
  leftOut: { name: string; reason: string }[];
}

export interface SelectionRequest {
  /** Tokens of --columns: names, 1-based numbers, ranges `a-b` or `a-`. */
  columns?: string[] | undefined;
  /** Tokens of --exclude. */
  exclude?: string[] | undefined;
  /** Tokens of --group-by: these columns name groups and are never features. */
  groupBy?: string[] | undefined;
}

export function selectionOf(columns: string[], features: number[]): FeatureSelection {
  const sorted = [...new Set(features)].sort((a, b) => a - b);
  const slotOf = new Int32Array(columns.length).fill(-1);
  sorted.forEach((column, slot) => (slotOf[column] = slot));
  return { columns, features: sorted, names: sorted.map((i) => columns[i]), slotOf, leftOut: [] };
}

/** Names of identifier columns (case-insensitive), besides `…_id`, `… id` and `fooId`. */
const KEY_NAMES = new Set(['id', 'permno', 'permco', 'lpermno', 'cusip', 'gvkey', 'cik', 'sic', 'naics', 'secid', 'index', 'unnamed: 0']);

/**
 * Why an integer column of the sample is a key rather than a feature, if it
 * is one: named like an identifier (pandas' index column, `Unnamed: 0`,
 * included), or all its values dates written as yyyymmdd. Values alone do
 * not make a key: 1, 2, 3, … is as often a feature (a step, a count) as an
 * index, and market caps are distinct integers too.
 */
export function keyReason(name: string, values: readonly number[]): string | undefined {
  if (values.length === 0 || !values.every(Number.isInteger)) return undefined;
  if (KEY_NAMES.has(name.toLowerCase()) || /(^|[_\s.-])id$/i.test(name) || /[a-z]Id$/.test(name)) return 'named like an identifier';
  if (values.every(isYyyymmdd)) return 'yyyymmdd dates';
  return undefined;
}

function isYyyymmdd(v: number): boolean {
  if (v < 18000101 || v > 22001231) return false;
  const month = Math.floor(v / 100) % 100;
  const day = v % 100;
  return month >= 1 && month <= 12 && day >= 1 && day <= 31;
}

/**
 * Resolves --columns/--exclude against the header. Without --columns, the
 * features are the columns whose present values in `sample` are all numbers
 * (and that have at least one), except keys (keyReason): those are named in
 * `leftOut`, with the columns --exclude and --group-by keep out.
 */
export function selectFeatures(
  columns: string[],
  request: SelectionRequest,
  sample: readonly Cell[][],
  naOf: (column: number) => ReadonlySet<string>,
  jsonCells: boolean,
): FeatureSelection {
  let chosen: number[];
  const leftOut: FeatureSelection['leftOut'] = [];
  if (request.columns !== undefined) {
    if (request.columns.length === 0) throw new UsageError('--columns: the list is empty; name at least one column');
    chosen = resolveColumns(request.columns, columns, '--columns');
  } else {
    // Only the first INFERENCE_ROWS rows decide, as documented, even when the
    // sample holds more (it is read in blocks).
    const inferenceRows = sample.slice(0, INFERENCE_ROWS);
    const numeric = columns.map((_, i) => i).filter((i) => looksNumeric(inferenceRows, i, naOf(i), jsonCells));
    chosen = [];
    for (const i of numeric) {
      const reason = keyReason(columns[i], presentNumbers(inferenceRows, i, naOf(i)));
      if (reason === undefined) chosen.push(i);
      else leftOut.push({ name: columns[i], reason });
    }
  }
  if (request.exclude !== undefined) {
    const excluded = new Set(resolveColumns(request.exclude, columns, '--exclude'));
    const before = chosen;
    chosen = chosen.filter((i) => !excluded.has(i));
    if (request.columns === undefined) for (const i of before) if (excluded.has(i)) leftOut.push({ name: columns[i], reason: '--exclude' });
    if (before.length > 0 && chosen.length === 0) {
      throw new UsageError(`--exclude leaves no feature columns: it excludes every one of ${before.map((i) => JSON.stringify(columns[i])).join(', ')}`);
    }
  }
  if (request.groupBy !== undefined) {
    const groups = new Set(resolveColumns(request.groupBy, columns, '--group-by'));
    const clash = request.columns !== undefined ? chosen.find((i) => groups.has(i)) : undefined;
    if (clash !== undefined) {
      throw new UsageError(`${JSON.stringify(columns[clash])} is a --group-by column, so it cannot also be a feature in --columns`);
    }
    const before = chosen;
    chosen = chosen.filter((i) => !groups.has(i));
    for (const i of before) if (groups.has(i)) leftOut.push({ name: columns[i], reason: 'a --group-by column' });
    if (before.length > 0 && chosen.length === 0) {
      throw new UsageError(`no feature columns: the only numeric ones, ${before.map((i) => JSON.stringify(columns[i])).join(', ')}, are --group-by columns; name the features with --columns`);
    }
  }
  return { ...selectionOf(columns, chosen), leftOut };
}

/** The present values of column i in the sample, as numbers (the column looks numeric). */
function presentNumbers(sample: readonly Cell[][], column: number, na: ReadonlySet<string>): number[] {
  const values: number[] = [];
  for (const record of sample) {
    const cell = record[column];
    if (typeof cell === 'number') values.push(cell);
    else if (typeof cell === 'string' && !na.has(cell)) values.push(parseDecimal(cell));
  }
  return values;
}

function looksNumeric(sample: readonly Cell[][], column: number, na: ReadonlySet<string>, jsonCells: boolean): boolean {
  let present = 0;
  for (const record of sample) {
    const cell = record[column];
    if (cell === undefined || cell === null) continue;
    if (typeof cell === 'number') {
      present++;
      continue;
    }
    if (typeof cell !== 'string') return false;
    if (na.has(cell)) continue;
    // The same grammar the rows are read with: a finite decimal.
    if (jsonCells || !Number.isFinite(parseDecimal(cell))) return false;
    present++;
  }
  return present > 0;
}

/** Column indexes (0-based) named by tokens: exact names first, then numbers and ranges. */
export function resolveColumns(tokens: readonly string[], columns: readonly string[], option: string): number[] {
  const byName = new Map(columns.map((name, i) => [name, i]));
  const result: number[] = [];
  const numberAt = (text: string, token: string): number => {
    const n = Number(text);
    if (n < 1 || n > columns.length) {
      throw new UsageError(`${option}: column ${n} in ${JSON.stringify(token)} is out of range; the input has ${columns.length} columns`);
    }
    return n - 1;
  };
  for (const token of tokens) {
    const named = byName.get(token);
    if (named !== undefined) {
      result.push(named);
      continue;
    }
    if (/^\d+$/.test(token)) {
      result.push(numberAt(token, token));
      continue;
    }
    const range = /^(\d+)-(\d*)$/.exec(token);
    if (range) {
      const from = numberAt(range[1], token);
      const to = range[2] === '' ? columns.length - 1 : numberAt(range[2], token);
      if (to < from) throw new UsageError(`${option}: range ${JSON.stringify(token)} runs backwards`);
      for (let i = from; i <= to; i++) result.push(i);
      continue;
    }
    throw new UsageError(`${option}: no column named ${JSON.stringify(token)}${suggest(token, columns)}; the columns are: ${columns.join(', ')}`);
  }
  return result;
}

function suggest(token: string, columns: readonly string[]): string {
  const lower = token.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of columns) {
    const d = editDistance(lower, name.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = name;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, token.length / 3) ? ` (did you mean ${JSON.stringify(best)}?)` : '';
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** What the output holds, column by column (render.ts's OutputLayout without the format). */
export interface OutputColumns {
  columns: string[];
  /** Per output column: the feature value it holds, or −1. */
  slotOf: Int32Array;
  /** Per output column: the input column it copies, or −1. */
  fieldOf: Int32Array;
}

/**
 * The output's columns: the input's, each feature replaced by its normalized
 * value; with `suffix`, the input's unchanged and the normalized copies
 * appended as `<name><suffix>`, in feature order; with `select` (tokens as
 * for --columns, resolved against those columns), only these, in this order.
 */
export function outputColumnsOf(selection: FeatureSelection, how: { suffix?: string | undefined; select?: string[] | undefined }): OutputColumns {
  const { columns, slotOf } = selection;
  let all: OutputColumns;
  if (how.suffix === undefined) {
    all = { columns: [...columns], slotOf, fieldOf: Int32Array.from(columns, (_, i) => (slotOf[i] >= 0 ? -1 : i)) };
  } else {
    const copies = selection.names.map((name) => name + how.suffix);
    const taken = new Set(columns);
    const clash = copies.find((name) => taken.has(name));
    if (clash !== undefined) {
      throw new UsageError(`--suffix ${JSON.stringify(how.suffix)}: the input already has a column ${JSON.stringify(clash)}; choose another suffix`);
    }
    all = {
      columns: [...columns, ...copies],
      slotOf: Int32Array.from([...columns.map(() => -1), ...copies.map((_, slot) => slot)]),
      fieldOf: Int32Array.from([...columns.map((_, i) => i), ...copies.map(() => -1)]),
    };
  }
  if (how.select === undefined) return all;
  if (how.select.length === 0) throw new UsageError('--select: the list is empty; name at least one column');
  const picked = resolveColumns(how.select, all.columns, '--select');
  const twice = picked.find((c, k) => picked.indexOf(c) !== k);
  if (twice !== undefined) throw new UsageError(`--select: column ${JSON.stringify(all.columns[twice])} is named twice`);
  return {
    columns: picked.map((c) => all.columns[c]),
    slotOf: Int32Array.from(picked, (c) => all.slotOf[c]),
    fieldOf: Int32Array.from(picked, (c) => all.fieldOf[c]),
  };
}
