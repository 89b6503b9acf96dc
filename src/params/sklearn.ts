// A fitted scikit-learn StandardScaler as a parameter file. Its attributes
// come as JSON (`vars(scaler)`, arrays as lists; Python writes NaN as NaN).
//
// scaler.transform(X) computes (x − mean_)/scale_ (without the subtraction
// when with_mean is false, without the division when with_std is false), and
// scale_ is √var_ except for features scikit-learn finds constant, whose
// scale is 1. The imported file reproduces that exactly: ε = 0, the mean
// subtracted (0 without with_mean), and the variance scale_², whose square
// root is scale_ again, to the bit (a property of binary floating point,
// checked here for every column); γ = 1 and β = 0 change nothing.

import { z } from 'zod';
import { DataError } from '../errors.js';
import { importedNames } from './imported.js';
import { type ColumnParamsJson, PARAMS_FORMAT, PARAMS_VERSION_PLAIN, type ParamsHeaderJson, describeIssue } from './params-file.js';

/** A number as Python wrote it: NaN and infinities too (named by the checks below). */
const Numbers = z.array(z.custom<number>((v) => typeof v === 'number', 'expected a number'));
const Count = z.number().int().nonnegative();

/** The attributes finorm reads; others (copy, n_features_in_) are allowed and ignored. */
const ScalerSchema = z.looseObject({
  with_mean: z.boolean().default(true),
  with_std: z.boolean().default(true),
  mean_: Numbers.nullable().optional(),
  var_: Numbers.nullable().optional(),
  scale_: Numbers.nullable().optional(),
  n_samples_seen_: z.union([Count, z.array(Count)]).optional(),
  feature_names_in_: z.array(z.string()).optional(),
});

const ATTRIBUTES = ['mean_', 'var_', 'scale_', 'n_samples_seen_'] as const;

/** Whether parsed JSON looks like a StandardScaler's attributes (any of mean_, var_, scale_, n_samples_seen_). */
export function isScalerJson(json: unknown): boolean {
  return typeof json === 'object' && json !== null && ATTRIBUTES.some((key) => Object.hasOwn(json, key));
}

export function paramsFromScaler(json: unknown, path: string, given: string[] | undefined, generator: string): ParamsHeaderJson {
  const result = ScalerSchema.safeParse(json);
  if (!result.success) throw new DataError(`${path}: ${describeIssue(result.error.issues[0], json)}`);
  const scaler = result.data;
  const fail = (what: string): never => {
    throw new DataError(`${path}: ${what}`);
  };

  // var_ first: a feature the scaler saw no value of is NaN in all three, and var_ says it best.
  const arrays = { var_: scaler.var_ ?? undefined, mean_: scaler.mean_ ?? undefined, scale_: scaler.scale_ ?? undefined };
  const seen = scaler.n_samples_seen_;
  const lengths: [string, number][] = [
    ...Object.entries(arrays).flatMap(([key, values]) => (values ? [[key, values.length] as [string, number]] : [])),
    ...(Array.isArray(seen) ? [['n_samples_seen_', seen.length] as [string, number]] : []),
    ...(scaler.feature_names_in_ ? [['feature_names_in_', scaler.feature_names_in_.length] as [string, number]] : []),
  ];
  if (lengths.length === 0) fail('a StandardScaler with neither mean_ nor scale_ (fitted with with_mean=False, with_std=False?) has no features to import');
  const [firstKey, width] = lengths[0];
  const other = lengths.find(([, n]) => n !== width);
  if (other) fail(`${firstKey} has ${width} values and ${other[0]} ${other[1]}`);
  if (width === 0) fail(`${firstKey} is empty: no features`);
  if (scaler.with_mean && arrays.mean_ === undefined) fail('mean_ is missing (with_mean is true)');
  if (scaler.with_std && arrays.scale_ === undefined) fail('scale_ is missing (with_std is true)');

  const names = importedNames(path, width, scaler.feature_names_in_, given, { unnamed: 'the scaler was fitted on an array, without column names', recorded: 'feature_names_in_ has' });
  const named = (key: string, j: number) => `${key}[${j}] (${JSON.stringify(names[j])})`;
  const unseen = (j: number) => (Array.isArray(seen) ? seen[j] : seen) === 0;
  for (const [key, values] of Object.entries(arrays)) {
    values?.forEach((v, j) => {
      if (!Number.isFinite(v)) fail(`${named(key, j)} is ${v}${unseen(j) || Number.isNaN(v) ? ': the scaler saw no value of this feature when it was fitted' : ''}`);
    });
  }
  arrays.var_?.forEach((v, j) => {
    if (v < 0) fail(`${named('var_', j)} is ${v}; a variance is ≥ 0`);
  });

  const columns: ColumnParamsJson[] = names.map((name, j) => {
    const mean = scaler.with_mean ? (arrays.mean_ as number[])[j] : 0;
    let variance = 1;
    if (scaler.with_std) {
      const scale = (arrays.scale_ as number[])[j];
      if (!(scale > 0)) fail(`${named('scale_', j)} is ${scale}; a scale is > 0`);
      const variance_ = arrays.var_?.[j];
      // scikit-learn's scale_ is √var_, or 1 for a feature it found constant: anything else was edited.
      if (variance_ !== undefined && scale !== Math.sqrt(variance_) && scale !== 1) {
        fail(`${named('scale_', j)} is ${scale}, neither √var_ (${Math.sqrt(variance_)}) nor 1: the attributes do not come from one fit`);
      }
      variance = scale * scale;
      if (Math.sqrt(variance) !== scale) fail(`${named('scale_', j)} is ${scale}: its square is out of float64's range, so finorm cannot divide by it exactly`);
    }
    const count = Array.isArray(seen) ? seen[j] : seen;
    return { name, gamma: 1, beta: 0, ...(count !== undefined ? { count } : {}), mean, variance };
  });
  return { format: PARAMS_FORMAT, version: PARAMS_VERSION_PLAIN, generator, epsilon: 0, columns };
}
