// --group-by: which group a record belongs to (the text of its group-by
// columns), and the fitting pass that keeps statistics per group. Memory grows
// with the number of groups × features, never with the number of rows.

import { ColumnMoments } from './core/moments.js';
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

/** Statistics of one group from the fitting pass. */
export interface GroupFit {
  moments: ColumnMoments;
  rows: number;
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
