// finorm batch: batch normalization, each column with its own mean and
// variance: fitted over all rows (two passes), taken from a parameter file
// (one pass), per group (--group-by), or causally as the rows go by
// (--window, --expanding; see batch-causal.ts).

import { z } from 'zod';
import { type ColumnScaling, type GroupScalings, GroupScalingsBuilder, inverseScaling, scalingOfMoments } from '../core/batch.js';
import type { WideNumber } from '../core/wide.js';
import type { ColumnMoments } from '../core/moments.js';
import { type QuantileSketch, RELATIVE_ACCURACY } from '../core/quantiles.js';
import { DataError, ExitCode, UsageError } from '../errors.js';
import { GroupKeys, GroupTable, KeyIndex, groupFacts } from '../groups.js';
import { type OutputSink, openOutput } from '../io/output.js';
import { Spool } from '../io/spool.js';
import { TIME_COLUMN_NAMES } from '../pipeline/time-order.js';
import { resolveColumns } from '../selection.js';
import { type Source, UnchangedFiles, readableTwice } from '../io/sources.js';
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
import {
  type FittedBounds,
  type FittedParams,
  FileGroups,
  paramsFromMoments,
  requirePresentValues,
  scalingFromParams,
} from '../params/fitted.js';
import { type ParamsHeader, paramsLayoutOf, readParams, writeParams } from '../params/params-file.js';
import { Input } from '../pipeline/input.js';
import type { TransformSpec } from '../pipeline/job.js';
import { type TransformOutcome, commitLast, gatherStatistics, outputLayoutOf, transformRows } from '../pipeline/passes.js';
import type { Execution } from '../pipeline/run.js';
import { progress } from '../report/progress.js';
import { deliverSummary, summaryWanted } from '../report/report.js';
import { type RunSummary, badRowFacts, inputFacts, columnSummaries, withEpsilonLarge } from '../report/summary.js';
import { packageVersion } from '../version.js';
import { type CommandSpec, parseOptions } from './command.js';
import {
  clipOption,
  ddofOption,
  executionOf,
  generatorName,
  groupByOption,
  prepareFiles,
  withClipped,
} from './shared.js';

const CAUSAL = 'a causal normalization fits as it goes';

const options = {
  ...inputOptions,
  ...threadsOption,
  ...columnOptions,
  epsilon: { ...epsilonOption.epsilon, description: "ε added to the variance inside the square root (with --params: the file's, unless given)" },
  ...ddofOption,
  params: {
    flags: '--params <file>',
    description: 'apply the fitted statistics (and γ, β) of this parameter file, in one pass (- reads stdin)',
    group: 'Normalization',
    complete: 'file',
    schema: z.string().optional(),
    conflicts: {
      saveParams: 'with --params nothing is fitted',
      ddof: 'the variances in the parameter file already have their ddof',
      winsorize: 'the bounds come from the parameter file',
      sorted: '--params streams in one pass already',
    },
  },
  saveParams: {
    flags: '--save-params <file>',
    description: 'also write the fitted statistics to this parameter file',
    group: 'Normalization',
    complete: 'file',
    schema: z.string().optional(),
  },
  inverse: {
    flags: '--inverse',
    description: 'with --params: map normalized values back to the input\'s units, x = (y − β)/γ·√(var + ε) + mean',
    group: 'Normalization',
    schema: z.boolean().optional().transform(Boolean),
    conflicts: { clip: 'clipped values cannot be mapped back' },
    needs: { anyOf: ['params'], why: 'the statistics to map back with (fit them with finorm fit, or --save-params)' },
  },
  ...groupByOption,
  sorted: {
    flags: '--sorted',
    description: 'with --group-by: the rows of each group are together; stream in one pass, holding one group at a time',
    group: 'Normalization',
    schema: z.boolean().optional().transform(Boolean),
    needs: { anyOf: ['groupBy'], why: 'it says the input is sorted by the groups' },
  },
  unseen: {
    flags: '--unseen <policy>',
    description: 'with --params fitted per group: a group the file lacks is an `error`, or uses the file\'s `global` statistics',
    group: 'Normalization',
    default: 'error',
    choices: ['error', 'global'],
    schema: z.enum(['error', 'global']),
    needs: { anyOf: ['params'], why: 'it says what to do with a group the parameter file lacks' },
  },
  window: {
    flags: '-w, --window <rows>',
    description: 'causal: each value with the mean and variance of the N most recent rows of its group, itself included',
    group: 'Normalization',
    complete: 'none',
    schema: integerOption('--window', 1, 100_000_000).optional(),
    conflicts: {
      expanding: 'choose one',
      params: CAUSAL,
      saveParams: CAUSAL,
      sorted: 'causal normalization streams in one pass already',
    },
  },
  expanding: {
    flags: '--expanding',
    description: 'causal: each value with the mean and variance of all rows of its group so far',
    group: 'Normalization',
    schema: z.boolean().optional().transform(Boolean),
    conflicts: { params: CAUSAL, saveParams: CAUSAL, sorted: 'causal normalization streams in one pass already' },
  },
  minPeriods: {
    flags: '--min-periods <rows>',
    description: 'with --window/--expanding: missing output until a column has this many values (default: N, or 2 for --expanding)',
    group: 'Normalization',
    complete: 'none',
    schema: integerOption('--min-periods', 1, 100_000_000).optional(),
    needs: { anyOf: ['window', 'expanding'] },
  },
  orderBy: {
    flags: '--order-by <column>',
    description: 'with --window/--expanding: the time column, whose values must not go backwards within a group (default: a column named date, time, timestamp or datetime; `none`: trust the input order)',
    group: 'Normalization',
    complete: 'columns',
    schema: z.string().min(1).optional(),
    needs: { anyOf: ['window', 'expanding'] },
  },
  excludeCurrent: {
    flags: '--exclude-current',
    description: 'with --window/--expanding: statistics of the rows strictly before the current one',
    group: 'Normalization',
    schema: z.boolean().optional().transform(Boolean),
    needs: { anyOf: ['window', 'expanding'] },
  },
  ...clipOption,
  winsorize: {
    flags: '--winsorize <p>',
    description: 'clamp raw values to the p and 1−p quantiles of the fit before normalizing (quantiles within 0.1%)',
    group: 'Normalization',
    complete: 'none',
    schema: decimalOption('--winsorize', { minExclusive: 0, max: 0.5 }).optional(),
    conflicts: { groupBy: 'winsorizing bounds are fitted over the whole input', window: CAUSAL, expanding: CAUSAL },
  },
  ...outputOptions,
  ...reportOptions,
} as const;

const Options = schemaOf(options);
export type BatchOptions = z.infer<typeof Options>;

/** What a way of running batch hands back for the summary. */
interface BatchOutcome {
  input: Input;
  transformed: TransformOutcome;
  epsilon: number;
  /** The first of several passes: it counted the bad rows and values, and chose the features (knowing what it left out). */
  firstPass?: Input;
  groups?: RunSummary['groups'];
  /** The passes before the transforming one. */
  earlierPasses: Execution[];
  /** Causal: the column whose time order was checked. */
  orderChecked?: string;
  /** Grouped: each group's variances, per column (for the ε warning). */
  groupVariances?: Iterable<ArrayLike<number>>;
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
    { command: "printf 'ticker,px,pe\\nAAA,10,12\\nBBB,20,30\\nCCC,60,18\\n' | finorm batch", explanation: 'z-score every numeric column over all rows' },
    {
      command: "printf 'day,ticker,ret\\n1,AAA,0.012\\n1,BBB,-0.004\\n2,AAA,0.003\\n2,BBB,0.009\\n' | finorm batch -g day -c ret",
      explanation: "cross-sectional: each day's returns against that day's",
    },
    {
      command: "printf 'px\\n10\\n20\\n60\\n' | finorm fit -o fit.json && printf 'px\\n15\\n90\\n' | finorm batch --params fit.json",
      explanation: 'fit once, apply the fit to new rows later (one pass, streams)',
    },
    {
      command: "(echo date,px; printf '2024-01-0%s,%s\\n' 1 10 2 11 3 13 4 12 5 15) | finorm batch -w 3 --exclude-current",
      explanation: 'each price against the 3 days before it (no look-ahead)',
    },
  ],
  async run(files, raw, given) {
    const o = parseOptions(Options, raw, options, given);
    const sources = await prepareFiles(files, [
      { option: '--output', path: o.output },
      { option: '--stats', path: o.stats },
      { option: '--save-params', path: o.saveParams },
    ], [{ option: '--params', path: o.params }]);
    let outcome: BatchOutcome;
    if (o.window !== undefined || o.expanding) outcome = await runCausal(sources, o);
    else if (o.sorted) outcome = await runSortedGroups(sources, o);
    else if (o.params !== undefined) outcome = await runWithParams(sources, o, given);
    else outcome = await runTwoPass(sources, o);

    const { input, transformed } = outcome;
    const { badRows, selection } = outcome.firstPass ?? input;
    const summary: RunSummary = {
      command: 'batch',
      rowsRead: input.rowsRead,
      rowsWritten: transformed.rowsWritten,
      ...badRowFacts(badRows),
      ...inputFacts({ selection, sniffed: input.sniffed }),
      epsilon: outcome.epsilon,
      columns: withEpsilonLarge(
        withClipped(columnSummaries(input.selection.names, transformed.inputMoments, transformed.outputMoments), o.clip, transformed.clipped),
        outcome.epsilon,
        outcome.groupVariances,
      ),
      ...(outcome.groupVariances !== undefined ? { epsilonCheckedPerGroup: true } : {}),
      ...(outcome.groups ? { groups: outcome.groups } : {}),
      ...(outcome.orderChecked !== undefined ? { orderChecked: outcome.orderChecked } : {}),
      execution: executionOf(...outcome.earlierPasses, transformed.execution),
    };
    await commitLast(transformed.output, () => deliverSummary(summary, o));
    return badRows.any && o.failOnSkip ? ExitCode.skippedRows : ExitCode.ok;
  },
};

/** Causal: each row with its group's statistics up to it (--window, --expanding). One pass, in order. */
async function runCausal(sources: Source[], o: BatchOptions): Promise<BatchOutcome> {
  const minPeriods = o.minPeriods ?? o.window ?? 2;
  if (o.window !== undefined && minPeriods > o.window) {
    throw new UsageError(`--min-periods ${minPeriods} can never be reached with --window ${o.window}`);
  }
  const input = await Input.open(sources, o);
  const keys = o.groupBy ? GroupKeys.resolve(o.groupBy, input.columns) : undefined;
  const orderBy = timeColumnOf(input.columns, o.orderBy);
  if (orderBy === undefined && o.orderBy === undefined && !o.quiet) {
    process.stderr.write(
      `finorm: warning: no --order-by and no column named ${TIME_COLUMN_NAMES.join(', ')}: the input order is trusted to be time order\n`,
    );
  }
  const spec: TransformSpec = {
    kind: 'causal',
    groups: keys,
    orderBy,
    window: o.window,
    minPeriods,
    excludeCurrent: o.excludeCurrent,
    epsilon: o.epsilon,
    ddof: o.ddof,
    clip: o.clip ?? Infinity,
  };
  const transformed = await transformRows(input, spec, o, summaryWanted(o));
  const outcome: BatchOutcome = { input, transformed, epsilon: o.epsilon, earlierPasses: [] };
  if (orderBy !== undefined) outcome.orderChecked = orderBy.name;
  if (keys) outcome.groups = groupFacts(keys, transformed.knownGroups?.entries(transformed.groups) ?? transformed.groups.entries());
  return outcome;
}

/** The column --order-by names, or else the first named like a time (date, time, …), or none. */
function timeColumnOf(columns: string[], orderBy: string | undefined): { index: number; name: string } | undefined {
  if (orderBy === 'none' && !columns.includes('none')) return undefined;
  if (orderBy !== undefined) {
    const [index] = resolveColumns([orderBy], columns, '--order-by');
    return { index, name: columns[index] };
  }
  const index = columns.findIndex((name) => TIME_COLUMN_NAMES.includes(name.toLowerCase()));
  return index < 0 ? undefined : { index, name: columns[index] };
}

/**
 * --sorted: the rows of each group are together, so one pass suffices: each
 * group is held until the next starts, then fitted and written. Memory grows
 * with the largest group, not with the input.
 */
async function runSortedGroups(sources: Source[], o: BatchOptions): Promise<BatchOutcome> {
  const input = await Input.open(sources, o);
  const keys = GroupKeys.resolve(o.groupBy ?? [], input.columns);
  const spec: TransformSpec = { kind: 'sorted', groups: keys, epsilon: o.epsilon, ddof: o.ddof, clip: o.clip ?? Infinity };
  const transformed = await transformRows(input, spec, o, summaryWanted(o));
  try {
    if (o.saveParams !== undefined) {
      const all = transformed.inputMoments;
      const settings = { epsilon: o.epsilon, ddof: o.ddof, generator: generatorName(packageVersion()) };
      await saveParams(o.saveParams, paramsFromMoments(input.selection.names, all, settings, undefined, { groups: { groupBy: keys.names, groups: transformed.groups } }));
    }
  } catch (error) {
    await transformed.output.abort();
    throw error;
  }
  const groups = groupFacts(keys, transformed.knownGroups?.entries(transformed.groups) ?? transformed.groups.entries());
  const groupVariances = variancesOf(transformed.groups, o.ddof);
  return { input, transformed, epsilon: o.epsilon, earlierPasses: [], groupVariances, ...(groups ? { groups } : {}) };
}

/** Each group's variance of each column (0 where it has no spread or no value): computed once, packed, read per group. */
function variancesOf(groups: GroupTable, ddof: 0 | 1): Iterable<Float64Array> {
  const { width } = groups;
  const variances = new Float64Array(groups.size * width);
  for (let g = 0; g < groups.size; g++) {
    const moments = groups.segmentOf(g);
    for (let j = 0; j < width; j++) {
      const c = groups.firstColumnOf(g) + j;
      variances[g * width + j] = moments.count[c] > ddof ? moments.variance(c, ddof) : 0;
    }
  }
  return packedRows(variances, width);
}

/** The rows of a row-major `? × width` array, as views, as often as they are iterated. */
function packedRows(values: Float64Array, width: number): Iterable<Float64Array> {
  return {
    *[Symbol.iterator]() {
      for (let at = 0; at < values.length; at += width) yield values.subarray(at, at + width);
    },
  };
}

/** One pass with the statistics of a parameter file (per group if it has groups). */
async function runWithParams(sources: Source[], o: BatchOptions, given: ReadonlySet<string>): Promise<BatchOutcome> {
  const file = o.params as string;
  // The groups (there may be millions) go into packed constants as they are read.
  const fileGroups = new FileGroups(file === '-' ? '<stdin>' : file);
  const { header: params } = await readParams(file, fileGroups.receive);
  const groupBy = groupColumnsOf(params, o, file);
  const input = await Input.open(sources, { ...o, groupBy }, { names: params.columns.map((c) => c.name), file });
  const { names } = input.selection;
  const epsilon = !given.has('epsilon') && params.epsilon !== undefined ? params.epsilon : o.epsilon;
  const forward = scalingFromParams(params, names, epsilon, file);
  if (o.inverse) {
    const flat = names.findIndex((_, j) => forward.gamma[j] === 0);
    if (flat >= 0) {
      throw new DataError(`--inverse: ${file} has γ = 0 for column ${JSON.stringify(names[flat])}: its normalized values are all β and cannot be mapped back`);
    }
  }
  const direction = o.inverse ? inverseScaling : (s: ColumnScaling): ColumnScaling => s;
  const global = direction(forward);
  const clip = o.clip ?? Infinity;
  if (groupBy === undefined) {
    const transformed = await transformRows(input, { kind: 'batch', scaling: global, clip }, o, summaryWanted(o));
    return { input, transformed, epsilon, earlierPasses: [] };
  }
  const keys = GroupKeys.resolve(groupBy, input.columns);
  const scalings = fileGroups.finish(names, epsilon, forward, o.unseen === 'global' ? forward : undefined, o.inverse);
  const spec: TransformSpec = { kind: 'batch-groups', groups: keys, index: fileGroups.index.shared, scalings, fallback: o.unseen === 'global' ? global : undefined, paramsFile: file, clip };
  const transformed = await transformRows(input, spec, o, summaryWanted(o));
  const groups = groupFacts(keys, transformed.knownGroups?.entries(transformed.groups) ?? transformed.groups.entries());
  // The file's variances (with --inverse the input is normalized: no warning).
  const groupVariances = o.inverse ? undefined : fileGroups.variances();
  return { input, transformed, epsilon, earlierPasses: [], groupVariances, ...(groups ? { groups } : {}) };
}

/** The group-by columns of a run with --params: the file's, which --group-by (if given) must repeat. */
function groupColumnsOf(params: ParamsHeader, o: BatchOptions, file: string): string[] | undefined {
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
  // stdin, a FIFO or <(producer) cannot be read twice: pass 1 copies each to a spool that later passes read.
  const unchanged = await UnchangedFiles.record(sources);
  const spools = new Map<Source, Spool>();
  let saved: OutputSink | undefined;
  try {
    for (const source of sources) if (!(await readableTwice(source))) spools.set(source, await Spool.create(source.name));
    const passes = o.winsorize !== undefined ? 3 : 2;
    progress.expectPasses(passes);
    progress.startPhase(`pass 1/${passes}`);
    const fitting = await Input.open(sources, o, undefined, new Map([...spools].map(([source, spool]) => [source, spool.tap])));
    outputLayoutOf(fitting, o); // a bad --suffix, --select or --strings fails before the first pass
    const keys = o.groupBy ? GroupKeys.resolve(o.groupBy, fitting.columns) : undefined;
    // Only what later steps need is kept of the fit: a million groups' table is let go before the last pass.
    let { moments, groups: fittedGroups, sketches, execution } = await gatherStatistics(fitting, { threads: o.threads, sketches: o.winsorize !== undefined, ...(keys ? { groups: keys } : {}) });
    const earlierPasses = [execution];
    for (const spool of spools.values()) await spool.finish();
    const { names } = fitting.selection;
    if (fitting.rowsKept > 0) requirePresentValues(names, moments);

    const reopen = async (): Promise<Input> => {
      await unchanged.check();
      const again = sources.map((s): Source => ({ path: spools.get(s)?.path ?? s.path, name: s.name }));
      return Input.open(again, { ...o, columns: undefined, exclude: undefined }, { names, file: 'the first pass' });
    };
    let bounds: FittedBounds | undefined;
    if (o.winsorize !== undefined && fitting.rowsKept > 0) {
      // The statistics of the winsorized values need one more pass.
      bounds = winsorizingBounds(names, sketches, o.winsorize);
      progress.startPhase(`pass 2/${passes}`);
      const clampedInput = await reopen();
      clampedInput.expectRows(fitting.rowsRead);
      const clamped = await gatherStatistics(clampedInput, { threads: o.threads, clamp: { lower: Float64Array.from(bounds.lower), upper: Float64Array.from(bounds.upper) } });
      moments = clamped.moments;
      earlierPasses.push(clamped.execution);
    }

    const settings = { epsilon: o.epsilon, ddof: o.ddof, generator: generatorName(packageVersion()) };
    const global = scalingOfMoments(moments, o.epsilon, o.ddof, bounds);
    // --save-params is written now, from the fit, and committed after the last pass (or discarded).
    if (o.saveParams !== undefined) {
      saved = await openOutput(o.saveParams);
      const fitted = paramsFromMoments(names, moments, settings, undefined, { bounds, groups: keys ? { groupBy: keys.names, groups: fittedGroups } : undefined });
      await writeParams(saved, fitted.header, fitted.groups, paramsLayoutOf(o.saveParams));
    }
    const clip = o.clip ?? Infinity;
    let spec: TransformSpec = { kind: 'batch', scaling: global, clip };
    let groupVariances: Iterable<Float64Array> | undefined;
    if (keys) {
      const { index, scalings, variances } = groupScalingsOf(fittedGroups, o.epsilon, o.ddof, global);
      spec = { kind: 'batch-groups', groups: keys, index: index.shared, scalings, fallback: global, paramsFile: 'the first pass', clip };
      groupVariances = variances;
    }
    fittedGroups = new GroupTable(0, false);
    progress.startPhase(`pass ${passes}/${passes}`);
    const input = await reopen();
    input.expectRows(fitting.rowsRead);
    const transformed = await transformRows(input, spec, o, summaryWanted(o));
    // A file cut or rewritten during the last pass: its output must not be committed.
    await unchanged.check().catch(async (error: unknown) => {
      await transformed.output.abort();
      throw error;
    });
    if (saved !== undefined) {
      await saved.commit().catch(async (error: unknown) => {
        await transformed.output.abort();
        throw error;
      });
      saved = undefined;
    }
    const outcome: BatchOutcome = {
      input,
      transformed,
      epsilon: o.epsilon,
      firstPass: fitting,
      earlierPasses,
    };
    if (keys) {
      // The rows of each group, as the last pass counted them (the same rows as the fit's).
      const facts = groupFacts(keys, transformed.knownGroups?.entries(transformed.groups) ?? transformed.groups.entries());
      if (facts) outcome.groups = facts;
      outcome.groupVariances = groupVariances;
    }
    return outcome;
  } catch (error) {
    await saved?.abort();
    // A pass that failed on a file being changed under it (a record cut short): the change is the news.
    await unchanged.check();
    throw error;
  } finally {
    for (const spool of spools.values()) await spool.remove();
  }
}

/** The fitted groups' transform constants, packed, and their keys' index (both shared with the threads); the table is let go as they are made. */
function groupScalingsOf(groups: GroupTable, epsilon: number, ddof: 0 | 1, global: ColumnScaling): { index: KeyIndex; scalings: GroupScalings; variances: Iterable<Float64Array> } {
  const { width } = groups;
  const index = KeyIndex.create(groups.size);
  const builder = new GroupScalingsBuilder(width);
  const mean = new Float64Array(width);
  const meanLo = new Float64Array(width);
  const variance: (number | WideNumber)[] = new Array<number>(width).fill(NaN);
  for (let g = 0; g < groups.size; g++) {
    index.add(groups.keyAt(g));
    const moments = groups.segmentOf(g);
    for (let j = 0; j < width; j++) {
      const c = groups.firstColumnOf(g) + j;
      [mean[j], meanLo[j]] = moments.meanParts(c);
      variance[j] = moments.varianceWide(c, ddof) ?? NaN;
    }
    builder.add(mean, meanLo, variance);
    groups.release(g);
  }
  return { index, scalings: builder.finish(epsilon, global, undefined, false), variances: builder.variances() };
}

/** --save-params: the fit written to its file (atomically), group by group. */
async function saveParams(path: string, fitted: FittedParams): Promise<void> {
  const sink = await openOutput(path);
  try {
    await writeParams(sink, fitted.header, fitted.groups, paramsLayoutOf(path));
    await sink.commit();
  } catch (error) {
    await sink.abort();
    throw error;
  }
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
