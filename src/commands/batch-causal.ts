// finorm batch --window N / --expanding: causal normalization. Each row is
// normalized with the statistics of its group's rows up to it (or strictly
// before it, --exclude-current), so no value sees the future. Input order is
// time order. One streaming pass; memory grows with groups × N × features.

import { type RunningStatistics, ExpandingStatistics, WindowStatistics, runningNormalizeRow } from '../core/rolling.js';
import { UsageError } from '../errors.js';
import { GroupKeys, groupFacts } from '../groups.js';
import type { Source } from '../io/sources.js';
import { FeatureInput, openTableWriter } from '../pipeline.js';
import { type BatchOptions, type BatchOutcome } from './batch.js';
import { summaryWanted } from '../report/report.js';
import { clippingOf, transformAll } from './shared.js';

interface GroupState {
  statistics: RunningStatistics;
  rows: number;
}

export async function runCausal(sources: Source[], o: BatchOptions): Promise<BatchOutcome> {
  const windowSize = o.window;
  const minPeriods = o.minPeriods ?? windowSize ?? 2;
  if (windowSize !== undefined && minPeriods > windowSize) {
    throw new UsageError(`--min-periods ${minPeriods} can never be reached with --window ${windowSize}`);
  }
  const input = await FeatureInput.open(sources, o);
  const width = input.selection.names.length;
  const keys = o.groupBy ? GroupKeys.resolve(o.groupBy, input.table.columns) : undefined;
  const clipping = clippingOf(o.clip, width);
  const how = { epsilon: o.epsilon, ddof: o.ddof, minPeriods, excludeCurrent: o.excludeCurrent, clipping };
  const groups = new Map<string, GroupState>();
  const stateOf = (key: string): GroupState => {
    let state = groups.get(key);
    if (state === undefined) {
      const statistics = windowSize !== undefined ? new WindowStatistics(width, windowSize) : new ExpandingStatistics(width);
      state = { statistics, rows: 0 };
      groups.set(key, state);
    }
    return state;
  };

  const writer = await openTableWriter(input, o, o.header);
  const result = await transformAll(input, writer, (values, rows, out, block) => {
    let firstOverflow = -1;
    for (let r = 0; r < rows; r++) {
      const state = stateOf(keys ? keys.keyOf(block.records[r]) : '');
      state.rows++;
      const overflow = runningNormalizeRow(state.statistics, values, r * width, width, how, out);
      if (firstOverflow < 0) firstOverflow = overflow;
    }
    return firstOverflow;
  }, summaryWanted(o));
  const outcome: BatchOutcome = { input, ...result, clipping, epsilon: o.epsilon, writer };
  if (keys) outcome.groups = groupFacts(keys, [...groups].map(([key, state]) => [key, state.rows]));
  return outcome;
}
