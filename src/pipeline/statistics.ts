// The statistics job: moments of every feature of a piece (of values clamped
// to bounds when winsorizing), quantile sketches, and per-group rows and
// moments kept over all the pieces a thread handles.

import { ColumnMoments } from '../core/moments.js';
import { QuantileSketch } from '../core/quantiles.js';
import type { Block, Work } from './block.js';
import type { GroupParts, JobSpec, PieceResult, ProcessorTotals, TableLayout } from './job.js';

/** Statistics of a piece: moments of every feature (of clamped values when winsorizing), per group, sketches. */
export class StatisticsWork implements Work {
  private moments: ColumnMoments;
  private readonly width: number;
  private readonly sketches: QuantileSketch[] | undefined;
  private readonly groups: GroupTable | undefined;

  constructor(
    private readonly job: JobSpec & { kind: 'statistics' },
    table: TableLayout,
  ) {
    this.width = table.features.length;
    this.moments = new ColumnMoments(this.width);
    this.sketches = job.sketches ? Array.from({ length: this.width }, () => new QuantileSketch()) : undefined;
    this.groups = job.groups ? new GroupTable(this.width, true) : undefined;
  }

  take(block: Block): { rows: number } {
    const { rows } = block;
    const { width, moments, sketches, groups } = this;
    const values = rows.values;
    const clamp = this.job.clamp;
    if (clamp) {
      for (let i = 0; i < rows.count * width; i++) {
        const j = i % width;
        if (values[i] < clamp.lower[j]) values[i] = clamp.lower[j];
        else if (values[i] > clamp.upper[j]) values[i] = clamp.upper[j];
      }
    }
    // Per group, the moments of all rows are the groups' merged (exactly): not kept twice.
    if (!groups) moments.addRows(values, rows.count);
    if (sketches) {
      for (let i = 0, base = 0; i < rows.count; i++, base += width) for (let j = 0; j < width; j++) sketches[j].add(values[base + j]);
    }
    if (groups && this.job.groups) {
      const columns = this.job.groups.indexes;
      for (let i = 0, base = 0; i < rows.count; i++, base += width) groups.addRow(block.groupKey(i, columns), values, base);
    }
    return { rows: rows.count };
  }

  finishPiece(result: PieceResult): void {
    if (this.groups) result.newGroups = this.groups.takeNew();
    else {
      result.moments = this.moments.state();
      this.moments = new ColumnMoments(this.width);
    }
  }

  totals(): ProcessorTotals {
    const totals: ProcessorTotals = {};
    if (this.sketches) totals.sketches = this.sketches.map((s) => s.state());
    if (this.groups) totals.groups = this.groups.parts();
    return totals;
  }
}

/**
 * Rows and (optionally) moments per group, in order of first appearance,
 * kept by a thread over all its pieces; the groups new in each piece are
 * reported with it.
 */
export class GroupTable {
  private readonly index = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly rows: number[] = [];
  private readonly moments: ColumnMoments | undefined;
  /** Index of the first group not yet reported as new. */
  private reported = 0;

  constructor(
    private readonly width: number,
    withMoments: boolean,
  ) {
    this.moments = withMoments ? new ColumnMoments(0) : undefined;
  }

  /** Group `key`'s index, the group added if new. */
  private groupOf(key: string): number {
    let g = this.index.get(key);
    if (g === undefined) {
      g = this.keys.length;
      this.index.set(key, g);
      this.keys.push(key);
      this.rows.push(0);
      this.moments?.grow((g + 1) * this.width);
    }
    return g;
  }

  /** Counts a row of group `key`, and adds its values (values[base …]) if moments are kept. */
  addRow(key: string, values: Float64Array | undefined, base: number): void {
    const g = this.groupOf(key);
    this.rows[g]++;
    const moments = this.moments;
    if (moments && values) {
      const at = g * this.width;
      for (let j = 0; j < this.width; j++) moments.add(at + j, values[base + j]);
    }
  }

  /** Adds a whole group's rows and moments. */
  addGroup(key: string, rows: number, moments: ColumnMoments): void {
    const g = this.groupOf(key);
    this.rows[g] += rows;
    for (let j = 0; j < this.width; j++) this.moments?.mergeColumn(g * this.width + j, moments, j);
  }

  /** The groups added since the last call, in order. */
  takeNew(): string[] {
    const added = this.keys.slice(this.reported);
    this.reported = this.keys.length;
    return added;
  }

  /** Every group's rows and moments. */
  parts(): GroupParts {
    const parts: GroupParts = { keys: this.keys, rows: this.rows };
    if (this.moments) parts.moments = this.moments.state();
    return parts;
  }
}
