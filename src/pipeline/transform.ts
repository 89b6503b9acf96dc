// The transform job: each row of a piece normalized (layer; batch with fixed
// statistics, for all rows or per group; causal windows; --sorted groups) and
// rendered as bytes, with what the summary needs: moments, clipping counts,
// row facts, rows per group.

import { batchNormalizeRow, batchNormalizeRows, Clipping, groupHasColumn, groupNormalizeRow, scalingOfMoments } from '../core/batch.js';
import { LayerRowStats, layerNormalizeRows } from '../core/layer.js';
import { ColumnMoments } from '../core/moments.js';
import { QuantileSketch } from '../core/quantiles.js';
import { ExpandingStatistics, type RunningStatistics, WindowStatistics, runningNormalizeRow } from '../core/rolling.js';
import { describeGroup } from '../groups.js';
import { CsvRecords, tokenizeCsv } from '../io/csv.js';
import { readNdjson } from '../io/ndjson.js';
import type { OutputBytes } from '../io/output-bytes.js';
import { RowWriter } from '../io/render.js';
import { type ParquetLayout, ParquetRows } from '../io/parquet/rows.js';
import type { ColumnBlock } from '../io/parquet/decode.js';
import type { InputLocation } from '../errors.js';
import { Block, type Work } from './block.js';
import type { JobSpec, PieceFailure, PieceResult, ProcessorTotals, TableLayout, TransformSpec } from './job.js';
import { GroupTable, KeyIndex, rowPosition } from '../groups.js';
import { TableBudget } from './statistics.js';
import { TimeOrder } from './time-order.js';
import { MemoryGuard } from '../memory.js';
import { counted } from '../report/layout.js';

/** A transform of a piece's rows, rendered; with moments, clipping counts and row facts for the summary. */
export class TransformWork implements Work {
  private readonly width: number;
  private readonly writer: RowWriter;
  /** Parquet output: the rows as pages. */
  private readonly parquetRows: ParquetRows | undefined;
  private transformed = new Float64Array(0);
  private clipping: Clipping;
  private rowStats: LayerRowStats | undefined;
  private inputMoments: ColumnMoments | undefined;
  private outputMoments: ColumnMoments | undefined;
  private readonly sketches: QuantileSketch[] | undefined;
  private readonly outputSketches: QuantileSketch[] | undefined;
  /** Rows per group (grouped and causal transforms), and each group's fit (--sorted): kept over all pieces. */
  private groups: GroupTable | undefined;
  private readonly budget = new TableBudget();
  private readonly transform: TransformSpec;
  /** batch-groups: the keys of the groups the scalings are for, and the piece's rows' groups by index. */
  private readonly keyIndex: KeyIndex | undefined;
  private groupOfRow = new Int32Array(0);
  private rowsGrouped = 0;
  /** Causal with an order column: each group's latest time (it crosses pieces). */
  private readonly timeOrder: TimeOrder | undefined;
  /** Causal: each group's running statistics (they cross pieces). */
  private readonly running = new Map<string, RunningStatistics>();
  private readonly runningGuard = new MemoryGuard(() => ({
    what: `the causal statistics of ${this.running.size.toLocaleString('en-US')} groups`,
    instead: 'group by fewer or coarser columns, or use a shorter --window',
  }));
  /** --sorted: the group being read, its rows held until it ends. */
  private held: HeldGroup | undefined;
  private readonly seenGroups = new Set<string>();
  private readonly heldRecords = new CsvRecords();
  private readonly heldBlock: Block;

  finishInput?: () => PieceFailure | undefined;

  constructor(
    private readonly job: JobSpec & { kind: 'transform' },
    private readonly table: TableLayout,
    private readonly output: OutputBytes,
  ) {
    this.width = table.features.length;
    this.transform = job.transform;
    this.writer = new RowWriter(job.output, table.delimiter);
    this.parquetRows = job.output.format === 'parquet' ? new ParquetRows(job.output as ParquetLayout) : undefined;
    this.clipping = new Clipping(job.transform.clip, this.width);
    this.heldBlock = new Block(table);
    const kind = this.transform.kind;
    this.groups = kind === 'layer' || kind === 'batch' ? undefined : this.budget.table(this.width, kind === 'sorted');
    this.startPiece();
    if (job.histogram) {
      this.sketches = Array.from({ length: this.width }, () => new QuantileSketch());
      this.outputSketches = Array.from({ length: this.width }, () => new QuantileSketch());
    }
    if (this.transform.kind === 'sorted') this.finishInput = () => this.flushHeld();
    if (this.transform.kind === 'batch-groups') this.keyIndex = KeyIndex.of(this.transform.index);
    if (this.transform.kind === 'causal' && this.transform.orderBy !== undefined) this.timeOrder = new TimeOrder(this.transform.orderBy.name);
  }

  private startPiece(): void {
    this.clipping = new Clipping(this.transform.clip, this.width);
    this.rowStats = this.transform.kind === 'layer' ? new LayerRowStats() : undefined;
    this.inputMoments = this.job.summarize ? new ColumnMoments(this.width) : undefined;
    this.outputMoments = this.job.summarize ? new ColumnMoments(this.width) : undefined;
  }

  take(block: Block): { rows: number; failure?: PieceFailure } {
    const count = block.rows.count;
    const width = this.width;
    if (this.transformed.length < count * width) this.transformed = new Float64Array(Math.max(count * width, 2 * this.transformed.length));
    const out = this.transformed;
    const values = block.rows.values;
    const spec = this.transform;
    let processed = count;
    let failure: PieceFailure | undefined;
    switch (spec.kind) {
      case 'layer': {
        const overflow = layerNormalizeRows(values, count, width, spec.gamma, spec.beta, spec.epsilon, out, this.rowStats as LayerRowStats, this.clipping);
        if (overflow >= 0) {
          processed = Math.floor(overflow / width);
          failure = { kind: 'overflow', location: block.locate(processed, overflow % width) };
        }
        // Only for a summary: it costs a pass over the row.
        if (this.job.summarize) (this.rowStats as LayerRowStats).countDominated(values, processed, width);
        break;
      }
      case 'batch': {
        const overflow = batchNormalizeRows(values, count, width, spec.scaling, out, this.clipping);
        if (overflow >= 0) {
          processed = Math.floor(overflow / width);
          failure = { kind: 'overflow', location: block.locate(processed, overflow % width) };
        }
        break;
      }
      case 'batch-groups': {
        ({ processed, failure } = this.groupedRows(block, spec, out));
        break;
      }
      case 'causal': {
        ({ processed, failure } = this.causalRows(block, spec, out));
        break;
      }
      case 'sorted':
        return this.sortedRows(block, spec);
    }
    this.summarize(values, out, processed);
    this.writeRows(block, processed, out);
    return failure ? { rows: processed, failure } : { rows: processed };
  }

  private summarize(values: Float64Array, out: Float64Array, rows: number): void {
    this.inputMoments?.addRows(values, rows);
    this.outputMoments?.addRows(out, rows);
    const { sketches, outputSketches, width } = this;
    if (sketches && outputSketches) {
      for (let i = 0, base = 0; i < rows; i++, base += width) {
        for (let j = 0; j < width; j++) {
          sketches[j].add(values[base + j]);
          outputSketches[j].add(out[base + j]);
        }
      }
    }
  }

  private writeRows(block: Block, rows: number, out: Float64Array): void {
    const { record } = block.rows;
    const parquet = this.parquetRows;
    const source = block.piece.source;
    if (parquet !== undefined) {
      if (block.columns !== undefined) parquet.writeBlockRows(this.output, block.columns, record, rows, out);
      else if (block.csv) parquet.writeCsvRows(this.output, block.piece.bytes, block.csvRecords, record, rows, out, source);
      else parquet.writeNdjsonRows(this.output, block.ndjsonRecords, record, rows, out, source);
    } else if (block.columns !== undefined) this.writer.writeBlockRows(this.output, block.columns, this.table.parquet ?? [], record, rows, out);
    else if (block.csv) this.writer.writeCsvRows(this.output, block.piece.bytes, block.csvRecords, record, rows, out);
    else this.writer.writeNdjsonRows(this.output, block.ndjsonRecords, record, rows, out);
  }

  /** Each row with its group's scaling, or the fallback; a group (or a column of one) the file has no statistics for is an error. */
  private groupedRows(block: Block, spec: TransformSpec & { kind: 'batch-groups' }, out: Float64Array): { processed: number; failure?: PieceFailure } {
    const width = this.width;
    const values = block.rows.values;
    const columns = spec.groups.indexes;
    const { scalings } = spec;
    const index = this.keyIndex as KeyIndex;
    const piece = block.piece.id;
    if (this.groupOfRow.length < this.rowsGrouped + block.rows.count) {
      const bigger = new Int32Array(Math.max(this.rowsGrouped + block.rows.count, 2 * this.groupOfRow.length));
      bigger.set(this.groupOfRow.subarray(0, this.rowsGrouped));
      this.groupOfRow = bigger;
    }
    for (let i = 0; i < block.rows.count; i++) {
      const key = block.groupKey(i, columns);
      const base = i * width;
      const g = index.indexOf(key);
      let overflow: number;
      if (g < 0) {
        if (spec.fallback === undefined) {
          const message = `group ${describeGroup(spec.groups.names, key)} is not in ${spec.paramsFile}, which has ${counted(scalings.count, 'group')}; use --unseen global to normalize unseen groups with its global statistics`;
          return { processed: i, failure: { kind: 'data', message, location: block.locate(i) } };
        }
        overflow = batchNormalizeRow(values, base, width, spec.fallback, out, this.clipping);
      } else {
        for (let j = 0; j < width; j++) {
          if (values[base + j] === values[base + j] && !groupHasColumn(scalings, g, j)) {
            const message = `group ${describeGroup(spec.groups.names, key)} had no values in this column when ${spec.paramsFile} was fitted; use --unseen global to normalize it with the global statistics`;
            return { processed: i, failure: { kind: 'data', message, location: block.locate(i, j) } };
          }
        }
        overflow = groupNormalizeRow(values, base, width, scalings, g, out, this.clipping);
      }
      if (overflow >= 0) return { processed: i, failure: { kind: 'overflow', location: block.locate(i, overflow - base) } };
      this.groupOfRow[this.rowsGrouped++] = g;
      if (g < 0) this.groups?.addRow(key, undefined, 0, rowPosition(piece, this.rowsGrouped - 1));
    }
    return { processed: block.rows.count };
  }

  /** Each row with its group's running statistics, which it then joins (or joins first). */
  private causalRows(block: Block, spec: TransformSpec & { kind: 'causal' }, out: Float64Array): { processed: number; failure?: PieceFailure } {
    const width = this.width;
    const values = block.rows.values;
    const how = { epsilon: spec.epsilon, ddof: spec.ddof, minPeriods: spec.minPeriods, excludeCurrent: spec.excludeCurrent, clipping: this.clipping };
    const { timeOrder } = this;
    const orderColumn = spec.orderBy === undefined ? [] : [spec.orderBy.index];
    for (let i = 0; i < block.rows.count; i++) {
      const key = spec.groups ? block.groupKey(i, spec.groups.indexes) : '';
      if (timeOrder !== undefined) {
        const groups = spec.groups;
        const where = (): string => (groups ? ` in group ${describeGroup(groups.names, key)}` : '');
        const message = timeOrder.follow(key, block.groupKey(i, orderColumn), where);
        if (message !== undefined) return { processed: i, failure: { kind: 'data', message, location: block.locate(i) } };
      }
      let statistics = this.running.get(key);
      if (statistics === undefined) {
        this.runningGuard.step();
        statistics = spec.window !== undefined ? new WindowStatistics(width, spec.window) : new ExpandingStatistics(width);
        this.running.set(key, statistics);
      }
      const base = i * width;
      const overflow = runningNormalizeRow(statistics, values, base, width, how, out);
      if (overflow >= 0) return { processed: i, failure: { kind: 'overflow', location: block.locate(i, overflow - base) } };
      this.groups?.addRow(key, undefined, 0, rowPosition(block.piece.id, i));
    }
    return { processed: block.rows.count };
  }

  /** --sorted: rows are held until their group ends, then fitted and written together. */
  private sortedRows(block: Block, spec: TransformSpec & { kind: 'sorted' }): { rows: number; failure?: PieceFailure } {
    const width = this.width;
    const values = block.rows.values;
    let written = 0;
    for (let i = 0; i < block.rows.count; i++) {
      const key = block.groupKey(i, spec.groups.indexes);
      if (this.held === undefined || key !== this.held.key) {
        if (this.held !== undefined) {
          const failure = this.flushHeld();
          if (failure) return { rows: written, failure };
        }
        if (this.seenGroups.has(key)) {
          const message = `--sorted: the rows of ${describeGroup(spec.groups.names, key)} are not together (it appeared before, then other groups); sort the input by ${spec.groups.names.join(', ')} or leave out --sorted`;
          return { rows: written, failure: { kind: 'data', message, location: block.locate(i) } };
        }
        this.seenGroups.add(key);
        this.held = new HeldGroup(key, width);
      }
      this.held.hold(block, i, values, i * width);
      written++;
    }
    return { rows: written };
  }

  /** Fits the held group, normalizes its rows and writes them. */
  private flushHeld(): PieceFailure | undefined {
    const held = this.held;
    if (held === undefined) return undefined;
    this.held = undefined;
    const spec = this.transform as TransformSpec & { kind: 'sorted' };
    const width = this.width;
    const count = held.count;
    const scaling = scalingOfMoments(held.moments, spec.epsilon, spec.ddof);
    if (this.transformed.length < count * width) this.transformed = new Float64Array(count * width);
    const out = this.transformed;
    const values = held.values.subarray(0, count * width);
    for (let i = 0; i < count; i++) {
      const overflow = batchNormalizeRow(values, i * width, width, scaling, out, this.clipping);
      if (overflow >= 0) {
        const location: InputLocation = { file: held.source, line: held.lines[i], column: this.table.names[overflow - i * width] };
        if (held.blocks.length > 0) location.unit = 'row';
        return { kind: 'overflow', location };
      }
    }
    const heldBlock = this.heldBlock;
    if (held.blocks.length > 0) {
      // Parquet: the held rows are rows of the blocks they came in, written block by block.
      this.summarize(values, out, count);
      heldBlock.csv = false;
      const rows = heldBlock.rows;
      for (let i = 0; i < count; ) {
        const columns = held.blocks[i];
        let j = i + 1;
        while (j < count && held.blocks[j] === columns) j++;
        heldBlock.columns = columns;
        heldBlock.piece = { id: -1, source: held.source, bytes: new Uint8Array(0), firstLine: columns.firstRow };
        rows.reserve(j - i);
        for (let k = i; k < j; k++) rows.record[k - i] = held.blockRows[k];
        rows.count = j - i;
        this.writeRows(heldBlock, j - i, out.subarray(i * width));
        i = j;
      }
      this.groups?.addGroup(held.key, count, held.moments, held.firstPosition);
      return undefined;
    }
    // The held records are whole records again: read them as a piece of their own, and write them.
    heldBlock.columns = undefined;
    const bytes = held.bytes.subarray(0, held.length);
    heldBlock.piece = { id: -1, source: held.source, bytes, firstLine: 1 };
    heldBlock.text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    heldBlock.csv = this.table.format !== 'ndjson';
    const rows = heldBlock.rows;
    rows.reserve(count);
    for (let i = 0; i < count; i++) rows.record[i] = i;
    rows.count = count;
    if (heldBlock.csv) tokenizeCsv(bytes, 0, bytes.length, this.table.delimiter, 1, heldBlock.csvRecords);
    else readNdjson(bytes, 0, bytes.length, 1, heldBlock.ndjsonRecords);
    this.summarize(values, out, count);
    this.writeRows(heldBlock, count, out);
    this.groups?.addGroup(held.key, count, held.moments, held.firstPosition);
    return undefined;
  }

  finishPiece(result: PieceResult): void {
    const pages = this.parquetRows?.takeTable();
    if (pages !== undefined) result.pages = pages;
    result.clipped = this.clipping.counts;
    if (this.keyIndex !== undefined) {
      result.groupOfRow = this.groupOfRow.slice(0, this.rowsGrouped);
      this.rowsGrouped = 0;
    }
    if (this.rowStats) {
      const { zeroVarianceRows, emptyRows, sigma, dominatedBy } = this.rowStats;
      result.rowStats = { zeroVarianceRows, emptyRows, sigma: sigma.state(), dominatedBy };
    }
    if (this.inputMoments) result.moments = this.inputMoments.state();
    if (this.outputMoments) result.outputMoments = this.outputMoments.state();
    if (this.groups) {
      if (this.budget.handOver(this.groups)) {
        result.groups = this.groups.parts();
        this.groups = this.budget.table(this.width, this.groups.withMoments);
      }
    }
    this.startPiece();
  }

  totals(): ProcessorTotals {
    const totals: ProcessorTotals = {};
    if (this.sketches && this.outputSketches) {
      totals.sketches = this.sketches.map((s) => s.state());
      totals.outputSketches = this.outputSketches.map((s) => s.state());
    }
    if (this.groups) totals.groups = this.groups.parts();
    return totals;
  }
}

/** --sorted: the rows of the group being read: their bytes, lines and values, and the group's moments. */
class HeldGroup {
  count = 0;
  bytes = new Uint8Array(1 << 12);
  length = 0;
  lines: number[] = [];
  /** Where the group's first row is in the input (rowPosition). */
  firstPosition = 0;
  values: Float64Array;
  readonly moments: ColumnMoments;
  source = '';
  /** Parquet: each held row's block and its row in it (blocks on the main thread are not reused). */
  readonly blocks: ColumnBlock[] = [];
  readonly blockRows: number[] = [];

  constructor(
    readonly key: string,
    private readonly width: number,
  ) {
    this.values = new Float64Array(64 * Math.max(1, width));
    this.moments = new ColumnMoments(width);
  }

  hold(block: Block, i: number, values: Float64Array, base: number): void {
    if (block.columns !== undefined) {
      this.blocks.push(block.columns);
      this.blockRows.push(block.rows.record[i]);
    } else this.holdRecord(block, i);
    const width = this.width;
    if ((this.count + 1) * width > this.values.length) {
      const bigger = new Float64Array(Math.max((this.count + 1) * width, this.values.length * 2));
      bigger.set(this.values);
      this.values = bigger;
    }
    for (let j = 0; j < width; j++) {
      const x = values[base + j];
      this.values[this.count * width + j] = x;
      this.moments.add(j, x);
    }
    if (this.count === 0) this.firstPosition = rowPosition(block.piece.id, i);
    this.lines.push(block.line(i));
    this.source = block.piece.source;
    this.count++;
  }

  /** A text row's record bytes, kept to be read again when the group is written. */
  private holdRecord(block: Block, i: number): void {
    const record = block.recordBytes(i);
    // A last record without its line break gets one, so that held records stay apart.
    const needsBreak = record.length === 0 || record[record.length - 1] !== 10;
    const size = record.length + (needsBreak ? 1 : 0);
    if (this.length + size > this.bytes.length) {
      const bigger = new Uint8Array(Math.max(this.length + size, this.bytes.length * 2));
      bigger.set(this.bytes.subarray(0, this.length));
      this.bytes = bigger;
    }
    this.bytes.set(record, this.length);
    this.length += record.length;
    if (needsBreak) this.bytes[this.length++] = 10;
  }
}
