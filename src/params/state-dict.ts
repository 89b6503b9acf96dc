// Parameter files as PyTorch state dicts, and back: the tensors of a
// `torch.nn.BatchNorm1d` (weight = γ, bias = β, running_mean, running_var,
// num_batches_tracked) or of a `torch.nn.LayerNorm` (weight, bias), in the
// order of the file's columns. A state dict has no column names and no ε:
// finorm writes them into the safetensors metadata, and reads them from there
// when the file is its own.

import { DataError } from '../errors.js';
import type { TensorOut } from '../io/safetensors.js';
import type { ParamsFile } from './params-file.js';

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
    tensors.push(
      tensor('running_mean', columns.map((c) => c.mean as number)),
      // A constant column with ε = 0: finorm (and scikit-learn) divide by 1, and so does √(1 + 0).
      tensor('running_var', columns.map((c) => ((c.variance as number) + epsilon === 0 ? 1 : (c.variance as number)))),
      { name: 'num_batches_tracked', dtype: 'I64', shape: [], values: [0] },
    );
  }
  const metadata = { format: 'pt', [META_FEATURES]: JSON.stringify(columns.map((c) => c.name)), [META_EPSILON]: String(epsilon), 'finorm.module': module };
  return { tensors, metadata };
}
