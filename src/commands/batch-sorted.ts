// finorm batch --group-by COLS --sorted: the rows of each group are
// together (sorted by ticker, or by date for cross-sections), so one pass
// suffices: hold the current group's rows, and when the next group starts,
// fit the held rows and write them normalized. Memory grows with the largest
// group, not with the input.

import { batchNormalizeRow } from '../core/batch.js';
import { ColumnMoments } from '../core/moments.js';
import { DataError } from '../errors.js';
import { type GroupFit, GroupKeys, groupFacts } from '../groups.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import type { RowBlock } from '../io/read-table.js';
import type { Source } from '../io/sources.js';
import { paramsFromMoments } from '../params/fitted.js';
import { formatParams } from '../params/params-file.js';
import { FeatureInput, openTableWriter } from '../pipeline.js';
import { packageVersion } from '../version.js';
import { type BatchOptions, type BatchOutcome, scalingOf } from './batch.js';
import { clippingOf, generatorName, overflowErrorIn } from './shared.js';

/** Rows `start` to `end` (exclusive) of a decoded block, held until their group ends. */
interface HeldRows {
  block: RowBlock;
  values: Float64Array;
  start: number;
  end: number;
}

export async function runSortedGroups(sources: Source[], o: BatchOptions): Promise<BatchOutcome> {
  const input = await FeatureInput.open(sources, o);
  const { names } = input.selection;
  const width = names.length;
  const keys = GroupKeys.resolve(o.groupBy ?? [], input.table.columns);
  const clipping = clippingOf(o.clip, width);
  const inputMoments = new ColumnMoments(width);
  const outputMoments = new ColumnMoments(width);
  const all = new ColumnMoments(width);
  const fitted = new Map<string, GroupFit>();
  const rowsOf = new Map<string, number>();
  let rowsWritten = 0;
  let held: HeldRows[] = [];
  let current: string | undefined;

  const writer = await openTableWriter(input, o, o.header);
  const flush = async (): Promise<void> => {
    if (current === undefined) return;
    const moments = new ColumnMoments(width);
    for (const h of held) moments.addRows(h.values.subarray(h.start * width, h.end * width), h.end - h.start);
    const scaling = scalingOf(moments, o);
    for (const h of held) {
      const rows = h.end - h.start;
      const values = h.values.subarray(h.start * width, h.end * width);
      const out = new Float64Array(values.length);
      const part: RowBlock = {
        source: h.block.source,
        records: h.block.records.slice(h.start, h.end),
        lines: h.block.lines.slice(h.start, h.end),
      };
      for (let r = 0; r < rows; r++) {
        const overflow = batchNormalizeRow(values, r * width, width, scaling, out, clipping);
        if (overflow >= 0) throw overflowErrorIn(part, names, overflow);
      }
      inputMoments.addRows(values, rows);
      outputMoments.addRows(out, rows);
      await writer.write(part, out);
      rowsWritten += rows;
    }
    if (o.saveParams !== undefined) fitted.set(current, { moments, rows: rowsOf.get(current) ?? 0 });
    all.merge(moments);
    held = [];
  };

  try {
    for await (const { block, values } of input.blocks()) {
      const rows = block.records.length;
      let start = 0;
      for (let r = 0; r < rows; r++) {
        const key = keys.keyOf(block.records[r]);
        if (key !== current) {
          if (r > start) held.push({ block, values, start, end: r });
          await flush();
          if (rowsOf.has(key)) {
            throw new DataError(
              `--sorted: the rows of ${keys.describe(key)} are not together (it appeared before, then other groups); sort the input by ${keys.names.join(', ')} or leave out --sorted`,
              { file: block.source, line: block.lines[r] },
            );
          }
          current = key;
          start = r;
        }
        rowsOf.set(key, (rowsOf.get(key) ?? 0) + 1);
      }
      if (rows > start) held.push({ block, values, start, end: rows });
    }
    await flush();
    if (o.saveParams !== undefined) {
      const settings = { epsilon: o.epsilon, ddof: o.ddof, generator: generatorName(packageVersion()) };
      const params = paramsFromMoments(names, all, settings, undefined, { groups: { groupBy: keys.names, groups: fitted } });
      await writeFileAtomic(o.saveParams, formatParams(params));
    }
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return { input, rowsWritten, inputMoments, outputMoments, clipping, epsilon: o.epsilon, groups: groupFacts(keys, rowsOf), writer };
}
