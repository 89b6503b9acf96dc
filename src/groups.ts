// --group-by: which group a record belongs to (the text of its group-by
// columns), and the table that keeps rows and statistics per group. Memory
// grows with the number of groups × features, never with the number of rows.

import { ColumnMoments, type ColumnMomentsState } from './core/moments.js';
import { MemoryGuard } from './memory.js';
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

/** A thread's groups: keys, rows, first appearances, and moments in segments (see GroupTable). */
export interface GroupParts {
  keys: string[];
  rows: number[];
  firstSeen: number[];
  moments?: ColumnMomentsState[];
}

/**
 * Group moments are kept in segments of about this many columns: a table of
 * a million groups grows by adding a segment, never by copying all it holds
 * into arrays twice the size (which would need three times its memory at once).
 */
const SEGMENT_COLUMNS = 1 << 16;

/**
 * Where a row is in the input, as one number that orders rows: its piece
 * (numbered in input order) and its place in the piece. A group's first
 * appearance is the least of its rows' positions, whichever thread met them.
 */
export function rowPosition(piece: number, row: number): number {
  return piece * 2 ** 24 + row;
}

function pieceOf(position: number): number {
  return Math.floor(position / 2 ** 24);
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
  /** Group g's moments are columns (g mod groupsPerSegment)·width … of segments[⌊g / groupsPerSegment⌋]. */
  private readonly segments: ColumnMoments[] = [];
  private readonly groupsPerSegment: number;
  private readonly keys: string[] = [];
  private readonly rows: number[] = [];
  private readonly firstSeen: number[] = [];
  /** The piece of each group's latest row, or −1 once a group has had rows in two pieces (it came back). */
  private readonly lastPiece: number[] = [];
  private comeBack = 0;
  /** New groups whose key the thread had handed over before, counted on a sample of keys (see KeySample). */
  private returnedSampled = 0;
  /** The keys' text, in UTF-16 code units (part of what the table holds). */
  private keyUnits = 0;
  private readonly guard = new MemoryGuard(() => ({
    what: `${this.size.toLocaleString('en-US')} groups${this.withMoments ? ` of ${this.width} column${this.width === 1 ? '' : 's'}` : ''}`,
    instead: 'group by fewer or coarser columns (or, for batch, use --sorted if the rows of each group are together)',
    // The index and the arrays grow by doubling: a new table for every group held.
    next: this.size * GROUP_OVERHEAD_BYTES,
  }));

  constructor(
    readonly width: number,
    readonly withMoments: boolean,
    /** The keys (a sample) of the tables the thread handed over before this one. */
    private readonly handedOver?: KeySample,
  ) {
    this.groupsPerSegment = Math.max(1, Math.floor(SEGMENT_COLUMNS / Math.max(1, width)));
  }

  /** The moments holding group g's columns (see firstColumnOf). */
  segmentOf(g: number): ColumnMoments {
    return this.segments[Math.floor(g / this.groupsPerSegment)];
  }

  /** Group g's column j is column firstColumnOf(g) + j of segmentOf(g). */
  firstColumnOf(g: number): number {
    return (g % this.groupsPerSegment) * this.width;
  }

  /**
   * Lets go of the moments of group g's segment, once g is the last group of
   * it read (a table read once, in order, after its pass: its memory goes as
   * what is made from it comes). No group can be added after.
   */
  release(g: number): void {
    this.index.clear();
    if ((g + 1) % this.groupsPerSegment === 0 || g === this.size - 1) this.segments[Math.floor(g / this.groupsPerSegment)] = new ColumnMoments(0);
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
      this.lastPiece.push(pieceOf(position));
      if (this.withMoments) {
        if (g % this.groupsPerSegment === 0) this.segments.push(new ColumnMoments(0));
        this.segmentOf(g).grow(this.firstColumnOf(g) + this.width);
      }
      this.keyUnits += key.length;
      if (this.handedOver?.keepsComingBack(key)) this.returnedSampled++;
      this.guard.step();
    } else {
      if (position < this.firstSeen[g]) this.firstSeen[g] = position;
      const last = this.lastPiece[g];
      if (last >= 0 && last !== pieceOf(position)) {
        this.lastPiece[g] = -1;
        this.comeBack++;
      }
    }
    return g;
  }

  /** Counts a row of group `key` at `position`, and adds its values (values[base …]) if moments are kept. */
  addRow(key: string, values: Float64Array | undefined, base: number, position: number): void {
    const g = this.groupOf(key, position);
    this.rows[g]++;
    if (this.withMoments && values) {
      const moments = this.segmentOf(g);
      const at = this.firstColumnOf(g);
      for (let j = 0; j < this.width; j++) moments.add(at + j, values[base + j]);
    }
  }

  /** Adds a whole group's rows and moments (columns 0 … width − 1 of `moments`). */
  addGroup(key: string, rows: number, moments: ColumnMoments, position: number): void {
    const g = this.groupOf(key, position);
    this.rows[g] += rows;
    if (!this.withMoments) return;
    const segment = this.segmentOf(g);
    const at = this.firstColumnOf(g);
    for (let j = 0; j < this.width; j++) segment.mergeColumn(at + j, moments, j);
  }

  /** Merges another table's groups (as parts), group by group, exactly. */
  mergeParts(parts: GroupParts): void {
    const segments = parts.moments?.map((state) => ColumnMoments.fromState(state));
    const { width, groupsPerSegment } = this;
    parts.keys.forEach((key, h) => {
      const g = this.groupOf(key, parts.firstSeen[h]);
      this.rows[g] += parts.rows[h];
      if (segments === undefined || !this.withMoments) return;
      const from = segments[Math.floor(h / groupsPerSegment)];
      const first = (h % groupsPerSegment) * width;
      const into = this.segmentOf(g);
      const at = this.firstColumnOf(g);
      for (let j = 0; j < width; j++) into.mergeColumn(at + j, from, first + j);
    });
  }

  /** Every group's rows, first appearance and moments. */
  parts(): GroupParts {
    const parts: GroupParts = { keys: this.keys, rows: this.rows, firstSeen: this.firstSeen };
    if (this.withMoments) parts.moments = this.segments.map((segment) => segment.state());
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

  /**
   * About how many of the groups are a working set: groups with rows in more
   * than one piece, and groups the thread had handed over before (they came
   * back: a panel of tickers is handed over and made again and again).
   */
  revisited(): number {
    return this.comeBack + KeySample.RATE * this.returnedSampled;
  }

  /** Puts a sample of the keys into `sample` (as the table is handed over). */
  sampleKeysInto(sample: KeySample): void {
    for (const key of this.keys) sample.add(key);
  }

  /** About what the table holds, in bytes. */
  bytes(): number {
    return this.keys.length * (GROUP_OVERHEAD_BYTES + (this.withMoments ? this.width * ColumnMoments.BYTES_PER_COLUMN : 0)) + 2 * this.keyUnits;
  }
}

/**
 * Rows per group of a transform with given groups (batch --params, the second
 * pass of batch -g), on the main thread: counted by the groups' index, from
 * each piece's list of its rows' groups (the pieces come in input order, so a
 * group's first count is its first appearance). Rows of groups not given
 * (--unseen global) are counted by key, in a GroupTable.
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

  /** Counts the rows of a piece, given in input order (`groupOfRow`: each row's group, −1 for one not given). */
  addPiece(piece: number, groupOfRow: Int32Array): void {
    const { rows, firstSeen } = this;
    for (let i = 0; i < groupOfRow.length; i++) {
      const g = groupOfRow[i];
      if (g < 0) continue;
      if (rows[g]++ === 0) firstSeen[g] = rowPosition(piece, i);
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

/**
 * A sample of the keys a thread handed over (one in RATE, chosen by hash),
 * as 32-bit hashes with how often each was handed over, in a table of
 * bounded size: whether keys keep coming back (a panel of tickers, handed
 * over and made again and again) in a few hundred kilobytes however many
 * keys there are. A key back once (a key of two rows far apart) is not yet a
 * working set.
 */
export class KeySample {
  static readonly RATE = 16;
  private readonly slots = new Int32Array(1 << 16);
  private readonly times = new Uint8Array(1 << 16);
  private size = 0;

  /** Counts a hand-over of `key`, if it is in the sample. */
  add(key: string): void {
    const hash = hashOf(key);
    if ((hash & (KeySample.RATE - 1)) !== 0) return;
    const slot = this.slotOf(hash);
    if (this.slots[slot] === 0) {
      if (2 * this.size >= this.slots.length) return;
      this.slots[slot] = hash | 1;
      this.size++;
    }
    if (this.times[slot] < 255) this.times[slot]++;
  }

  /** Whether `key` is in the sample and was handed over more than once. */
  keepsComingBack(key: string): boolean {
    const hash = hashOf(key);
    if ((hash & (KeySample.RATE - 1)) !== 0) return false;
    const slot = this.slotOf(hash);
    return this.slots[slot] !== 0 && this.times[slot] >= 2;
  }

  /** The slot holding `hash`, or the empty slot where it would go. */
  private slotOf(hash: number): number {
    const mask = this.slots.length - 1;
    const entry = hash | 1;
    let slot = (hash >>> 4) & mask;
    while (this.slots[slot] !== 0 && this.slots[slot] !== entry) slot = (slot + 1) & mask;
    return slot;
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
