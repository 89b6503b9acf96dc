// A piece's records and decoded rows, as a job sees them, and what a job is:
// shared by the piece processor and the jobs (statistics.ts, transform.ts).

import type { InputLocation } from '../errors.js';
import { KEY_SEPARATOR, textOf } from '../groups.js';
import { CsvRecords, fieldText } from '../io/csv.js';
import { NdjsonRecords } from '../io/ndjson.js';
import { cellText } from '../io/parquet/cells.js';
import type { ColumnBlock } from '../io/parquet/decode.js';
import { DecodedRows } from './decode.js';
import type { Piece, PieceFailure, PieceResult, ProcessorTotals, TableLayout } from './job.js';

/** A piece's records and decoded rows, as the job sees them. */
export class Block {
  piece!: Piece;
  /** The piece's bytes as a Buffer, for text. */
  text!: Buffer;
  csv = true;
  /** Parquet: the piece's rows as columns (then `csv` is false and the records are unused). */
  columns: ColumnBlock | undefined;
  readonly csvRecords = new CsvRecords();
  readonly ndjsonRecords: NdjsonRecords;
  readonly rows: DecodedRows;

  constructor(readonly table: TableLayout) {
    this.ndjsonRecords = new NdjsonRecords(table.columns);
    this.rows = new DecodedRows(table.features.length);
  }

  /** The physical line of row i (Parquet: its row number). */
  line(i: number): number {
    const r = this.rows.record[i];
    if (this.columns !== undefined) return this.columns.firstRow + r;
    return this.csv ? this.csvRecords.line[r] : this.ndjsonRecords.line[r];
  }

  /** Where row i's value of feature slot j is, for messages. */
  locate(i: number, j?: number): InputLocation {
    const at: InputLocation = { file: this.piece.source, line: this.line(i) };
    if (this.columns !== undefined) at.unit = 'row';
    if (j !== undefined) at.column = this.table.names[j];
    return at;
  }

  /** Row i's group: the texts of its group columns, joined. */
  groupKey(i: number, columns: readonly number[]): string {
    const r = this.rows.record[i];
    let key = '';
    for (let c = 0; c < columns.length; c++) {
      if (c > 0) key += KEY_SEPARATOR;
      if (this.columns !== undefined) key += cellText((this.table.parquet ?? [])[columns[c]], this.columns.columns[columns[c]], r) ?? '';
      else if (this.csv) key += fieldText(this.text, this.csvRecords, this.csvRecords.firstField[r] + columns[c]);
      else key += textOf(this.ndjsonRecords.cells[r * this.table.columns.length + columns[c]]);
    }
    return key;
  }

  /** The raw bytes of row i's record (its line break included). */
  recordBytes(i: number): Uint8Array {
    const r = this.rows.record[i];
    const records = this.csv ? this.csvRecords : this.ndjsonRecords;
    return this.piece.bytes.subarray(records.recordStart[r], records.recordEnd[r]);
  }
}

/** What a job does with the rows of a piece. */
export interface Work {
  /** Takes the block's rows in order; returns how many it processed, and the failure that stopped it, if one did. */
  take(block: Block): { rows: number; failure?: PieceFailure };
  /** Puts what the piece added into its result, and starts afresh for the next piece. */
  finishPiece(result: PieceResult): void;
  /** A sequential job's end of input (writes what it holds); returns a failure, if any. */
  finishInput?: () => PieceFailure | undefined;
  totals(): ProcessorTotals;
}
