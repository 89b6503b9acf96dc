// The statistics job: moments of every feature of a piece (of values clamped
// to bounds when winsorizing), quantile sketches, and per-group rows and
// moments kept over all the pieces a thread handles.

import { ColumnMoments } from '../core/moments.js';
import { QuantileSketch } from '../core/quantiles.js';
import { GroupTable, rowPosition } from '../groups.js';
import type { Block, Work } from './block.js';
import type { JobSpec, PieceResult, ProcessorTotals, TableLayout } from './job.js';

/**
 * A thread's per-group table beyond this many bytes is handed over with the
 * piece that outgrew it, and a new one started: the driver's table holds
 * the groups, each thread only a budget's worth, however many groups the
 * input has (a panel of 500 tickers never reaches it). FINORM_GROUP_TABLE_BYTES
 * overrides it, for tests.
 */
export const GROUP_TABLE_BUDGET_BYTES = Number(process.env.FINORM_GROUP_TABLE_BYTES) || 16 << 20;

/** Statistics of a piece: moments of every feature (of clamped values when winsorizing), per group, sketches. */
export class StatisticsWork implements Work {
  private moments: ColumnMoments;
  private readonly width: number;
  private readonly sketches: QuantileSketch[] | undefined;
  private groups: GroupTable | undefined;

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
      const piece = block.piece.id;
      for (let i = 0, base = 0; i < rows.count; i++, base += width) groups.addRow(block.groupKey(i, columns), values, base, rowPosition(piece, i));
    }
    return { rows: rows.count };
  }

  finishPiece(result: PieceResult): void {
    if (this.groups) {
      if (this.groups.bytes() > GROUP_TABLE_BUDGET_BYTES) {
        result.groups = this.groups.parts();
        this.groups = new GroupTable(this.width, true);
      }
    } else {
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
