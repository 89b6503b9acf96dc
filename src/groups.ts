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

/** A thread's groups: keys, rows, first appearances, and moments as columns g·width … of one set. */
export interface GroupParts {
  keys: string[];
  rows: number[];
  firstSeen: number[];
  moments?: ColumnMomentsState;
}

/**
 * Where a row is in the input, as one number that orders rows: its piece
 * (numbered in input order) and its place in the piece. A group's first
 * appearance is the least of its rows' positions, whichever thread met them.
 */
export function rowPosition(piece: number, row: number): number {
  return piece * 2 ** 24 + row;
}

/** Memory a group costs besides its moments: its key in the index, the key's text, its rows and first appearance. */
const GROUP_OVERHEAD_BYTES = 120;

/** One group's rows and first appearance, for the summary. */
export interface GroupRows {
  key: string;
  rows: number;
  firstSeen: number;
}

/**
 * Rows, first appearance and (optionally) moments per group. A thread keeps
 * one over its pieces (and hands it over when it outgrows its budget,
 * bytes()), the driver one for the run: each group costs its key and 72
 * bytes a column (ColumnMoments), so millions of groups fit. Groups are
 * numbered in the order they were added; inFirstSeenOrder() gives the order
 * of their first appearance in the input, whatever the threads.
 */
export class GroupTable {
  private readonly index = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly rows: number[] = [];
  private readonly firstSeen: number[] = [];
  /** Group g's column j is column g·width + j. */
  readonly moments: ColumnMoments | undefined;

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

  /** Group `key`'s index, the group added if new; its first appearance is the least position it is given. */
  groupOf(key: string, position: number): number {
    let g = this.index.get(key);
    if (g === undefined) {
      g = this.keys.length;
      this.index.set(key, g);
      this.keys.push(key);
      this.rows.push(0);
      this.firstSeen.push(position);
      this.moments?.grow((g + 1) * this.width);
    } else if (position < this.firstSeen[g]) {
      this.firstSeen[g] = position;
    }
    return g;
  }

  /** Counts a row of group `key` at `position`, and adds its values (values[base …]) if moments are kept. */
  addRow(key: string, values: Float64Array | undefined, base: number, position: number): void {
    const g = this.groupOf(key, position);
    this.rows[g]++;
    const moments = this.moments;
    if (moments && values) {
      const at = g * this.width;
      for (let j = 0; j < this.width; j++) moments.add(at + j, values[base + j]);
    }
  }

  /** Adds a whole group's rows and moments (columns 0 … width − 1 of `moments`). */
  addGroup(key: string, rows: number, moments: ColumnMoments, position: number): void {
    const g = this.groupOf(key, position);
    this.rows[g] += rows;
    for (let j = 0; j < this.width; j++) this.moments?.mergeColumn(g * this.width + j, moments, j);
  }

  /** Merges another table's groups (as parts), group by group, exactly. */
  mergeParts(parts: GroupParts): void {
    const packed = parts.moments ? ColumnMoments.fromState(parts.moments) : undefined;
    const { width } = this;
    parts.keys.forEach((key, h) => {
      const g = this.groupOf(key, parts.firstSeen[h]);
      this.rows[g] += parts.rows[h];
      if (packed && this.moments) for (let j = 0; j < width; j++) this.moments.mergeColumn(g * width + j, packed, h * width + j);
    });
  }

  /** Every group's rows, first appearance and moments. */
  parts(): GroupParts {
    const parts: GroupParts = { keys: this.keys, rows: this.rows, firstSeen: this.firstSeen };
    if (this.moments) parts.moments = this.moments.state();
    return parts;
  }

  /** The groups' indexes in the order of their first appearance in the input. */
  inFirstSeenOrder(): Int32Array {
    const order = Int32Array.from({ length: this.size }, (_, g) => g);
    const firstSeen = this.firstSeen;
    // Added in input order (one thread that kept its table): nothing to sort.
    for (let g = 1; g < order.length; g++) if (firstSeen[g] < firstSeen[g - 1]) return order.sort((a, b) => firstSeen[a] - firstSeen[b]);
    return order;
  }

  *entries(): IterableIterator<GroupRows> {
    for (let g = 0; g < this.keys.length; g++) yield { key: this.keys[g], rows: this.rows[g], firstSeen: this.firstSeen[g] };
  }

  /** About what the table holds, in bytes. */
  bytes(): number {
    return this.keys.length * (GROUP_OVERHEAD_BYTES + (this.moments ? this.width * ColumnMoments.BYTES_PER_COLUMN : 0));
  }
}

/**
 * Rows per group of a transform with given groups (batch --params, the second
 * pass of batch -g): counted by the groups' index, a number a group, and by
 * key only for rows of groups not given (--unseen global).
 */
export class IndexedGroupRows {
  readonly rows: Float64Array;
  readonly firstSeen: Float64Array;

  constructor(
    private readonly index: KeyIndex,
    count: number,
  ) {
    this.rows = new Float64Array(count);
    this.firstSeen = new Float64Array(count).fill(Infinity);
  }

  add(g: number, position: number): void {
    this.rows[g]++;
    if (position < this.firstSeen[g]) this.firstSeen[g] = position;
  }

  /** Adds a thread's counts. */
  merge(counts: { rows: Float64Array; firstSeen: Float64Array }): void {
    for (let g = 0; g < this.rows.length; g++) {
      this.rows[g] += counts.rows[g];
      if (counts.firstSeen[g] < this.firstSeen[g]) this.firstSeen[g] = counts.firstSeen[g];
    }
  }

  /** The groups given that had rows, then those of `unseen` (the rows of groups not given, by key). */
  *entries(unseen: GroupTable): IterableIterator<GroupRows> {
    for (let g = 0; g < this.rows.length; g++) if (this.rows[g] > 0) yield { key: this.index.keyAt(g), rows: this.rows[g], firstSeen: this.firstSeen[g] };
    yield* unseen.entries();
  }
}

/** The number of groups and the smallest one (of equal ones, the first to appear), for the summary. */
export function groupFacts(keys: GroupKeys, groups: Iterable<GroupRows>): { count: number; smallest: { name: string; rows: number } } | undefined {
  let count = 0;
  let smallest: GroupRows | undefined;
  for (const group of groups) {
    count++;
    if (smallest === undefined || group.rows < smallest.rows || (group.rows === smallest.rows && group.firstSeen < smallest.firstSeen)) smallest = group;
  }
  return smallest === undefined ? undefined : { count, smallest: { name: keys.describe(smallest.key), rows: smallest.rows } };
}

/** A KeyIndex as plain data: shared memory, so that every thread reads the one copy. */
export interface KeyIndexState {
  count: number;
  /** Every key's UTF-16 code units, one after another. */
  text: Uint16Array;
  /** Key g is text[starts[g] … starts[g + 1]). */
  starts: Uint32Array;
  /** Open addressing: group + 1, or 0 for an empty slot; a power of two long. */
  slots: Int32Array;
}

/**
 * Group keys → their index (0, 1, … in the order they were added), in
 * shared memory: a per-group transform on N threads reads one index of a
 * million keys instead of a Map copied to each (tens of bytes a key, once).
 */
export class KeyIndex {
  private constructor(private state: KeyIndexState) {}

  /** An empty index, with room for `keys` keys (it grows beyond). */
  static create(keys = 128): KeyIndex {
    let slots = 256;
    while (slots < 2 * keys) slots *= 2;
    return new KeyIndex({ count: 0, text: sharedUint16(Math.max(1024, 8 * keys)), starts: sharedUint32(keys + 2), slots: sharedInt32(slots) });
  }

  static of(state: KeyIndexState): KeyIndex {
    return new KeyIndex(state);
  }

  /** What a thread receives (the arrays are shared, not copied). */
  get shared(): KeyIndexState {
    return this.state;
  }

  get size(): number {
    return this.state.count;
  }

  /** The index of `key`, or −1. */
  indexOf(key: string): number {
    const { slots, starts, text } = this.state;
    const mask = slots.length - 1;
    for (let slot = hashOf(key) & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[slot];
      if (entry === 0) return -1;
      const g = entry - 1;
      const start = starts[g];
      if (starts[g + 1] - start !== key.length) continue;
      let same = true;
      for (let i = 0; i < key.length; i++) {
        if (text[start + i] !== key.charCodeAt(i)) {
          same = false;
          break;
        }
      }
      if (same) return g;
    }
  }

  /** Adds `key` as the next index and returns it, or returns −1 if it is already there. */
  add(key: string): number {
    if (this.indexOf(key) >= 0) return -1;
    const state = this.state;
    const g = state.count;
    if (2 * (g + 1) > state.slots.length) this.rehash(2 * state.slots.length);
    if (g + 2 > state.starts.length) state.starts = grownUint32(state.starts, 2 * state.starts.length);
    const start = state.starts[g];
    if (start + key.length > state.text.length) state.text = grownUint16(state.text, Math.max(2 * state.text.length, start + key.length));
    for (let i = 0; i < key.length; i++) state.text[start + i] = key.charCodeAt(i);
    state.starts[g + 1] = start + key.length;
    state.count = g + 1;
    this.place(g);
    return g;
  }

  keyAt(g: number): string {
    const { starts, text } = this.state;
    let key = '';
    for (let i = starts[g]; i < starts[g + 1]; i++) key += String.fromCharCode(text[i]);
    return key;
  }

  private place(g: number): void {
    const { slots, starts, text } = this.state;
    const mask = slots.length - 1;
    let hash = FNV_OFFSET;
    for (let i = starts[g]; i < starts[g + 1]; i++) hash = Math.imul(hash ^ text[i], FNV_PRIME);
    let slot = hash & mask;
    while (slots[slot] !== 0) slot = (slot + 1) & mask;
    slots[slot] = g + 1;
  }

  private rehash(size: number): void {
    this.state.slots = sharedInt32(size);
    for (let g = 0; g < this.state.count; g++) this.place(g);
  }
}

const FNV_OFFSET = 0x811c9dc5 | 0;
const FNV_PRIME = 0x01000193;

/** FNV-1a over the key's UTF-16 code units. */
function hashOf(key: string): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), FNV_PRIME);
  return hash;
}

const sharedUint16 = (n: number) => new Uint16Array(new SharedArrayBuffer(2 * n));
const sharedUint32 = (n: number) => new Uint32Array(new SharedArrayBuffer(4 * n));
const sharedInt32 = (n: number) => new Int32Array(new SharedArrayBuffer(4 * n));

function grownUint16(array: Uint16Array, n: number): Uint16Array {
  const bigger = sharedUint16(n);
  bigger.set(array);
  return bigger;
}

function grownUint32(array: Uint32Array, n: number): Uint32Array {
  const bigger = sharedUint32(n);
  bigger.set(array);
  return bigger;
}
