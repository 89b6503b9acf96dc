// --group-by: which group a record belongs to (the text of its group-by
// columns), and the table that keeps rows and statistics per group. Memory
// grows with the number of groups × features, never with the number of rows.

import { ColumnMoments, type ColumnMomentsState } from './core/moments.js';
import { type Cell, resolveColumns } from './selection.js';

// Joins the values of several group-by columns into one map key; a control
// character that real ticker or date text does not contain.
export const KEY_SEPARATOR = '\u001f';

/** The group-by columns of a table, and the group of each record. */
export class GroupKeys {
  readonly names: string[];
  readonly indexes: number[];

  private constructor(names: string[], indexes: number[]) {
    this.names = names;
    this.indexes = indexes;
  }

  static resolve(tokens: readonly string[], columns: readonly string[]): GroupKeys {
    const indexes = [...new Set(resolveColumns(tokens, columns, '--group-by'))];
    return new GroupKeys(
      indexes.map((i) => columns[i]),
      indexes,
    );
  }

  /** The record's group as one string (a map key). */
  keyOf(record: readonly Cell[]): string {
    const { indexes } = this;
    if (indexes.length === 1) return textOf(record[indexes[0]]);
    return groupKey(indexes.length, (i) => textOf(record[indexes[i]]));
  }

  /** The values of the group-by columns behind a key, as written in parameter files. */
  static labelsOf(key: string): string[] {
    return key.split(KEY_SEPARATOR);
  }

  static keyOfLabels(labels: readonly string[]): string {
    return labels.join(KEY_SEPARATOR);
  }

  /** A group for messages: `ticker "AAPL"`. */
  describe(key: string): string {
    return describeGroup(this.names, key);
  }
}

/** A group for messages, from its group-by column names and its key: `ticker "AAPL"`. */
export function describeGroup(names: readonly string[], key: string): string {
  const labels = GroupKeys.labelsOf(key);
  return names.map((name, i) => `${name} ${JSON.stringify(labels[i])}`).join(', ');
}

/** The map key of a group whose `count` columns have the texts `textAt(0..count − 1)`. */
export function groupKey(count: number, textAt: (i: number) => string): string {
  let key = textAt(0);
  for (let i = 1; i < count; i++) key += KEY_SEPARATOR + textAt(i);
  return key;
}

/** A group's text: CSV fields as they are; NDJSON numbers as written, null and absent as empty. */
export function textOf(cell: Cell): string {
  if (typeof cell === 'string') return cell;
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'number') return String(cell);
  return JSON.stringify(cell);
}

/** Per group, in order of first appearance: its key and rows, and its moments as columns g·width … of one set. */
export interface GroupParts {
  keys: string[];
  rows: number[];
  moments?: ColumnMomentsState;
}

/** Memory a group costs besides its moments: its key in the index, the key's text, its row count. */
const GROUP_OVERHEAD_BYTES = 112;

/**
 * Rows and (optionally) moments per group, in order of first appearance. A
 * thread keeps one over its pieces (and hands it over when it outgrows its
 * budget, tableBytes), the driver one for the run: each group costs its key
 * and 72 bytes a column (ColumnMoments), so millions of groups fit.
 */
export class GroupTable {
  private readonly index = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly rows: number[] = [];
  /** Group g's column j is column g·width + j. */
  readonly moments: ColumnMoments | undefined;
  /** Index of the first group not yet reported as new. */
  private reported = 0;

  constructor(
    readonly width: number,
    withMoments: boolean,
  ) {
    this.moments = withMoments ? new ColumnMoments(0) : undefined;
  }

  get size(): number {
    return this.keys.length;
  }

  keyAt(g: number): string {
    return this.keys[g];
  }

  rowsAt(g: number): number {
    return this.rows[g];
  }

  indexOf(key: string): number | undefined {
    return this.index.get(key);
  }

  /** Group `key`'s index, the group added if new. */
  groupOf(key: string): number {
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

  /** Adds a whole group's rows and moments (columns 0 … width − 1 of `moments`). */
  addGroup(key: string, rows: number, moments: ColumnMoments): void {
    const g = this.groupOf(key);
    this.rows[g] += rows;
    for (let j = 0; j < this.width; j++) this.moments?.mergeColumn(g * this.width + j, moments, j);
  }

  /** Merges another table's groups (as parts), group by group, exactly. */
  mergeParts(parts: GroupParts): void {
    const packed = parts.moments ? ColumnMoments.fromState(parts.moments) : undefined;
    const { width } = this;
    parts.keys.forEach((key, h) => {
      const g = this.groupOf(key);
      this.rows[g] += parts.rows[h];
      if (packed && this.moments) for (let j = 0; j < width; j++) this.moments.mergeColumn(g * width + j, packed, h * width + j);
    });
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

  /** [key, rows] of every group, in order. */
  *entries(): IterableIterator<[string, number]> {
    for (let g = 0; g < this.keys.length; g++) yield [this.keys[g], this.rows[g]];
  }

  /** About what the table holds, in bytes. */
  bytes(): number {
    return this.keys.length * (GROUP_OVERHEAD_BYTES + (this.moments ? this.width * ColumnMoments.BYTES_PER_COLUMN : 0));
  }
}

/** The number of groups and the smallest one, for the summary. */
export function groupFacts(
  keys: GroupKeys,
  rowsOf: Iterable<[string, number]>,
): { count: number; smallest: { name: string; rows: number } } | undefined {
  let count = 0;
  let smallest: { name: string; rows: number } | undefined;
  for (const [key, rows] of rowsOf) {
    count++;
    if (smallest === undefined || rows < smallest.rows) smallest = { name: keys.describe(key), rows };
  }
  return smallest === undefined ? undefined : { count, smallest };
}
