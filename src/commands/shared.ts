// Small pieces that several commands share.

import { DataError } from '../errors.js';
import type { RowBlock } from '../io/read-table.js';

/** The error for a result that overflowed float64, located at the offending value. */
export function overflowError(block: RowBlock, names: readonly string[], index: number): DataError {
  const width = names.length;
  const row = Math.floor(index / width);
  return new DataError('the normalized value overflows float64 (is γ, β or ε extreme?)', {
    file: block.source,
    line: block.lines[row],
    column: names[index % width],
  });
}
