// The schema of a Parquet output: features are nullable DOUBLEs; a column
// that passes through keeps its Parquet type and annotations when the input
// is Parquet, and from CSV/TSV is text, or INT64 where the first rows (those
// feature inference reads) hold integers only; from NDJSON, INT64, DOUBLE or
// BOOLEAN where they hold only such JSON values, else text.

import { PhysicalType, schemaElement } from './metadata.js';
import type { ParquetOutputColumn } from './encode.js';
import { T, type ThriftStruct, structOf } from './thrift.js';

const INTEGER = /^-?(0|[1-9][0-9]{0,17})$/;
const UTF8 = 0;

/** The input as the output's schema needs it. */
export interface SchemaSource {
  format: string;
  /** Parquet input: each column's schema element. */
  elements?: readonly ThriftStruct[];
  /** The first rows' cells (text from CSV/TSV, JSON values from NDJSON). */
  sample: readonly (readonly unknown[])[];
}

export function parquetOutputColumns(
  output: { columns: readonly string[]; slotOf: Int32Array; fieldOf: Int32Array },
  input: SchemaSource,
): ParquetOutputColumn[] {
  return output.columns.map((name, c) => {
    if (output.slotOf[c] >= 0) return { physical: PhysicalType.DOUBLE, element: schemaElement(name, undefined, PhysicalType.DOUBLE, true), from: 'feature' };
    const f = output.fieldOf[c];
    if (input.elements !== undefined) {
      const element = input.elements[f];
      const physical = element.get(1)?.[1] as number;
      return { physical, element: schemaElement(name, element, physical, true), from: 'parquet' };
    }
    const present = input.sample.map((row) => row[f]).filter((cell) => cell !== null && cell !== undefined && cell !== '');
    const all = (test: (cell: unknown) => boolean): boolean => present.length > 0 && present.every(test);
    if (input.format === 'ndjson') {
      if (all((cell) => typeof cell === 'number' && Number.isSafeInteger(cell))) return integer(name);
      if (all((cell) => typeof cell === 'number')) return { physical: PhysicalType.DOUBLE, element: schemaElement(name, undefined, PhysicalType.DOUBLE, true), from: 'double' };
      if (all((cell) => typeof cell === 'boolean')) return { physical: PhysicalType.BOOLEAN, element: schemaElement(name, undefined, PhysicalType.BOOLEAN, true), from: 'boolean' };
    } else if (all((cell) => typeof cell === 'string' && INTEGER.test(cell))) {
      return integer(name);
    }
    const annotations: [number, number, ThriftStruct | number][] = [
      [6, T.i32, UTF8],
      [10, T.struct, structOf([[1, T.struct, structOf([])]])],
    ];
    return { physical: PhysicalType.BYTE_ARRAY, element: schemaElement(name, undefined, PhysicalType.BYTE_ARRAY, true, annotations), from: 'text' };
  });
}

function integer(name: string): ParquetOutputColumn {
  return { physical: PhysicalType.INT64, element: schemaElement(name, undefined, PhysicalType.INT64, true), from: 'integer' };
}
