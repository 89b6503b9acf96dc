// Between parameter files and the math: fitted moments become a parameter
// file, and a parameter file becomes what the transform or a merge needs.

import { type ColumnScaling, columnScaling } from '../core/batch.js';
import { ColumnMoments } from '../core/moments.js';
import { DataError } from '../errors.js';
import { type ColumnParams, PARAMS_FORMAT, PARAMS_VERSION, type ParamsFile } from './params-file.js';

export interface FitSettings {
  epsilon: number;
  ddof: 0 | 1;
  generator: string;
}

/** The parameter file for fitted moments (γ = 1 and β = 0 unless given). */
export function paramsFromMoments(
  names: readonly string[],
  moments: ColumnMoments,
  settings: FitSettings,
  affine?: ReadonlyMap<string, { gamma?: number; beta?: number }>,
): ParamsFile {
  return {
    format: PARAMS_FORMAT,
    version: PARAMS_VERSION,
    generator: settings.generator,
    epsilon: settings.epsilon,
    ddof: settings.ddof,
    columns: names.map((name, j) => {
      const snapshot = moments.snapshot(j);
      return {
        name,
        gamma: affine?.get(name)?.gamma ?? 1,
        beta: affine?.get(name)?.beta ?? 0,
        count: snapshot.count,
        mean: snapshot.mean,
        meanLo: snapshot.meanLo,
        variance: moments.variance(j, settings.ddof),
        m2: snapshot.m2,
        min: snapshot.min,
        max: snapshot.max,
      };
    }),
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
  const columns = names.map((name) => columnOf(params, name, file));
  const missing = columns.find((c) => c.mean === undefined || c.variance === undefined);
  if (missing) {
    throw new DataError(
      `${file}: column ${JSON.stringify(missing.name)} has no fitted "mean" and "variance"; fit them with finorm fit`,
    );
  }
  return columnScaling(
    columns.map((c) => c.mean as number),
    columns.map((c) => c.meanLo ?? 0),
    columns.map((c) => c.variance as number),
    columns.map((c) => c.gamma ?? 1),
    columns.map((c) => c.beta ?? 0),
    epsilon,
  );
}

/** Moments restored from a parameter file, for merging; every statistic merge needs must be there. */
export function momentsFromParams(params: ParamsFile, names: readonly string[], file: string): ColumnMoments {
  const moments = new ColumnMoments(names.length);
  names.forEach((name, j) => {
    const c = columnOf(params, name, file);
    const index = params.columns.indexOf(c);
    for (const key of ['count', 'mean', 'm2', 'min', 'max'] as const) {
      if (c[key] === undefined) {
        throw new DataError(`${file}: columns[${index}] (${JSON.stringify(name)}).${key}: missing; merge needs count, mean, m2, min and max (files written by finorm fit have them)`);
      }
    }
    moments.restore(j, {
      count: c.count as number,
      mean: c.mean as number,
      meanLo: c.meanLo ?? 0,
      m2: c.m2 as number,
      min: c.min as number,
      max: c.max as number,
    });
  });
  return moments;
}

function columnOf(params: ParamsFile, name: string, file: string): ColumnParams {
  const column = params.columns.find((c) => c.name === name);
  if (!column) throw new DataError(`${file}: no parameters for column ${JSON.stringify(name)}`);
  return column;
}
