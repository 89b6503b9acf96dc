// A transform that treats every row on its own (layer normalization, or batch
// normalization with statistics already known, for all rows or per group),
// described by plain data so that a worker thread can rebuild it: functions
// cannot cross threads.

import { type ColumnScaling, Clipping, batchNormalizeRow, batchNormalizeRows } from '../core/batch.js';
import { LayerRowStats, layerNormalizeRows } from '../core/layer.js';

export type RowTransformSpec =
  | { kind: 'layer'; gamma: Float64Array; beta: Float64Array; epsilon: number; clip: number }
  | { kind: 'batch'; scaling: ColumnScaling; clip: number }
  /** Each row with its group's scaling (the group is the text of the --group-by columns), else `fallback`. */
  | { kind: 'batch-groups'; groupColumns: number[]; scalings: Map<string, ColumnScaling>; fallback: ColumnScaling; clip: number };

export interface RowTransform {
  /**
   * Fills `out` from `values` (rows × width); returns the index of an
   * overflowed result, or −1. `groupOf(r)` is row r's group key.
   */
  apply(values: Float64Array, rows: number, out: Float64Array, groupOf?: (row: number) => string): number;
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
  if (spec.kind === 'batch-groups') {
    const { scalings, fallback } = spec;
    return {
      apply: (values, rows, out, groupOf) => {
        if (groupOf === undefined) throw new Error('a grouped transform needs the rows\' groups');
        let firstOverflow = -1;
        for (let r = 0; r < rows; r++) {
          const scaling = scalings.get(groupOf(r)) ?? fallback;
          const overflow = batchNormalizeRow(values, r * width, width, scaling, out, clipping);
          if (firstOverflow < 0) firstOverflow = overflow;
        }
        return firstOverflow;
      },
      clipping,
      rowStats: undefined,
    };
  }
  const { scaling } = spec;
  return {
    apply: (values, rows, out) => batchNormalizeRows(values, rows, width, scaling, out, clipping),
    clipping,
    rowStats: undefined,
  };
}
