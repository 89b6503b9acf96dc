// Between parameter files and the math: fitted moments become a parameter
// file, and a parameter file becomes what the transform or a merge needs.

import { type ColumnScaling, type GroupScalings, GroupScalingsBuilder, columnScaling } from '../core/batch.js';
import { ColumnMoments, type ExactSum } from '../core/moments.js';
import { DataError } from '../errors.js';
import { GroupKeys, type GroupTable, KeyIndex } from '../groups.js';
import { MemoryGuard } from '../memory.js';
import { type WideNumber, fitsDouble, wideToNumber } from '../core/wide.js';
import {
  type ColumnParams,
  type GroupReceiver,
  type GroupsToWrite,
  PARAMS_FORMAT,
  PARAMS_VERSION,
  PARAMS_VERSION_PLAIN,
  type ParamsHeader,
  type GroupParams,
  type ParamsHeaderJson,
  duplicateGroup,
} from './params-file.js';
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
  extras: { bounds?: FittedBounds | undefined; groups?: FittedGroups | undefined; partial?: boolean } = {},
): FittedParams {
  const { bounds, groups, partial = false } = extras;
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
      ...fittedColumn(moments, j, ddof, partial),
      ...(bounds ? { lower: bounds.lower[j], upper: bounds.upper[j] } : {}),
    })),
  };
  if (bounds) header.winsorize = bounds.p;
  let wideText = names.some((_, j) => needsWideText(moments, j, ddof));
  let toWrite: GroupsToWrite | undefined;
  if (groups) {
    header.groupBy = groups.groupBy;
    const table = groups.groups;
    const width = names.length;
    for (let g = 0; g < table.size && !wideText; g++) {
      for (let j = 0; j < width && !wideText; j++) wideText = needsWideText(table.segmentOf(g), table.firstColumnOf(g) + j, ddof);
    }
    // In the order of the groups' first appearance in the input.
    const order = table.inFirstSeenOrder();
    toWrite = {
      count: table.size,
      at: (i) => ({
        key: GroupKeys.labelsOf(table.keyAt(order[i])),
        columns: names.map((name, j) => ({ name, ...fittedColumn(table.segmentOf(order[i]), table.firstColumnOf(order[i]) + j, ddof, partial) })),
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

function fittedColumn(moments: ColumnMoments, j: number, ddof: 0 | 1, partial: boolean) {
  const snapshot = moments.snapshot(j);
  // A group (or a part) may have no value in a column: it then has a count and nothing else.
  if (snapshot.count === 0) return { count: 0 };
  const fitted = {
    count: snapshot.count,
    mean: snapshot.mean,
    meanLo: snapshot.meanLo,
    variance: wideJson(moments.varianceWide(j, ddof) as WideNumber),
    m2: wideJson(snapshot.m2),
    min: snapshot.min,
    max: snapshot.max,
  };
  if (!partial) return fitted;
  const { sum, sumOfSquares } = moments.exactSums(j);
  return { ...fitted, sum: exactSumText(sum), sumOfSquares: exactSumText(sumOfSquares) };
}

/** n·2^e as `0x…p…` (the exponent in decimal, as in C's hexadecimal floats). */
export function exactSumText(s: ExactSum): string {
  return `${s.n < 0n ? '-' : ''}0x${(s.n < 0n ? -s.n : s.n).toString(16)}p${s.exponent}`;
}

/** The inverse of exactSumText (the text already checked by the file's schema). */
export function exactSumOf(text: string): ExactSum {
  const [, sign, digits, exponent] = /^(-?)0x([0-9a-f]+)p(-?\d+)$/.exec(text) as RegExpExecArray;
  const n = BigInt(`0x${digits}`);
  return { n: sign === '-' ? -n : n, exponent: Number(exponent) };
}

/** Fails, naming the column, if any feature has no present value (nothing to normalize with). */
export function requirePresentValues(names: readonly string[], moments: ColumnMoments): void {
  const empty = names.filter((_, j) => moments.count[j] === 0);
  if (empty.length === names.length && names.every((_, j) => moments.missing[j] === 0)) {
    throw new DataError('no rows to fit: the input has a header and no rows (fit --partial writes a fit of no rows, which merges as nothing)');
  }
  if (empty.length > 0) {
    throw new DataError(
      `no values to fit in column${empty.length > 1 ? 's' : ''} ${empty.map((n) => JSON.stringify(n)).join(', ')} (every value is missing); leave ${empty.length > 1 ? 'them' : 'it'} out with --exclude`,
    );
  }
}

/** The transform's per-column constants for `names`, taken from a parameter file. */
export function scalingFromParams(params: ParamsHeader, names: readonly string[], epsilon: number, file: string): ColumnScaling {
  return scalingFromColumns(params.columns, params, names, epsilon, file);
}

/**
 * The groups of a file written under --group-by, taken as they are read
 * (GroupReceiver): their keys into a shared KeyIndex, their means and
 * variances into packed constants, in the file's column order; finish()
 * gives the transform its GroupScalings for the input's features. γ, β and
 * bounds are the file's top-level ones.
 */
export class FileGroups {
  readonly index = KeyIndex.create();
  private builder: GroupScalingsBuilder | undefined;
  private position = new Map<string, number>();
  private mean: Float64Array = new Float64Array(0);
  private meanLo: Float64Array = new Float64Array(0);
  private variance: (number | WideNumber)[] = [];

  constructor(private readonly file: string) {}

  private readonly guard = new MemoryGuard(() => ({
    what: `the ${this.index.size.toLocaleString('en-US')} groups of ${this.file}`,
    instead: 'apply a fit of fewer or coarser groups',
  }));

  readonly receive: GroupReceiver = (group, i, { columns }) => {
    this.guard.step();
    if (this.builder === undefined) {
      const width = columns.length;
      columns.forEach((c, k) => this.position.set(c.name, k));
      this.builder = new GroupScalingsBuilder(width);
      this.mean = new Float64Array(width);
      this.meanLo = new Float64Array(width);
      this.variance = new Array<number>(width).fill(NaN);
    }
    if (this.index.add(GroupKeys.keyOfLabels(group.key)) < 0) throw duplicateGroup(this.file, i, group);
    for (const c of group.columns) {
      const k = this.position.get(c.name) as number;
      // A column the group had no value of when fitted: NaN, which takes the fallback or is refused where a value meets it.
      const empty = c.count === 0 && c.mean === undefined;
      if (!empty && (c.mean === undefined || c.variance === undefined)) {
        throw new DataError(
          `${this.file}: groups[${i}] (${group.key.map((key) => JSON.stringify(key)).join(', ')}): column ${JSON.stringify(c.name)} has no fitted "mean" and "variance"; fit them with finorm fit`,
        );
      }
      this.mean[k] = empty ? NaN : (c.mean as number);
      this.meanLo[k] = c.meanLo ?? 0;
      this.variance[k] = empty ? NaN : (c.variance as WideNumber);
    }
    this.builder.add(this.mean, this.meanLo, this.variance);
  };

  /**
   * The constants for the features `names` (all the file's columns, in the
   * input's order) with ε and the file's top-level γ, β and bounds
   * (`global`); a group's column without values takes `fallback`'s.
   */
  finish(names: readonly string[], epsilon: number, global: ColumnScaling, fallback: ColumnScaling | undefined, inverse: boolean): GroupScalings {
    this.builder ??= new GroupScalingsBuilder(names.length);
    const order = this.position.size === 0 ? undefined : names.map((name) => this.position.get(name) as number);
    return this.builder.finish(epsilon, global, fallback, inverse, order);
  }

  /** The file's variances, a row per group (after finish: in the input's order). */
  variances(): Iterable<Float64Array> {
    return this.builder?.variances() ?? [];
  }
}

function scalingFromColumns(
  statistics: ColumnParams[],
  params: ParamsHeader,
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
  params: Pick<ParamsHeader, 'columns'>,
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
    if (c.sum !== undefined && c.sumOfSquares !== undefined && c.min !== undefined && c.max !== undefined && c.count !== undefined) {
      // A partial fit: its exact sums, as if its values had been added here.
      moments.restoreSums(j, { count: c.count, min: c.min, max: c.max, sum: exactSumOf(c.sum), sumOfSquares: exactSumOf(c.sumOfSquares) });
      // finorm writes both from the same sums: a disagreement is an edited or damaged file.
      const [mean, meanLo] = moments.meanParts(j);
      const m2 = moments.m2Wide(j);
      if (mean !== c.mean || meanLo !== (c.meanLo ?? 0) || (c.m2 !== undefined && (m2.significand !== c.m2.significand || m2.exponent !== c.m2.exponent))) {
        throw new DataError(`${file}: ${where}[${index}] (${JSON.stringify(name)}): "sum" and "sumOfSquares" disagree with "mean" and "m2" (was the file edited?)`);
      }
      return;
    }
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

/** What a reader of a file's groups kept to choose one: the group asked for, the first few (to name), and the count. */
export interface FoundGroups {
  chosen?: GroupParams;
  first: GroupParams[];
  count: number;
}

/**
 * The file of one group of a file fitted per group: that group's statistics
 * under the top-level γ, β and bounds, without groups. `key` holds the
 * group's values of the groupBy columns.
 */
export function paramsOfGroup(params: ParamsHeader, key: readonly string[], found: FoundGroups, file: string): ParamsHeader {
  const { groupBy = [], ...rest } = params;
  const shown = key.map((k) => JSON.stringify(k)).join(', ');
  if (key.length !== groupBy.length) {
    throw new DataError(`${file}: groups are named by ${groupBy.length} value${groupBy.length === 1 ? '' : 's'} (${groupBy.join(', ')}); ${shown} has ${key.length}`);
  }
  const group = found.chosen;
  if (group === undefined) {
    const some = found.first.map((g) => g.key.join(',')).join('; ');
    throw new DataError(`${file}: no group ${shown} (it has ${found.count}: ${some}${found.count > found.first.length ? '; …' : ''})`);
  }
  const columns = params.columns.map((top) => {
    const own = group.columns.find((c) => c.name === top.name);
    if (own === undefined || own.mean === undefined || own.variance === undefined) {
      throw new DataError(`${file}: group ${shown} had no value of column ${JSON.stringify(top.name)} when it was fitted`);
    }
    const { gamma, beta, lower, upper } = top;
    return { ...own, ...(gamma !== undefined ? { gamma } : {}), ...(beta !== undefined ? { beta } : {}), ...(lower !== undefined ? { lower, upper } : {}) };
  });
  return { ...rest, columns };
}
