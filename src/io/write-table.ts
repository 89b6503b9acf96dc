// Writes records back out in CSV, TSV or NDJSON, with the feature cells
// replaced by computed numbers. It knows nothing of normalization: it is given
// the records, which columns are features, and their new values.

import { formatNumber } from './numbers.js';
import type { OutputSink } from './output.js';
import type { Cell, RowBlock } from './read-table.js';
import type { Format } from './sources.js';

export interface WriterOptions {
  format: Format;
  /** CSV delimiter (TSV always uses a tab). */
  delimiter: string;
  /** Write a header line (CSV/TSV). */
  header: boolean;
  columns: readonly string[];
  /** For each column: its position among the features, or −1 to copy the cell. */
  slotOf: Int32Array;
  /** Significant digits, or undefined for the shortest exact form. */
  precision: number | undefined;
}

export interface TableWriter {
  readonly options: WriterOptions;
  /** Writes a block's records; `values` holds the features, row-major (NaN = missing). */
  write(block: RowBlock, values: Float64Array): Promise<void>;
  /**
   * Writes rows rendered elsewhere (by a worker thread, with rendererFor) as
   * UTF-8 bytes; `written` is called once the bytes are no longer needed (as OutputSink.write's).
   */
  writeRendered(bytes: Uint8Array, written: () => void): Promise<void>;
  /** Flushes and commits the output. */
  close(): Promise<void>;
  abort(): Promise<void>;
}

export function createTableWriter(sink: OutputSink, options: WriterOptions): TableWriter {
  const render = rendererFor(options);
  let started = false;
  return {
    options,
    async write(block, values) {
      let text = '';
      if (!started) {
        started = true;
        text = render.start();
      }
      text += render.rows(block.records, values);
      if (text !== '') await sink.write(text);
    },
    async writeRendered(bytes, written) {
      if (!started) {
        started = true;
        const text = render.start();
        if (text !== '') await sink.write(text);
      }
      if (bytes.length > 0) await sink.write(bytes, written);
      else written();
    },
    async close() {
      if (!started) {
        started = true;
        const text = render.start();
        if (text !== '') await sink.write(text);
      }
      await sink.commit();
    },
    abort: () => sink.abort(),
  };
}

interface Renderer {
  /** The header line (CSV/TSV), or ''. */
  start(): string;
  rows(records: Cell[][], values: Float64Array): string;
}

/** Turns records and their new feature values into output text. */
export function rendererFor(options: WriterOptions): Renderer {
  return options.format === 'ndjson' ? ndjsonRenderer(options) : delimitedRenderer(options);
}

function delimitedRenderer(options: WriterOptions): Renderer {
  const delimiter = options.format === 'tsv' ? '\t' : options.delimiter;
  const width = options.columns.length;
  const features = countFeatures(options.slotOf);
  const { slotOf, precision } = options;
  const quote = (text: string): string => (needsQuotes(text, delimiter) ? `"${text.replaceAll('"', '""')}"` : text);
  return {
    start: () => (options.header && width > 0 ? options.columns.map(quote).join(delimiter) + '\n' : ''),
    rows(records, values) {
      let out = '';
      for (let r = 0; r < records.length; r++) {
        const record = records[r];
        let line = '';
        for (let c = 0; c < width; c++) {
          if (c > 0) line += delimiter;
          const slot = slotOf[c];
          if (slot >= 0) {
            const y = values[r * features + slot];
            if (y === y) line += formatNumber(y, precision);
          } else {
            line += quote(cellText(record[c]));
          }
        }
        // A lone empty field would read back as a blank line, which readers skip.
        out += (width === 1 && line === '' ? '""' : line) + '\n';
      }
      return out;
    },
  };
}

function ndjsonRenderer(options: WriterOptions): Renderer {
  const keys = options.columns.map((name) => JSON.stringify(name) + ':');
  const width = options.columns.length;
  const features = countFeatures(options.slotOf);
  const { slotOf, precision } = options;
  return {
    start: () => '',
    rows(records, values) {
      let out = '';
      for (let r = 0; r < records.length; r++) {
        const record = records[r];
        let line = '{';
        let first = true;
        for (let c = 0; c < width; c++) {
          const slot = slotOf[c];
          let json: string;
          if (slot >= 0) {
            const y = values[r * features + slot];
            json = y === y ? formatNumber(y, precision) : 'null';
          } else {
            const cell = record[c];
            if (cell === undefined) continue; // a key absent from the input stays absent
            json = JSON.stringify(cell);
          }
          line += (first ? '' : ',') + keys[c] + json;
          first = false;
        }
        out += line + '}\n';
      }
      return out;
    },
  };
}

/** A pass-through cell as text: CSV fields are strings already; JSON values are written as JSON. */
function cellText(cell: Cell): string {
  if (typeof cell === 'string') return cell;
  if (cell === null || cell === undefined) return '';
  return JSON.stringify(cell);
}

function needsQuotes(text: string, delimiter: string): boolean {
  if (text === '') return false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === delimiter || c === '"' || c === '\n' || c === '\r') return true;
  }
  return false;
}

function countFeatures(slotOf: Int32Array): number {
  let n = 0;
  for (const slot of slotOf) if (slot >= 0) n++;
  return n;
}
