// Reads the feature cells of a block of records into a row-major Float64Array
// (NaN = missing). A value that is not a number makes the row bad: the policy
// stops the run or skips the row.

import { RowError, showValue } from '../errors.js';
import type { BadRowPolicy } from './bad-rows.js';
import { explainNotANumber, parseDecimal } from './numbers.js';
import type { Cell, RowBlock } from './read-table.js';

export interface DecodedBlock {
  /** The block, without the rows that were skipped (under stop: the rows before the bad one). */
  block: RowBlock;
  /** rows × features, row-major. */
  values: Float64Array;
  /**
   * Under --on-error stop, the bad row that ends the input: the caller
   * processes the rows before it (so that all of them are written), then throws it.
   */
  stop?: RowError;
}

export class FeatureDecoder {
  private readonly features: readonly number[];
  private readonly names: readonly string[];
  private readonly na: ReadonlySet<string>;
  private readonly badRows: BadRowPolicy;
  /** NDJSON: numbers must be JSON numbers; a string is read only as a missing token. */
  private readonly jsonCells: boolean;
  /** Some missing token reads as a number (a sentinel such as -999). */
  private readonly numericNa: boolean;

  constructor(
    features: readonly number[],
    names: readonly string[],
    na: ReadonlySet<string>,
    badRows: BadRowPolicy,
    jsonCells: boolean,
  ) {
    this.features = features;
    this.names = names;
    this.na = na;
    this.badRows = badRows;
    this.jsonCells = jsonCells;
    this.numericNa = [...na].some((token) => !Number.isNaN(parseDecimal(token)));
  }

  decode(block: RowBlock): DecodedBlock {
    const width = this.features.length;
    const rows = block.records.length;
    const values = new Float64Array(rows * width);
    let kept = 0;
    let dropped = false;
    let stop: RowError | undefined;
    for (let r = 0; r < rows && stop === undefined; r++) {
      const record = block.records[r];
      const base = kept * width;
      let error = block.errors?.[r];
      for (let j = 0; j < width && error === undefined; j++) {
        const cell = record[this.features[j]];
        const value = this.valueOf(cell);
        if (value === undefined) error = this.errorFor(cell, j, block, r);
        else values[base + j] = value;
      }
      if (error !== undefined) {
        dropped = true;
        if (this.badRows.mode === 'stop') stop = error;
        else this.badRows.handle(error);
        continue;
      }
      if (dropped) {
        block.records[kept] = record;
        block.lines[kept] = block.lines[r];
      }
      kept++;
    }
    if (!dropped) return { block, values };
    block.records.length = kept;
    block.lines.length = kept;
    delete block.errors;
    const decoded: DecodedBlock = { block, values: values.subarray(0, kept * width) };
    if (stop) decoded.stop = stop;
    return decoded;
  }

  /** The number in a cell, NaN if missing, undefined if it is not a number. */
  private valueOf(cell: Cell): number | undefined {
    if (typeof cell === 'string') {
      if (this.jsonCells) return this.na.has(cell) ? NaN : undefined;
      // Parse first: unless a missing token is itself a number (--na -999),
      // no number is a missing token, and the set lookup is saved.
      if (this.numericNa && this.na.has(cell)) return NaN;
      const value = parseDecimal(cell);
      if (value === value && value !== Infinity && value !== -Infinity) return value;
      return this.na.has(cell) ? NaN : undefined;
    }
    if (typeof cell === 'number') return cell;
    if (cell === null || cell === undefined) return NaN;
    return undefined;
  }

  private errorFor(cell: Cell, slot: number, block: RowBlock, row: number): RowError {
    const at = { file: block.source, line: block.lines[row], column: this.names[slot] };
    if (typeof cell === 'string' && !this.jsonCells) {
      return new RowError(`value ${showValue(cell)} ${explainNotANumber(cell)}`, at);
    }
    if (typeof cell === 'string') return new RowError(`value ${showValue(cell)} is a JSON string, not a JSON number`, at);
    const kind = Array.isArray(cell) ? 'an array' : typeof cell === 'object' ? 'an object' : `a ${typeof cell}`;
    return new RowError(`value ${showValue(JSON.stringify(cell))} is ${kind}, not a number`, at);
  }
}
