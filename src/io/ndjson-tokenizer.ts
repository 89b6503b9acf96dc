// Newline-delimited JSON: one JSON object per line, blank lines ignored.
// Text goes in chunk by chunk; each non-blank line comes out parsed, with its
// line number, or with the reason it is not a JSON object.

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
    onObject(value as JsonObject, this.line, undefined);
  }
}

function isBlank(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}
