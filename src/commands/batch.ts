// finorm batch: batch normalization, each column with its own mean and
// variance, fitted over all rows (two passes) or taken from a parameter file
// (one pass).

import { z } from 'zod';
import { batchNormalizeRows, type ColumnScaling, columnScaling } from '../core/batch.js';
import { ExitCode } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { StdinSpool } from '../io/spool.js';
import { type Source, STDIN_NAME } from '../io/sources.js';
import { columnOptions, epsilonOption, inputOptions, outputOptions, reportOptions, schemaOf } from '../options.js';
import { paramsFromMoments, requirePresentValues, scalingFromParams } from '../params/fitted.js';
import { formatParams, readParamsSource } from '../params/params-file.js';
import { FeatureInput, openTableWriter, prepareFiles } from '../pipeline.js';
import { deliverSummary } from '../report/report.js';
import { columnSummaries, skippedRows } from '../report/summary.js';
import { packageVersion } from '../version.js';
import { type CommandSpec, parseOptions } from './command.js';
import { ddofOption, fitAll, generatorName, refuseTogether, transformAll } from './shared.js';

const options = {
  ...inputOptions,
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
  ...outputOptions,
  ...reportOptions,
} as const;

const Options = schemaOf(options);

export const batchCommand: CommandSpec = {
  name: 'batch',
  summary: 'normalize each column with its mean and variance (batch normalization, z-score)',
  description:
    'For each feature column j: mean_j and var_j over all rows\' present values, then ' +
    'y = γ_j·(x − mean_j)/√(var_j + ε) + β_j. Without --params it reads the input twice ' +
    '(fit, then transform; stdin is spooled to a temporary file); with --params it applies ' +
    'saved statistics in one streaming pass, like a fitted StandardScaler or a BatchNorm layer in eval mode. ' +
    'A constant column gives β.',
  arguments: { name: '[file...]', description: 'input files (CSV, TSV, NDJSON, optionally .gz); none or - reads stdin' },
  options,
  examples: [
    { command: 'finorm batch fixtures/sp500-sample.csv', explanation: 'z-score every numeric column over the whole file' },
    {
      command: 'finorm batch --save-params scaler.json -o train-z.csv fixtures/sp500-sample.csv',
      explanation: 'fit and transform a training file, keeping the fitted statistics',
    },
    {
      command: 'finorm batch --params fixtures/params/sp500-fit.json fixtures/sp500-sample.csv',
      explanation: 'apply statistics fitted earlier (one pass, streams)',
    },
  ],
  async run(files, raw, given) {
    const o = parseOptions(Options, raw, options);
    refuseTogether(given, [
      ['params', 'saveParams', 'with --params nothing is fitted'],
      ['params', 'ddof', 'the variances in the parameter file already have their ddof'],
    ]);
    const sources = await prepareFiles(files, [
      { option: '--output', path: o.output },
      { option: '--stats', path: o.stats },
      { option: '--save-params', path: o.saveParams },
    ]);

    let input: FeatureInput;
    let scaling: ColumnScaling;
    let epsilon = o.epsilon;
    let rowsSkipped: number;
    let skipped;
    let saved: string | undefined;
    let spool: StdinSpool | undefined;
    try {
      if (o.params !== undefined) {
        const params = await readParamsSource(o.params);
        input = await FeatureInput.open(sources, o, { names: params.columns.map((c) => c.name), file: o.params });
        if (!given.has('epsilon') && params.epsilon !== undefined) epsilon = params.epsilon;
        scaling = scalingFromParams(params, input.selection.names, epsilon, o.params);
      } else {
        // Pass 1: fit (copying stdin to the spool if it is among the sources).
        if (sources.some((s) => s.path === undefined)) spool = await StdinSpool.create();
        const fitting = await FeatureInput.open(sources, o, undefined, spool?.tap);
        const moments = await fitAll(fitting);
        await spool?.finish();
        const { names } = fitting.selection;
        if (fitting.rowsKept > 0) requirePresentValues(names, moments);
        const fitted = paramsFromMoments(names, moments, {
          epsilon,
          ddof: o.ddof,
          generator: generatorName(packageVersion()),
        });
        if (o.saveParams !== undefined) saved = formatParams(fitted);
        scaling = columnScaling(
          names.map((_, j) => moments.meanHi[j]),
          names.map((_, j) => moments.meanLo[j]),
          names.map((_, j) => moments.variance(j, o.ddof)),
          names.map(() => 1),
          names.map(() => 0),
          epsilon,
        );
        // Pass 2: transform, reading stdin back from the spool. The features
        // are fixed by pass 1; bad rows were already counted there.
        const again = sources.map((s): Source => (s.path === undefined ? { path: spool?.path, name: STDIN_NAME } : s));
        input = await FeatureInput.open(again, { ...o, columns: undefined, exclude: undefined }, { names, file: 'the first pass' });
        rowsSkipped = fitting.rowsSkipped;
        skipped = skippedRows(fitting.badRows);
        input.expectRows(fitting.rowsRead);
      }
      const writer = await openTableWriter(input, o, o.header);
      const width = input.selection.names.length;
      const result = await transformAll(input, writer, (values, rows, out) =>
        batchNormalizeRows(values, rows, width, scaling, out),
      );
      if (saved !== undefined && o.saveParams !== undefined) await writeFileAtomic(o.saveParams, saved);
      rowsSkipped ??= input.rowsSkipped;
      skipped ??= skippedRows(input.badRows);
      await deliverSummary(
        {
          command: 'batch',
          rowsRead: input.rowsRead,
          rowsWritten: result.rowsWritten,
          rowsSkipped,
          skipped,
          epsilon,
          columns: columnSummaries(input.selection.names, result.inputMoments, result.outputMoments),
        },
        o,
      );
      return rowsSkipped > 0 && o.failOnSkip ? ExitCode.skippedRows : ExitCode.ok;
    } finally {
      await spool?.remove();
    }
  },
};
