// Newline-delimited JSON: one JSON object per line, blank lines ignored.
// Text goes in chunk by chunk; each non-blank line comes out parsed, with its
// line number, or with the reason it is not a JSON object.

import { showValue } from '../errors.js';

export type JsonObject = Record<string, unknown>;
export type ObjectHandler = (object: JsonObject | undefined, line: number, error: string | undefined) => void;

export class NdjsonTokenizer {
  private partial = '';
  private line = 0;

  push(chunk: string, onObject: ObjectHandler): void {
    let start = 0;
    let newline = chunk.indexOf('\n');
    if (newline < 0) {
      this.partial += chunk;
      return;
    }
    let text = this.partial + chunk.slice(0, newline);
    this.partial = '';
    for (;;) {
      this.emitLine(text, onObject);
      start = newline + 1;
      newline = chunk.indexOf('\n', start);
      if (newline < 0) break;
      text = chunk.slice(start, newline);
    }
    this.partial = chunk.slice(start);
  }

  end(onObject: ObjectHandler): void {
    if (this.partial !== '') this.emitLine(this.partial, onObject);
    this.partial = '';
  }

  private emitLine(text: string, onObject: ObjectHandler): void {
    this.line++;
    if (isBlank(text)) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      onObject(undefined, this.line, `not valid JSON (${(error as Error).message})`);
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
      onObject(undefined, this.line, `expected a JSON object per line, got ${kind}`);
      return;
    }
    const overflow = firstOverflow(value as JsonObject, text);
    if (overflow !== undefined) {
      onObject(undefined, this.line, overflow);
      return;
    }
    onObject(value as JsonObject, this.line, undefined);
  }
}

/**
 * JSON.parse reads a number beyond the float64 range (1e400) as ±Infinity,
 * which finorm could neither normalize nor write back (JSON has no Infinity):
 * such a value is an error naming its key, as 1e400 is in CSV.
 */
function firstOverflow(object: JsonObject, text: string): string | undefined {
  for (const key in object) {
    const value = object[key];
    if (typeof value === 'number' && !Number.isFinite(value)) {
      const literal = numberTextOf(key, text);
      const shown = literal === undefined ? 'a number' : `value ${showValue(literal)}`;
      return `column ${JSON.stringify(key)}: ${shown} is beyond the float64 range`;
    }
  }
  return undefined;
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

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}
