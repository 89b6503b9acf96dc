// A parameter file as an ONNX model: the graph of standard operators that
// computes what `finorm batch --params` (or `finorm layer --params`) does to
// the feature columns, for a model runtime. Input `input` [N, H], output
// `output` [N, H], features in the file's column order (named in the model's
// metadata and doc strings). Missing values are NaN, in and out.
//
// Batch: the transform's own constants (core/batch.ts: the mean and its low
// part, √(var + ε) or 1 for a constant column with ε = 0, γ, β, winsorizing
// bounds), applied in the order finorm applies them, so the float64 graph
// computes finorm's results operation for operation.
//
// Layer: standard operators (opset 17), not LayerNormalization: its ε is a
// float32 attribute (1e-5 would become 9.99999975e-6), it computes the
// variance as E[x²] − E[x]² in onnxruntime (digits lost when a row's values
// are far from zero relative to their spread), and it cannot leave missing
// values out of a row's mean and variance.

import { type ColumnScaling, float32Scaling } from '../core/batch.js';
import { DataError } from '../errors.js';
import { ONNX_TYPES, type OnnxModel, type OnnxNode, type OnnxTensor } from '../io/onnx.js';

export const ONNX_OPSET = 17;
/** The IR version of ONNX 1.12, which introduced opset 17. */
const IR_VERSION = 8;

export type ModelDtype = 'float64' | 'float32';

export interface ModelSettings {
  dtype: ModelDtype;
  /** Clamp the normalized value to [−clip, clip] before γ and β. */
  clip?: number | undefined;
  producerVersion: string;
  /** Where the parameters came from, for the doc string (the file, the group). */
  source: string;
  /** Extra metadata entries (ε, the group). */
  metadata: [string, string][];
}

/** The graph being built: nodes in order, constants, and fresh names. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];

  constructor(private readonly dtype: ModelDtype) {}

  /** A constant of the model's float type. */
  constant(name: string, values: ArrayLike<number>, dims: number[] = [values.length]): string {
    this.initializers.push({ name, type: this.dtype, dims, values: Array.from(values) });
    return name;
  }

  int64(name: string, values: number[]): string {
    this.initializers.push({ name, type: 'int64', dims: [values.length], values });
    return name;
  }

  /** Adds `op(inputs)` and returns its output's name. */
  op(op: string, output: string, inputs: string[], attributes?: Record<string, number | number[]>): string {
    this.nodes.push({ op, inputs, outputs: [output], ...(attributes ? { attributes } : {}) });
    return output;
  }
}

/** The batch transform of a parameter file (its constants in `scaling`, columns `names`). */
export function batchModel(names: readonly string[], scaling: ColumnScaling, epsilon: number, settings: ModelSettings): OnnxModel {
  // export refuses the columns finorm keeps in units of a power of two: `scaling` is in plain units.
  const c = settings.dtype === 'float32' ? float32Scaling(scaling) : scaling;
  if (settings.dtype === 'float32') refuseOutsideFloat32(names, scaling, c);
  const g = new GraphBuilder(settings.dtype);
  let x = 'input';
  const bounded = Array.from(c.lower).some((v) => v !== -Infinity) || Array.from(c.upper).some((v) => v !== Infinity);
  if (bounded) {
    x = g.op('Max', 'winsorized_below', [x, g.constant('lower', c.lower)]);
    x = g.op('Min', 'winsorized', [x, g.constant('upper', c.upper)]);
  }
  x = g.op('Sub', 'centered_hi', [x, g.constant('mean', c.mean)]);
  x = g.op('Sub', 'centered', [x, g.constant('mean_lo', c.meanLo)]);
  let z = g.op('Div', 'z', [x, g.constant('denominator', c.denominator)]);
  z = clipped(g, z, settings.clip);
  const y = g.op('Mul', 'scaled', [z, g.constant('gamma', c.gamma)]);
  g.op('Add', 'output', [y, g.constant('beta', c.beta)]);
  const formula =
    'y = gamma * (x - mean) / sqrt(var + eps) + beta per column' +
    (bounded ? ', x first clamped to [lower, upper] (winsorizing bounds)' : '') +
    clipText(settings.clip);
  return model(g, names, 'batch', formula, epsilon, settings);
}

/** The layer transform: each row over its own present values, with the file's γ and β. */
export function layerModel(
  names: readonly string[],
  gamma: ArrayLike<number>,
  beta: ArrayLike<number>,
  epsilon: number,
  settings: ModelSettings,
): OnnxModel {
  const g = new GraphBuilder(settings.dtype);
  const features = g.int64('feature_axis', [1]);
  const zero = g.constant('zero', [0], []);
  const one = g.constant('one', [1], []);
  const sum = (output: string, input: string) => g.op('ReduceSum', output, [input, features], { keepdims: 1 });

  // The present values, and each row's count, sum, least and greatest of them.
  const present = g.op('Not', 'present', [g.op('IsNaN', 'missing', ['input'])]);
  const count = sum('count', g.op('Cast', 'present_count', [present], { to: ONNX_TYPES[settings.dtype] }));
  const total = sum('total', g.op('Where', 'present_values', [present, 'input', zero]));
  const least = g.op('ReduceMin', 'least', [g.op('Where', 'for_min', [present, 'input', g.constant('infinity', [Infinity], [])])], { axes: [1], keepdims: 1 });
  const greatest = g.op('ReduceMax', 'greatest', [g.op('Where', 'for_max', [present, 'input', g.constant('minus_infinity', [-Infinity], [])])], { axes: [1], keepdims: 1 });
  // A row whose present values are all equal has mean exactly that value (a
  // rounded sum / count might not be), so its deviations are exactly 0 and it gives β.
  const mean = g.op('Where', 'mean', [g.op('Equal', 'constant_row', [least, greatest]), greatest, g.op('Div', 'sum_mean', [total, count])]);

  // Corrected two-pass variance: Σd² − (Σd)²/n over n, with d = x − mean.
  const deviation = g.op('Sub', 'deviation', ['input', mean]);
  const presentDeviation = g.op('Where', 'present_deviation', [present, deviation, zero]);
  const squares = sum('sum_squares', g.op('Mul', 'squares', [presentDeviation, presentDeviation]));
  const drift = sum('sum_deviations', presentDeviation);
  const correction = g.op('Div', 'correction', [g.op('Mul', 'drift_squared', [drift, drift]), count]);
  const variance = g.op('Max', 'variance', [g.op('Div', 'variance_raw', [g.op('Sub', 'corrected', [squares, correction]), count]), zero]);
  const shifted = g.op('Add', 'variance_eps', [variance, g.constant('epsilon', [epsilon], [])]);
  // √(σ² + ε), or 1 where it is 0 (a constant row with ε = 0): the row gives β.
  const denominator = g.op('Where', 'denominator', [g.op('Equal', 'no_spread', [shifted, zero]), one, g.op('Sqrt', 'root', [shifted])]);
  let z = g.op('Div', 'z', [deviation, denominator]);
  z = clipped(g, z, settings.clip);
  const y = g.op('Mul', 'scaled', [z, g.constant('gamma', gamma)]);
  g.op('Add', 'output', [y, g.constant('beta', beta)]);
  const formula =
    'y = gamma * (x - mu) / sqrt(sigma^2 + eps) + beta per row, mu and sigma^2 the mean and population variance of the row\'s present (non-NaN) values' +
    clipText(settings.clip);
  return model(g, names, 'layer', formula, epsilon, settings);
}

function clipped(g: GraphBuilder, z: string, clip: number | undefined): string {
  if (clip === undefined) return z;
  return g.op('Min', 'z_clipped', [g.op('Max', 'z_clipped_below', [z, g.constant('clip_lower', [-clip], [])]), g.constant('clip_upper', [clip], [])]);
}

function clipText(clip: number | undefined): string {
  return clip === undefined ? '' : `, the normalized value clamped to [-${clip}, ${clip}] before gamma and beta`;
}

function model(
  g: GraphBuilder,
  names: readonly string[],
  transform: 'batch' | 'layer',
  formula: string,
  epsilon: number,
  settings: ModelSettings,
): OnnxModel {
  const width = names.length;
  const order = names.map((n) => JSON.stringify(n)).join(', ');
  const docString =
    `finorm ${transform} normalization of ${width} feature${width === 1 ? '' : 's'} (${settings.source}): ${formula}; eps = ${epsilon}. ` +
    `Input "input" [N, ${width}] ${settings.dtype}, output "output" [N, ${width}] ${settings.dtype}, columns in this order: ${order}. ` +
    'Missing values are NaN, in and out.';
  return {
    irVersion: IR_VERSION,
    opset: ONNX_OPSET,
    producerName: 'finorm',
    producerVersion: settings.producerVersion,
    docString,
    metadata: [
      ['finorm.transform', transform],
      ['finorm.features', JSON.stringify(names)],
      ['finorm.epsilon', String(epsilon)],
      ...(settings.clip !== undefined ? ([['finorm.clip', String(settings.clip)]] as [string, string][]) : []),
      ...settings.metadata,
    ],
    graph: {
      name: `finorm_${transform}`,
      docString,
      nodes: g.nodes,
      initializers: g.initializers,
      inputs: [{ name: 'input', type: settings.dtype, dims: ['N', width], docString: `features, columns in this order: ${order}` }],
      outputs: [{ name: 'output', type: settings.dtype, dims: ['N', width], docString: `normalized features, columns in this order: ${order}` }],
    },
  };
}

/** Float32 constants must still be numbers: a mean of 1e39 or a spread of 1e-46 is not. */
function refuseOutsideFloat32(names: readonly string[], scaling: ColumnScaling, rounded: ColumnScaling): void {
  for (let j = 0; j < names.length; j++) {
    const lost: [string, number, number][] = [
      ['mean', scaling.mean[j], rounded.mean[j]],
      ['√(var + ε)', scaling.denominator[j], rounded.denominator[j]],
      ['γ', scaling.gamma[j], rounded.gamma[j]],
      ['β', scaling.beta[j], rounded.beta[j]],
    ];
    for (const [what, value, float32] of lost) {
      if (!Number.isFinite(float32) || (float32 === 0 && value !== 0)) {
        throw new DataError(`column ${JSON.stringify(names[j])}: its ${what}, ${value}, is outside the range of float32; export it as float64`);
      }
    }
  }
}
