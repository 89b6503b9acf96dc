// A transform that treats every row on its own (layer normalization, or batch
// normalization with statistics already known), described by plain data so
// that a worker thread can rebuild it: functions cannot cross threads.

import { type ColumnScaling, Clipping, batchNormalizeRows } from '../core/batch.js';
import { LayerRowStats, layerNormalizeRows } from '../core/layer.js';

export type RowTransformSpec =
  | { kind: 'layer'; gamma: Float64Array; beta: Float64Array; epsilon: number; clip: number }
  | { kind: 'batch'; scaling: ColumnScaling; clip: number };

export interface RowTransform {
  /** Fills `out` from `values` (rows × width); returns the index of an overflowed result, or −1. */
  apply(values: Float64Array, rows: number, out: Float64Array): number;
  readonly clipping: Clipping;
  /** Layer normalization's facts about the rows it saw. */
  readonly rowStats: LayerRowStats | undefined;
}

/** Layer normalization's transform, whose row facts always exist. */
export function buildLayerTransform(spec: RowTransformSpec & { kind: 'layer' }, width: number): RowTransform & { rowStats: LayerRowStats } {
  const clipping = new Clipping(spec.clip, width);
  const rowStats = new LayerRowStats();
  const { gamma, beta, epsilon } = spec;
  return {
    apply: (values, rows, out) => layerNormalizeRows(values, rows, width, gamma, beta, epsilon, out, rowStats, clipping),
    clipping,
    rowStats,
  };
}

export function buildRowTransform(spec: RowTransformSpec, width: number): RowTransform {
  if (spec.kind === 'layer') return buildLayerTransform(spec, width);
  const clipping = new Clipping(spec.clip, width);
  const { scaling } = spec;
  return {
    apply: (values, rows, out) => batchNormalizeRows(values, rows, width, scaling, out, clipping),
    clipping,
    rowStats: undefined,
  };
}
