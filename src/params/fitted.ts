// Between parameter files and the math: fitted moments become a parameter
// file, and a parameter file becomes what the transform or a merge needs.

import { type ColumnScaling, columnScaling } from '../core/batch.js';
import { ColumnMoments } from '../core/moments.js';
import { DataError } from '../errors.js';
import { GroupKeys, type GroupTable } from '../groups.js';
import { type WideNumber, fitsDouble, wideToNumber } from '../core/wide.js';
import { type ColumnParams, type GroupsToWrite, PARAMS_FORMAT, PARAMS_VERSION, PARAMS_VERSION_PLAIN, type ParamsFile, type ParamsHeaderJson } from './params-file.js';
import { formatWideDecimal } from './wide-decimal.js';

export interface FitSettings {
  epsilon: number;
  ddof: 0 | 1;
  generator: string;
}

/** Winsorizing bounds fitted with quantile P, per column. */
export interface FittedBounds {
  p: number;
  lower: ArrayLike<number>;
  upper: ArrayLike<number>;
}

/** Per-group statistics for the file, keyed by GroupKeys' keys. */
export interface FittedGroups {
  groupBy: string[];
  groups: GroupTable;
}

/** A fitted parameter file, ready to be written (writeParams): its header, and its groups made as they are written. */
export interface FittedParams {
  header: ParamsHeaderJson;
  groups: GroupsToWrite | undefined;
}

/** The parameter file for fitted moments (γ = 1 and β = 0 unless given). */
export function paramsFromMoments(
  names: readonly string[],
  moments: ColumnMoments,
  settings: FitSettings,
  affine?: ReadonlyMap<string, { gamma?: number | undefined; beta?: number | undefined }>,
  extras: { bounds?: FittedBounds | undefined; groups?: FittedGroups | undefined } = {},
): FittedParams {
  const { bounds, groups } = extras;
  const { ddof } = settings;
  const header: ParamsHeaderJson = {
    format: PARAMS_FORMAT,
    version: PARAMS_VERSION_PLAIN,
    generator: settings.generator,
    epsilon: settings.epsilon,
    ddof,
    columns: names.map((name, j) => ({
      name,
      gamma: affine?.get(name)?.gamma ?? 1,
      beta: affine?.get(name)?.beta ?? 0,
      ...fittedColumn(moments, j, ddof),
      ...(bounds ? { lower: bounds.lower[j], upper: bounds.upper[j] } : {}),
    })),
  };
  if (bounds) header.winsorize = bounds.p;
  let wideText = names.some((_, j) => needsWideText(moments, j, ddof));
  let toWrite: GroupsToWrite | undefined;
  if (groups) {
    header.groupBy = groups.groupBy;
    const table = groups.groups;
    const perGroup = table.moments as ColumnMoments;
    const width = names.length;
    for (let c = 0; c < table.size * width && !wideText; c++) wideText = needsWideText(perGroup, c, ddof);
    toWrite = {
      count: table.size,
      at: (g) => ({
        key: GroupKeys.labelsOf(table.keyAt(g)),
        columns: names.map((name, j) => ({ name, ...fittedColumn(perGroup, g * width + j, ddof) })),
      }),
    };
  }
  // The version is written first: decided before the groups are made.
  if (wideText) header.version = PARAMS_VERSION;
  return { header, groups: toWrite };
}

/** A variance or M2 as JSON: a number when a double holds it, else its decimal text. */
function wideJson(w: WideNumber): number | string {
  return fitsDouble(w) ? wideToNumber(w) : formatWideDecimal(w);
}

/**
 * Whether column c's M2 or variance is beyond the doubles' normal range (and
 * so written as decimal text). M2 lies between range²/2 and n·range², so
 * most columns are decided by their min and max, without computing M2.
 */
function needsWideText(moments: ColumnMoments, c: number, ddof: 0 | 1): boolean {
  const n = moments.count[c];
  if (n < 2) return false;
  const range = moments.max[c] - moments.min[c];
  if (range === 0) return false;
  const squared = range * range;
  if (squared / (2 * n) >= 2 ** -1020 && n * squared <= 2 ** 1020) return false;
  const variance = moments.varianceWide(c, ddof);
  return !fitsDouble(moments.m2Wide(c)) || (variance !== undefined && !fitsDouble(variance));
}

function fittedColumn(moments: ColumnMoments, j: number, ddof: 0 | 1) {
  const snapshot = moments.snapshot(j);
  // A group may have no value in a column: it then has a count and nothing else.
  if (snapshot.count === 0) return { count: 0 };
  return {
    count: snapshot.count,
    mean: snapshot.mean,
    meanLo: snapshot.meanLo,
    variance: wideJson(moments.varianceWide(j, ddof) as WideNumber),
    m2: wideJson(snapshot.m2),
    min: snapshot.min,
    max: snapshot.max,
  };
}

/** Fails, naming the column, if any feature has no present value (nothing to normalize with). */
export function requirePresentValues(names: readonly string[], moments: ColumnMoments): void {
  const empty = names.filter((_, j) => moments.count[j] === 0);
  if (empty.length > 0) {
    throw new DataError(
      `no values to fit in column${empty.length > 1 ? 's' : ''} ${empty.map((n) => JSON.stringify(n)).join(', ')} (every value is missing); leave ${empty.length > 1 ? 'them' : 'it'} out with --exclude`,
    );
  }
}

/** The transform's per-column constants for `names`, taken from a parameter file. */
export function scalingFromParams(params: ParamsFile, names: readonly string[], epsilon: number, file: string): ColumnScaling {
  return scalingFromColumns(params.columns, params, names, epsilon, file);
}

/**
 * The constants of each group of a file written under --group-by, by group
 * key. γ, β and winsorizing bounds are the file's top-level ones.
 */
export function groupScalingsFromParams(
  params: ParamsFile,
  names: readonly string[],
  epsilon: number,
  file: string,
  fallback?: ColumnScaling,
): Map<string, ColumnScaling> {
  const result = new Map<string, ColumnScaling>();
  for (const [i, group] of (params.groups ?? []).entries()) {
    const where = `${file}: groups[${i}] (${group.key.map((k) => JSON.stringify(k)).join(', ')})`;
    const scaling = scalingFromColumns(group.columns, params, names, epsilon, where, true);
    // A column the group had no value of when fitted: the global statistics
    // with a fallback, else NaN (the transform refuses a value that meets it).
    for (let j = 0; j < names.length; j++) {
      if (!Number.isNaN(scaling.mean[j]) || fallback === undefined) continue;
      scaling.mean[j] = fallback.mean[j];
      scaling.meanLo[j] = fallback.meanLo[j];
      scaling.denominator[j] = fallback.denominator[j];
      scaling.inputScale[j] = fallback.inputScale[j];
    }
    result.set(GroupKeys.keyOfLabels(group.key), scaling);
  }
  return result;
}

function scalingFromColumns(
  statistics: ColumnParams[],
  params: ParamsFile,
  names: readonly string[],
  epsilon: number,
  where: string,
  allowEmpty = false,
): ColumnScaling {
  const columns = names.map((name) => columnOf(statistics, name, where));
  const affine = names.map((name) => columnOf(params.columns, name, where));
  const isEmpty = (c: ColumnParams) => allowEmpty && c.count === 0 && c.mean === undefined;
  const missing = columns.find((c) => !isEmpty(c) && (c.mean === undefined || c.variance === undefined));
  if (missing) {
    throw new DataError(
      `${where}: column ${JSON.stringify(missing.name)} has no fitted "mean" and "variance"; fit them with finorm fit`,
    );
  }
  const bounded = affine.some((c) => c.lower !== undefined);
  return columnScaling(
    columns.map((c) => (isEmpty(c) ? NaN : (c.mean as number))),
    columns.map((c) => c.meanLo ?? 0),
    columns.map((c) => (isEmpty(c) ? NaN : (c.variance as WideNumber))),
    affine.map((c) => c.gamma ?? 1),
    affine.map((c) => c.beta ?? 0),
    epsilon,
    bounded
      ? { lower: affine.map((c) => c.lower ?? -Infinity), upper: affine.map((c) => c.upper ?? Infinity) }
      : undefined,
  );
}

/** Moments restored from a parameter file, for merging; every statistic merge needs must be there. */
export function momentsFromParams(
  params: ParamsFile,
  names: readonly string[],
  file: string,
  statistics: ColumnParams[] = params.columns,
  where = 'columns',
): ColumnMoments {
  const moments = new ColumnMoments(names.length);
  names.forEach((name, j) => {
    const c = columnOf(statistics, name, file);
    const index = statistics.indexOf(c);
    if (c.count === 0) return;
    for (const key of ['count', 'mean', 'm2', 'min', 'max'] as const) {
      if (c[key] === undefined) {
        throw new DataError(`${file}: ${where}[${index}] (${JSON.stringify(name)}).${key}: missing; merge needs count, mean, m2, min and max (files written by finorm fit have them)`);
      }
    }
    moments.restore(j, {
      count: c.count as number,
      mean: c.mean as number,
      meanLo: c.meanLo ?? 0,
      m2: c.m2 as WideNumber,
      min: c.min as number,
      max: c.max as number,
    });
  });
  return moments;
}

function columnOf(columns: ColumnParams[], name: string, file: string): ColumnParams {
  const column = columns.find((c) => c.name === name);
  if (!column) throw new DataError(`${file}: no parameters for column ${JSON.stringify(name)}`);
  return column;
}
