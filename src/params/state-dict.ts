// Parameter files as PyTorch state dicts, and back: the tensors of a
// `torch.nn.BatchNorm1d` (weight = γ, bias = β, running_mean, running_var,
// num_batches_tracked) or of a `torch.nn.LayerNorm` (weight, bias), in the
// order of the file's columns. A state dict has no column names and no ε:
// finorm writes them into the safetensors metadata, and reads them from there
// when the file is its own.

import { DataError, UsageError } from '../errors.js';
import type { Safetensors, TensorIn, TensorOut } from '../io/safetensors.js';
import { readableDtype } from '../io/safetensors.js';
import { importedNames } from './imported.js';
import { WIDE_ZERO, wideToNumber } from '../core/wide.js';
import { type ColumnParamsJson, PARAMS_FORMAT, PARAMS_VERSION_PLAIN, type ParamsFile, type ParamsHeaderJson } from './params-file.js';

export type TensorDtype = 'float64' | 'float32';
export type NormModule = 'BatchNorm1d' | 'LayerNorm';

/** ε of PyTorch's BatchNorm1d and LayerNorm when none is given. */
export const TORCH_DEFAULT_EPSILON = 1e-5;

const META_FEATURES = 'finorm.features';
const META_EPSILON = 'finorm.epsilon';

/** The state dict of the file's batch transform, or (`module` LayerNorm) of its γ and β. */
export function stateDictOf(
  params: ParamsFile,
  module: NormModule,
  epsilon: number,
  dtype: TensorDtype,
  file: string,
): { tensors: TensorOut[]; metadata: Record<string, string> } {
  const columns = params.columns;
  const width = columns.length;
  const float = dtype === 'float64' ? 'F64' : 'F32';
  const tensor = (name: string, values: number[]): TensorOut => ({ name, dtype: float, shape: [width], values });
  const tensors = [tensor('weight', columns.map((c) => c.gamma ?? 1)), tensor('bias', columns.map((c) => c.beta ?? 0))];
  if (module === 'BatchNorm1d') {
    const bounded = columns.find((c) => c.lower !== undefined);
    if (bounded !== undefined) {
      throw new DataError(
        `${file}: column ${JSON.stringify(bounded.name)} has winsorizing bounds (lower, upper), which BatchNorm1d cannot apply; export to ONNX (--to onnx), whose graph clamps`,
      );
    }
    const unfitted = columns.find((c) => c.mean === undefined || c.variance === undefined);
    if (unfitted !== undefined) {
      throw new DataError(`${file}: column ${JSON.stringify(unfitted.name)} has no fitted "mean" and "variance" for a BatchNorm1d; fit them with finorm fit, or export γ and β with --layer`);
    }
    // Finite: export refuses variances a model's arithmetic cannot use.
    const variance = columns.map((c) => wideToNumber(c.variance ?? WIDE_ZERO));
    tensors.push(
      tensor('running_mean', columns.map((c) => c.mean as number)),
      // A constant column with ε = 0: finorm (and scikit-learn) divide by 1, and so does √(1 + 0).
      tensor('running_var', variance.map((v) => (v + epsilon === 0 ? 1 : v))),
      { name: 'num_batches_tracked', dtype: 'I64', shape: [], values: [0] },
    );
  }
  const metadata = { format: 'pt', [META_FEATURES]: JSON.stringify(columns.map((c) => c.name)), [META_EPSILON]: String(epsilon), 'finorm.module': module };
  return { tensors, metadata };
}

export interface StateDictImport {
  /** Names of the features, in the tensors' order (--columns); else from finorm's metadata. */
  names: string[] | undefined;
  /** ε of the layer (-e); else from finorm's metadata, else PyTorch's default. */
  epsilon: number | undefined;
  /** The layer's name in a model's state dict (`norm.`); found when there is one. */
  prefix: string | undefined;
  generator: string;
}

/** A BatchNorm1d or LayerNorm state dict as a parameter file; what ε it took, and from where. */
export function paramsFromStateDict(
  file: Safetensors,
  path: string,
  options: StateDictImport,
): { params: ParamsHeaderJson; module: NormModule; epsilonFrom: 'option' | 'metadata' | 'default' } {
  const { tensors } = file;
  const { module, prefix } = findLayer(tensors, path, options.prefix);
  const at = (name: string) => tensors.get(prefix + name);
  const parts = module === 'BatchNorm1d' ? ['running_mean', 'running_var', 'weight', 'bias'] : ['weight', 'bias'];
  const present = parts.filter((name) => at(name) !== undefined);
  const width = at(present[0])?.shape[0] ?? 0;
  if (width === 0) throw new DataError(`${path}: ${prefix}${present[0]} is empty: no features`);
  for (const name of present) checkVector(at(name) as TensorIn, prefix + name, width, path);
  const values = (name: string, fallback: number) => at(name)?.values ?? new Float64Array(width).fill(fallback);
  const gamma = values('weight', 1);
  const beta = values('bias', 0);
  const mean = values('running_mean', 0);
  const variance = values('running_var', 1);
  const negative = variance.findIndex((v) => v < 0);
  if (negative >= 0) throw new DataError(`${path}: ${prefix}running_var[${negative}] is ${variance[negative]}; a variance is ≥ 0`);

  const names = namesOf(file, path, width, options.names);
  const epsilonFrom = options.epsilon !== undefined ? 'option' : file.metadata[META_EPSILON] !== undefined ? 'metadata' : 'default';
  const epsilon = options.epsilon ?? metadataEpsilon(file, path) ?? TORCH_DEFAULT_EPSILON;
  const columns: ColumnParamsJson[] = names.map((name, j) => ({
    name,
    gamma: gamma[j],
    beta: beta[j],
    ...(module === 'BatchNorm1d' ? { mean: mean[j], variance: variance[j] } : {}),
  }));
  const params: ParamsHeaderJson = { format: PARAMS_FORMAT, version: PARAMS_VERSION_PLAIN, generator: options.generator, epsilon, columns };
  return { params, module, epsilonFrom };
}

/**
 * Where the normalization layer is: a BatchNorm1d has running_mean and
 * running_var; without them, a 1-D weight and a bias make a LayerNorm. A
 * model's state dict prefixes every name with the layer's (`norm.weight`);
 * one such layer is found by itself, several need --prefix.
 */
function findLayer(tensors: Map<string, TensorIn>, path: string, wanted: string | undefined): { module: NormModule; prefix: string } {
  const names = [...tensors.keys()];
  const prefixesOf = (suffix: string) => names.filter((n) => n.endsWith(suffix)).map((n) => n.slice(0, -suffix.length));
  const batch = prefixesOf('running_mean').filter((p) => tensors.has(`${p}running_var`));
  const layer = prefixesOf('weight').filter((p) => tensors.has(`${p}bias`) && !tensors.has(`${p}running_mean`) && tensors.get(`${p}weight`)?.shape.length === 1);
  const listing = names.length === 0 ? 'no tensors' : `${names.length} tensor${names.length === 1 ? '' : 's'}: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''}`;
  if (wanted !== undefined) {
    const prefix = wanted === '' || wanted.endsWith('.') ? wanted : `${wanted}.`;
    if (batch.includes(prefix)) return { module: 'BatchNorm1d', prefix };
    if (layer.includes(prefix)) return { module: 'LayerNorm', prefix };
    throw new DataError(`${path}: no BatchNorm1d (${prefix}running_mean, ${prefix}running_var) or LayerNorm (${prefix}weight, ${prefix}bias) tensors; it has ${listing}`);
  }
  const found = batch.length > 0 ? batch.map((prefix) => ({ module: 'BatchNorm1d' as const, prefix })) : layer.map((prefix) => ({ module: 'LayerNorm' as const, prefix }));
  if (found.length === 1) return found[0];
  if (found.length === 0) {
    const missing = names.some((n) => n.endsWith('running_mean')) ? 'running_var' : names.some((n) => n.endsWith('running_var')) ? 'running_mean' : undefined;
    throw new DataError(
      `${path}: no BatchNorm1d (running_mean, running_var) or LayerNorm (weight, bias) tensors${missing ? ` (${missing} is missing)` : ''}; it has ${listing}`,
    );
  }
  throw new UsageError(
    `${path} holds ${found.length} ${found[0].module} layers (${found.map((f) => f.prefix.replace(/\.$/, '')).join(', ')}): choose one with --prefix`,
  );
}

function checkVector(tensor: TensorIn, name: string, width: number, path: string): void {
  if (!readableDtype(tensor.dtype) || tensor.dtype.startsWith('I')) throw new DataError(`${path}: ${name} is ${tensor.dtype}; expected floating point (F64, F32, F16 or BF16)`);
  if (tensor.shape.length !== 1) throw new DataError(`${path}: ${name} has shape [${tensor.shape.join(', ')}]; expected one value per feature, [H]`);
  if (tensor.shape[0] !== width) throw new DataError(`${path}: ${name} has ${tensor.shape[0]} values and the other tensors ${width}`);
  const bad = tensor.values.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new DataError(`${path}: ${name}[${bad}] is ${tensor.values[bad]}`);
}

/** finorm's own files name their columns in the metadata. */
function namesOf(file: Safetensors, path: string, width: number, given: string[] | undefined): string[] {
  let own: string[] | undefined;
  try {
    const parsed: unknown = JSON.parse(file.metadata[META_FEATURES] ?? 'null');
    if (Array.isArray(parsed) && parsed.length === width && parsed.every((n) => typeof n === 'string')) own = parsed as string[];
  } catch {
    // Not finorm's: the metadata is anyone's text.
  }
  return importedNames(path, width, own, given, { unnamed: 'tensors have no column names', recorded: `its metadata (${META_FEATURES}) has` });
}

function metadataEpsilon(file: Safetensors, path: string): number | undefined {
  const text = file.metadata[META_EPSILON];
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new DataError(`${path}: its ${META_EPSILON} metadata is ${JSON.stringify(text)}, not an ε ≥ 0`);
  return value;
}
