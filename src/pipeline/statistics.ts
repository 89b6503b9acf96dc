// The statistics job: moments of every feature of a piece (of values clamped
// to bounds when winsorizing), quantile sketches, and per-group rows and
// moments kept over all the pieces a thread handles.

import { ColumnMoments } from '../core/moments.js';
import { QuantileSketch } from '../core/quantiles.js';
import { GroupTable, KeySample, rowPosition } from '../groups.js';
import type { Block, Work } from './block.js';
import type { JobSpec, PieceResult, ProcessorTotals, TableLayout } from './job.js';

/**
 * A thread's per-group table beyond its budget is handed over with the piece
 * that outgrew it, and a new one started: the driver's table holds the
 * groups, each thread only a budget's worth, however many keys the input has.
 * Unless most of the table's groups come back in later pieces (a panel of
 * tickers, a working set): then handing it over would only send the same
 * groups again and again, so the budget doubles instead, up to the most a
 * worker's heap is sized for. FINORM_GROUP_TABLE_BYTES sets the first
 * budget, for tests.
 */
export const GROUP_TABLE_BUDGET_BYTES = Number(process.env.FINORM_GROUP_TABLE_BYTES) || 8 << 20;
export const GROUP_TABLE_MOST_BYTES = Math.max(GROUP_TABLE_BUDGET_BYTES, 64 << 20);

/** When a thread hands its table of groups over (see GROUP_TABLE_BUDGET_BYTES), and what it starts next. */
export class TableBudget {
  private budget = GROUP_TABLE_BUDGET_BYTES;
  /** Keys (a sample) of the tables handed over, to see whether they come back in the next. */
  private readonly handedOver = new KeySample();

  /** A table for the thread's groups (a next one, after a hand-over). */
  table(width: number, withMoments: boolean): GroupTable {
    return new GroupTable(width, withMoments, this.handedOver);
  }

  handOver(table: GroupTable): boolean {
    if (table.bytes() <= this.budget) return false;
    if (2 * table.revisited() >= table.size && this.budget < GROUP_TABLE_MOST_BYTES) {
      this.budget = Math.min(2 * this.budget, GROUP_TABLE_MOST_BYTES);
      return false;
    }
    table.sampleKeysInto(this.handedOver);
    return true;
  }
}

/** Statistics of a piece: moments of every feature (of clamped values when winsorizing), per group, sketches. */
export class StatisticsWork implements Work {
  private moments: ColumnMoments;
  private readonly width: number;
  private readonly sketches: QuantileSketch[] | undefined;
  private groups: GroupTable | undefined;
  private readonly budget = new TableBudget();

  constructor(
    private readonly job: JobSpec & { kind: 'statistics' },
    table: TableLayout,
  ) {
    this.width = table.features.length;
    this.moments = new ColumnMoments(this.width);
    this.sketches = job.sketches ? Array.from({ length: this.width }, () => new QuantileSketch()) : undefined;
    this.groups = job.groups ? this.budget.table(this.width, true) : undefined;
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
      if (this.budget.handOver(this.groups)) {
        result.groups = this.groups.parts();
        this.groups = this.budget.table(this.width, true);
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
