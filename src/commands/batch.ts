// finorm batch: batch normalization, each column with its own mean and
// variance: fitted over all rows (two passes), taken from a parameter file
// (one pass), per group (--group-by), or causally as the rows go by
// (--window, --expanding; see batch-causal.ts).

import { z } from 'zod';
import { type ColumnScaling, type Clipping, batchNormalizeRow, columnScaling } from '../core/batch.js';
import type { ColumnMoments } from '../core/moments.js';
import { QuantileSketch, RELATIVE_ACCURACY } from '../core/quantiles.js';
import { DataError, ExitCode, UsageError } from '../errors.js';
import { GroupKeys, type GroupFit, groupFacts } from '../groups.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import type { RowBlock } from '../io/read-table.js';
import type { TableWriter } from '../io/write-table.js';
import { StdinSpool } from '../io/spool.js';
import { type Source, STDIN_NAME } from '../io/sources.js';
import {
  columnOptions,
  decimalOption,
  epsilonOption,
  inputOptions,
  integerOption,
  outputOptions,
  reportOptions,
  schemaOf,
  inputFilesArgument,
  threadsOption,
} from '../options.js';
import { type RowTransformSpec, buildRowTransform } from '../parallel/row-transform.js';
import {
  type FittedBounds,
  groupScalingsFromParams,
  paramsFromMoments,
  requirePresentValues,
  scalingFromParams,
} from '../params/fitted.js';
import { type ParamsFile, formatParams, readParamsSource } from '../params/params-file.js';
import { FeatureInput, openTableWriter, prepareFiles } from '../pipeline.js';
import { progress } from '../report/progress.js';
import { deliverSummary, summaryWanted } from '../report/report.js';
import { type RunSummary, columnSummaries, skippedRows } from '../report/summary.js';
import { packageVersion } from '../version.js';
import { runCausal } from './batch-causal.js';
import { runSortedGroups } from './batch-sorted.js';
import { type CommandSpec, parseOptions } from './command.js';
import {
  clipOption,
  clippingOf,
  ddofOption,
  fitAll,
  fitGroups,
  generatorName,
  groupByOption,
  refuseTogether,
  commitLast,
  transformAll,
  withClipped,
} from './shared.js';

const options = {
  ...inputOptions,
  ...threadsOption,
  ...columnOptions,
  ...epsilonOption,
  ...ddofOption,
  params: {
    flags: '--params <file>',
    description: 'apply the fitted statistics (and γ, β) of this parameter file, in one pass (- reads stdin)',
    group: 'Normalization',
    complete: 'file',
    schema: z.string().optional(),
  },
  saveParams: {
    flags: '--save-params <file>',
    description: 'also write the fitted statistics to this parameter file',
    group: 'Normalization',
    complete: 'file',
    schema: z.string().optional(),
  },
  ...groupByOption,
  sorted: {
    flags: '--sorted',
    description: 'with --group-by: the rows of each group are together; stream in one pass, holding one group at a time',
    group: 'Normalization',
    schema: z.boolean().optional().transform(Boolean),
  },
  unseen: {
    flags: '--unseen <policy>',
    description: 'with --params fitted per group: a group the file lacks is an `error`, or uses the file\'s `global` statistics',
    group: 'Normalization',
    default: 'error',
    choices: ['error', 'global'],
    schema: z.enum(['error', 'global']),
  },
  window: {
    flags: '-w, --window <rows>',
    description: 'causal: each value with the mean and variance of the N most recent rows of its group, itself included',
    group: 'Normalization',
    complete: 'none',
    schema: integerOption('--window', 1, 100_000_000).optional(),
  },
  expanding: {
    flags: '--expanding',
    description: 'causal: each value with the mean and variance of all rows of its group so far',
    group: 'Normalization',
    schema: z.boolean().optional().transform(Boolean),
  },
  minPeriods: {
    flags: '--min-periods <rows>',
    description: 'with --window/--expanding: missing output until a column has this many values (default: N, or 2 for --expanding)',
    group: 'Normalization',
    complete: 'none',
    schema: integerOption('--min-periods', 1, 100_000_000).optional(),
  },
  excludeCurrent: {
    flags: '--exclude-current',
    description: 'with --window/--expanding: statistics of the rows strictly before the current one',
    group: 'Normalization',
    schema: z.boolean().optional().transform(Boolean),
  },
  ...clipOption,
  winsorize: {
    flags: '--winsorize <p>',
    description: 'clamp raw values to the p and 1−p quantiles of the fit before normalizing (quantiles within 0.1%)',
    group: 'Normalization',
    complete: 'none',
    schema: decimalOption('--winsorize', { minExclusive: 0, max: 0.5 }).optional(),
  },
  ...outputOptions,
  ...reportOptions,
} as const;

const Options = schemaOf(options);
export type BatchOptions = z.infer<typeof Options>;

/** What a way of running batch hands back for the summary. */
export interface BatchOutcome {
  input: FeatureInput;
  rowsWritten: number;
  inputMoments: ColumnMoments;
  outputMoments: ColumnMoments;
  clipping: Clipping;
  epsilon: number;
  /** Bad rows, when counted in an earlier pass than `input`'s. */
  rowsSkipped?: number;
  skipped?: RunSummary['skipped'];
  groups?: RunSummary['groups'];
  /** The table written so far, committed after the other outputs (commitLast). */
  writer: TableWriter;
}

export const batchCommand: CommandSpec = {
  name: 'batch',
  summary: 'normalize each column with its mean and variance (batch normalization, z-score)',
  description:
    'For each feature column j: mean_j and var_j over all rows\' present values, then ' +
    'y = γ_j·(x − mean_j)/√(var_j + ε) + β_j. Without --params it reads the input twice ' +
    '(fit, then transform; stdin is spooled to a temporary file); with --params it applies ' +
    'saved statistics in one streaming pass, like a fitted StandardScaler or a BatchNorm layer in eval mode. ' +
    'With --group-by, each group (a ticker, a date) has its own statistics; with --window or --expanding, ' +
    'each row is normalized with its group\'s rows up to it only (input order is time order). ' +
    'A constant column gives β.',
  arguments: inputFilesArgument,
  options,
  examples: [
    { command: 'finorm batch fixtures/sp500-sample.csv', explanation: 'z-score every numeric column over the whole file' },
    {
      command: 'finorm batch --group-by Sector -c Price,Price/Earnings fixtures/sp500-financials.csv',
      explanation: 'z-score each company against its own sector',
    },
    {
      command: 'finorm batch --params fixtures/params/sp500-fit.json fixtures/sp500-sample.csv',
      explanation: 'apply statistics fitted earlier (one pass, streams)',
    },
    {
      command: 'finorm batch --window 12 --exclude-current -c SP500 fixtures/shiller-monthly.csv',
      explanation: 'z-score the index against the 12 months before each month (no look-ahead)',
    },
  ],
  async run(files, raw, given) {
    const o = parseOptions(Options, raw, options);
    checkCombinations(o, given);
    const sources = await prepareFiles(files, [
      { option: '--output', path: o.output },
      { option: '--stats', path: o.stats },
      { option: '--save-params', path: o.saveParams },
    ]);
    let outcome: BatchOutcome;
    if (o.window !== undefined || o.expanding) outcome = await runCausal(sources, o);
    else if (o.sorted) outcome = await runSortedGroups(sources, o);
    else if (o.params !== undefined) outcome = await runWithParams(sources, o, given);
    else outcome = await runTwoPass(sources, o);

    const { input } = outcome;
    const rowsSkipped = outcome.rowsSkipped ?? input.rowsSkipped;
    await commitLast(outcome.writer, () =>
      deliverSummary(
      {
        command: 'batch',
        rowsRead: input.rowsRead,
        rowsWritten: outcome.rowsWritten,
        rowsSkipped,
        skipped: outcome.skipped ?? skippedRows(input.badRows),
        epsilon: outcome.epsilon,
        columns: withClipped(
          columnSummaries(input.selection.names, outcome.inputMoments, outcome.outputMoments),
          outcome.clipping,
        ),
        ...(outcome.groups ? { groups: outcome.groups } : {}),
      },
        o,
      ),
    );
    return rowsSkipped > 0 && o.failOnSkip ? ExitCode.skippedRows : ExitCode.ok;
  },
};

function checkCombinations(o: BatchOptions, given: ReadonlySet<string>): void {
  const causal = 'a causal normalization fits as it goes';
  refuseTogether(given, [
    ['params', 'saveParams', 'with --params nothing is fitted'],
    ['params', 'ddof', 'the variances in the parameter file already have their ddof'],
    ['params', 'winsorize', 'the bounds come from the parameter file'],
    ['params', 'sorted', '--params streams in one pass already'],
    ['window', 'expanding', 'choose one'],
    ['window', 'params', causal],
    ['expanding', 'params', causal],
    ['window', 'saveParams', causal],
    ['expanding', 'saveParams', causal],
    ['window', 'sorted', 'causal normalization streams in one pass already'],
    ['expanding', 'sorted', 'causal normalization streams in one pass already'],
    ['winsorize', 'groupBy', 'winsorizing bounds are fitted over the whole input'],
    ['winsorize', 'window', causal],
    ['winsorize', 'expanding', causal],
  ]);
  const causalRun = o.window !== undefined || o.expanding;
  if (!causalRun && (given.has('minPeriods') || given.has('excludeCurrent'))) {
    throw new UsageError(`${given.has('minPeriods') ? '--min-periods' : '--exclude-current'} needs --window or --expanding`);
  }
  if (o.sorted && o.groupBy === undefined) throw new UsageError('--sorted needs --group-by: it says the input is sorted by the groups');
}



/** One pass with the statistics of a parameter file (per group if it has groups). */
async function runWithParams(sources: Source[], o: BatchOptions, given: ReadonlySet<string>): Promise<BatchOutcome> {
  const file = o.params as string;
  const params = await readParamsSource(file);
  const groupBy = groupColumnsOf(params, o, file);
  const input = await FeatureInput.open(
    sources,
    { ...o, groupBy },
    { names: params.columns.map((c) => c.name), file },
  );
  const { names } = input.selection;
  const epsilon = !given.has('epsilon') && params.epsilon !== undefined ? params.epsilon : o.epsilon;
  const global = scalingFromParams(params, names, epsilon, file);
  if (groupBy === undefined) return transformEach(input, o, epsilon, global);

  const keys = GroupKeys.resolve(groupBy, input.table.columns);
  const byGroup = groupScalingsFromParams(params, names, epsilon, file, o.unseen === 'global' ? global : undefined);
  const unfitted = new Map([...byGroup].map(([key, s]) => [key, names.flatMap((_, j) => (Number.isNaN(s.mean[j]) ? [j] : []))]));
  const rowsByGroup = new Map<string, number>();
  const width = names.length;
  const outcome = await transformEach(input, o, epsilon, (block, r, values) => {
    const key = keys.keyOf(block.records[r]);
    rowsByGroup.set(key, (rowsByGroup.get(key) ?? 0) + 1);
    const scaling = byGroup.get(key);
    if (scaling !== undefined) {
      for (const j of unfitted.get(key) ?? []) {
        if (Number.isNaN(values[r * width + j])) continue;
        throw new DataError(
          `group ${keys.describe(key)} had no values in this column when ${file} was fitted; use --unseen global to normalize it with the global statistics`,
          { file: block.source, line: block.lines[r], column: names[j] },
        );
      }
      return scaling;
    }
    if (o.unseen === 'global') return global;
    throw new DataError(
      `group ${keys.describe(key)} is not in ${file}, which has ${byGroup.size} groups; use --unseen global to normalize unseen groups with its global statistics`,
      { file: block.source, line: block.lines[r] },
    );
  });
  return { ...outcome, groups: groupFacts(keys, rowsByGroup) };
}

/** The group-by columns of a run with --params: the file's, which --group-by (if given) must repeat. */
function groupColumnsOf(params: ParamsFile, o: BatchOptions, file: string): string[] | undefined {
  if (o.groupBy === undefined) return params.groupBy;
  if (params.groupBy === undefined) {
    throw new UsageError(`--group-by: ${file} has no per-group statistics; fit them with finorm fit --group-by ${o.groupBy.join(',')}`);
  }
  if (o.groupBy.join('\n') !== params.groupBy.join('\n')) {
    throw new UsageError(`--group-by ${o.groupBy.join(',')} differs from ${file}, which was fitted per ${params.groupBy.join(',')}`);
  }
  return params.groupBy;
}

/** Fit (pass 1, plus a pass for winsorizing bounds), then transform (pass 2). */
async function runTwoPass(sources: Source[], o: BatchOptions): Promise<BatchOutcome> {
  // stdin cannot be read twice: pass 1 copies it to a spool that later passes read.
  const spool = sources.some((s) => s.path === undefined) ? await StdinSpool.create() : undefined;
  try {
    const passes = o.winsorize !== undefined ? 3 : 2;
    progress.expectPasses(passes);
    progress.startPhase(`pass 1/${passes}`);
    const fitting = await FeatureInput.open(sources, o, undefined, spool?.tap);
    const keys = o.groupBy ? GroupKeys.resolve(o.groupBy, fitting.table.columns) : undefined;
    let moments: ColumnMoments;
    let groups: Map<string, GroupFit> | undefined;
    let sketches: QuantileSketch[] | undefined;
    if (keys) ({ all: moments, groups } = await fitGroups(fitting, keys, o.threads));
    else if (o.winsorize !== undefined) ({ moments, sketches } = await fitWithSketches(fitting));
    else moments = await fitAll(fitting, { threads: o.threads });
    await spool?.finish();
    const { names } = fitting.selection;
    if (fitting.rowsKept > 0) requirePresentValues(names, moments);

    const reopen = (): Promise<FeatureInput> => {
      const again = sources.map((s): Source => (s.path === undefined ? { path: spool?.path, name: STDIN_NAME } : s));
      return FeatureInput.open(again, { ...o, columns: undefined, exclude: undefined }, { names, file: 'the first pass' });
    };
    let bounds: FittedBounds | undefined;
    if (sketches && o.winsorize !== undefined && fitting.rowsKept > 0) {
      // The statistics of the winsorized values need one more pass.
      bounds = winsorizingBounds(names, sketches, o.winsorize);
      progress.startPhase(`pass 2/${passes}`);
      const clampedInput = await reopen();
      clampedInput.expectRows(fitting.rowsRead);
      moments = await fitClamped(clampedInput, bounds);
    }

    const settings = { epsilon: o.epsilon, ddof: o.ddof, generator: generatorName(packageVersion()) };
    const saved =
      o.saveParams === undefined
        ? undefined
        : formatParams(
            paramsFromMoments(names, moments, settings, undefined, {
              bounds,
              groups: keys && groups ? { groupBy: keys.names, groups } : undefined,
            }),
          );
    const global = scalingOf(moments, o, bounds);
    progress.startPhase(`pass ${passes}/${passes}`);
    const input = await reopen();
    input.expectRows(fitting.rowsRead);
    let outcome: BatchOutcome;
    if (keys && groups) {
      const scalings = new Map([...groups].map(([key, g]) => [key, scalingOf(g.moments, o)]));
      outcome = await transformEach(input, o, o.epsilon, { keys, scalings, fallback: global });
      outcome.groups = groupFacts(keys, [...groups].map(([key, g]) => [key, g.rows]));
    } else {
      outcome = await transformEach(input, o, o.epsilon, global);
    }
    if (saved !== undefined && o.saveParams !== undefined) {
      await writeFileAtomic(o.saveParams, saved).catch(async (error: unknown) => {
        await outcome.writer.abort();
        throw error;
      });
    }
    return { ...outcome, rowsSkipped: fitting.rowsSkipped, skipped: skippedRows(fitting.badRows) };
  } finally {
    await spool?.remove();
  }
}

/** The transform's constants for fitted moments, with γ = 1 and β = 0. */
export function scalingOf(moments: ColumnMoments, o: { epsilon: number; ddof: 0 | 1 }, bounds?: FittedBounds): ColumnScaling {
  const width = moments.width;
  const indexes = Array.from({ length: width }, (_, j) => j);
  const means = indexes.map((j) => moments.meanParts(j));
  return columnScaling(
    means.map(([hi]) => hi),
    means.map(([, lo]) => lo),
    indexes.map((j) => moments.variance(j, o.ddof)),
    indexes.map(() => 1),
    indexes.map(() => 0),
    o.epsilon,
    bounds,
  );
}

/** Per-group scalings of a two-pass run: every group was seen by the first pass; `fallback` is never needed but by a changed input. */
interface GroupScalings {
  keys: GroupKeys;
  scalings: Map<string, ColumnScaling>;
  fallback: ColumnScaling;
}

/**
 * Streams `input` to the output, each row with the scaling `scalingFor` picks
 * for it, or with one scaling for every row or per group (which worker
 * threads can share).
 */
async function transformEach(
  input: FeatureInput,
  o: BatchOptions,
  epsilon: number,
  scalingFor: ColumnScaling | GroupScalings | ((block: RowBlock, row: number, values: Float64Array) => ColumnScaling),
): Promise<BatchOutcome> {
  const width = input.selection.names.length;
  const writer = await openTableWriter(input, o, o.header);
  if (typeof scalingFor !== 'function') {
    const clip = o.clip ?? Infinity;
    const keys = 'keys' in scalingFor ? scalingFor.keys : undefined;
    const spec: RowTransformSpec =
      'keys' in scalingFor
        ? { kind: 'batch-groups', groupColumns: scalingFor.keys.indexes, scalings: scalingFor.scalings, fallback: scalingFor.fallback, clip }
        : { kind: 'batch', scaling: scalingFor, clip };
    const transform = buildRowTransform(spec, width);
    const apply = (values: Float64Array, rows: number, out: Float64Array, block: RowBlock): number =>
      transform.apply(values, rows, out, keys && ((r) => keys.keyOf(block.records[r])));
    const result = await transformAll(input, writer, apply, summaryWanted(o), { spec, transform, threads: o.threads });
    return { input, ...result, clipping: transform.clipping, epsilon, writer };
  }
  const clipping = clippingOf(o.clip, width);
  const result = await transformAll(input, writer, (values, rows, out, block) => {
    let firstOverflow = -1;
    for (let r = 0; r < rows; r++) {
      const overflow = batchNormalizeRow(values, r * width, width, scalingFor(block, r, values), out, clipping);
      if (firstOverflow < 0) firstOverflow = overflow;
    }
    return firstOverflow;
  }, summaryWanted(o));
  return { input, ...result, clipping, epsilon, writer };
}

async function fitWithSketches(input: FeatureInput): Promise<{ moments: ColumnMoments; sketches: QuantileSketch[] }> {
  const width = input.selection.names.length;
  const sketches = Array.from({ length: width }, () => new QuantileSketch());
  const visit = (values: Float64Array, rows: number): void => {
    for (let r = 0, base = 0; r < rows; r++, base += width) {
      for (let j = 0; j < width; j++) sketches[j].add(values[base + j]);
    }
  };
  const moments = await fitAll(input, { visit });
  return { moments, sketches };
}

/** The p and 1 − p quantiles of each column (DDSketch: within RELATIVE_ACCURACY of a true quantile value). */
function winsorizingBounds(names: readonly string[], sketches: QuantileSketch[], p: number): FittedBounds {
  const lower = sketches.map((s) => s.quantile(p));
  const upper = sketches.map((s) => s.quantile(1 - p));
  const lost = names.find((_, j) => Number.isNaN(lower[j]) || Number.isNaN(upper[j]));
  if (lost !== undefined) {
    throw new DataError(
      `--winsorize: the values of column ${JSON.stringify(lost)} span too many orders of magnitude for quantiles within ${RELATIVE_ACCURACY * 100}%`,
    );
  }
  return { p, lower, upper };
}

/** The moments of the values clamped to the winsorizing bounds. */
function fitClamped(input: FeatureInput, bounds: FittedBounds): Promise<ColumnMoments> {
  const width = input.selection.names.length;
  const visit = (values: Float64Array, rows: number): void => {
    for (let i = 0; i < rows * width; i++) {
      const j = i % width;
      if (values[i] < bounds.lower[j]) values[i] = bounds.lower[j];
      else if (values[i] > bounds.upper[j]) values[i] = bounds.upper[j];
    }
  };
  return fitAll(input, { visit });
}
