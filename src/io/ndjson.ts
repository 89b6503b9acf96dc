// NDJSON records in bytes: one JSON object per line, blank lines ignored.
// Each line of a piece is parsed (JSON.parse, the engine's own parser) into
// the cells of the table's columns, which the first record's keys name. A
// line that is not a JSON object, holds a number beyond the float64 range, or
// has a key the first record lacks is a malformed record, reported with its
// line so that the caller can stop or skip it.

import { showValue } from '../errors.js';
import { LF } from './csv.js';

export type JsonObject = Record<string, unknown>;

/** The records of a piece: cells row-major (undefined = key absent); arrays reused from piece to piece. */
export class NdjsonRecords {
  count = 0;
  cells: unknown[] = [];
  line = new Float64Array(256);
  recordStart = new Int32Array(256);
  recordEnd = new Int32Array(256);
  readonly errors = new Map<number, string>();

  /**
   * Columns named like a member of every object (`toString`, `__proto__`,
   * `constructor`): a record without the key would read the member, so for
   * these the key must be the record's own. Keys are data, never members.
   */
  private readonly inherited: Uint8Array;

  constructor(readonly columns: readonly string[]) {
    this.inherited = Uint8Array.from(columns, (name) => (name in Object.prototype ? 1 : 0));
  }

  clear(): void {
    this.count = 0;
    this.errors.clear();
  }

  /** The record's cells, or an error; appended at `count`. */
  add(object: JsonObject | undefined, error: string | undefined, line: number, start: number, end: number): void {
    const r = this.count;
    if (r === this.line.length) {
      this.line = grown(this.line, r * 2);
      this.recordStart = grown(this.recordStart, r * 2);
      this.recordEnd = grown(this.recordEnd, r * 2);
    }
    this.line[r] = line;
    this.recordStart[r] = start;
    this.recordEnd[r] = end;
    const width = this.columns.length;
    const base = r * width;
    if (object === undefined) this.errors.set(r, error ?? 'bad line');
    else {
      const problem = this.fill(object, base);
      if (problem !== undefined) this.errors.set(r, problem);
    }
    this.count = r + 1;
  }

  /** Puts the object's values in column order; returns why it cannot be a row, if it cannot. */
  private fill(object: JsonObject, base: number): string | undefined {
    const { columns, cells, inherited } = this;
    let present = 0;
    for (let j = 0; j < columns.length; j++) {
      const value = inherited[j] === 1 && !Object.hasOwn(object, columns[j]) ? undefined : object[columns[j]];
      cells[base + j] = value;
      if (value !== undefined) present++;
    }
    let keys = 0;
    for (const _ in object) keys++;
    if (keys > present) {
      // A key the first record lacks would need a new column half-way through the output.
      const known = new Set(columns);
      const extra = Object.keys(object).find((key) => !known.has(key)) ?? '';
      return `key ${JSON.stringify(extra)} is not among the first record's keys (${columns.join(', ')}); finorm takes the columns from the first record`;
    }
    return undefined;
  }
}

function grown<T extends Int32Array | Float64Array>(array: T, length: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(length);
  bigger.set(array);
  return bigger;
}

/**
 * Parses one line: the object, or why it is not one (not JSON, not an
 * object, or a number beyond the float64 range, which JSON.parse reads as
 * ±Infinity and finorm could neither normalize nor write back).
 */
export function parseLine(text: string): { object?: JsonObject; error?: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `not valid JSON (${(error as Error).message})` };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return { error: `expected a JSON object per line, got ${kind}` };
  }
  const object = value as JsonObject;
  for (const key in object) {
    const cell = object[key];
    if (typeof cell === 'number' && !Number.isFinite(cell)) {
      const literal = numberTextOf(key, text);
      const shown = literal === undefined ? 'a number' : `value ${showValue(literal)}`;
      return { error: `column ${JSON.stringify(key)}: ${shown} is beyond the float64 range` };
    }
    if (typeof cell === 'object' && cell !== null && nestedDeeperThan(cell, MAX_NESTING - 1)) {
      return { error: `column ${JSON.stringify(key)}: the value is nested more than ${MAX_NESTING} levels deep` };
    }
  }
  return { object };
}

/**
 * Levels of arrays and objects a value may have. Deeper values are refused as
 * bad rows: writing them back (JSON.stringify recurses) would overflow the stack.
 */
export const MAX_NESTING = 64;

/** Whether `value` has more than `levels` levels of arrays and objects inside it, found without recursion. */
function nestedDeeperThan(value: object, levels: number): boolean {
  const stack: { value: object; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: at, depth } = stack.pop() as { value: object; depth: number };
    for (const inner of Object.values(at)) {
      if (typeof inner !== 'object' || inner === null) continue;
      if (depth + 1 > levels) return true;
      stack.push({ value: inner as object, depth: depth + 1 });
    }
  }
  return false;
}

/** The number as written after "key": in the line (if the key is written plainly). */
function numberTextOf(key: string, text: string): string | undefined {
  const quoted = JSON.stringify(key);
  const literal = /^\s*:\s*(-?[0-9][0-9.eE+-]*)/;
  for (let at = text.indexOf(quoted); at >= 0; at = text.indexOf(quoted, at + 1)) {
    const match = literal.exec(text.slice(at + quoted.length));
    if (match) return match[1];
  }
  return undefined;
}

/** Spaces, tabs and CRs only. */
function isBlank(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = bytes[i];
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

/**
 * Reads the lines of bytes[start, end) (whole lines; the last may lack its
 * LF) into `out` (cleared first). `firstLine` is the physical line of bytes[start].
 */
export function readNdjson(bytes: Uint8Array, start: number, end: number, firstLine: number, out: NdjsonRecords, maxRecords = Infinity): number {
  out.clear();
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let line = firstLine;
  let i = start;
  while (i < end && out.count < maxRecords) {
    let lf = bytes.indexOf(LF, i);
    if (lf < 0 || lf >= end) lf = end;
    const next = lf < end ? lf + 1 : end;
    if (!isBlank(bytes, i, lf)) {
      const { object, error } = parseLine(text.toString('utf8', i, lf));
      out.add(object, error, line, i, next);
    }
    line++;
    i = next;
  }
  return i;
}
