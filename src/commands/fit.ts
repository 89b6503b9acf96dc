// finorm fit: the fitting pass of `batch` alone. Reads the input once and
// writes a parameter file with each feature column's statistics.

import { ExitCode } from '../errors.js';
import { GroupKeys, groupFacts } from '../groups.js';
import { openOutput } from '../io/output.js';
import { columnOptions, epsilonOption, inputOptions, outputOptions, reportOptions, schemaOf, inputFilesArgument, threadsOption } from '../options.js';
import { paramsFromMoments, requirePresentValues } from '../params/fitted.js';
import { paramsLayoutOf, writeParams } from '../params/params-file.js';
import { Input } from '../pipeline/input.js';
import { gatherStatistics } from '../pipeline/passes.js';
import { deliverSummary } from '../report/report.js';
import { columnSummaries, badRowFacts, inputFacts } from '../report/summary.js';
import { packageVersion } from '../version.js';
import { type CommandSpec, parseOptions } from './command.js';
import { ddofOption, executionOf, generatorName, groupByOption, partialOption, prepareFiles } from './shared.js';

const options = {
  ...inputOptions,
  ...threadsOption,
  ...columnOptions,
  ...epsilonOption,
  ...ddofOption,
  ...groupByOption,
  output: { ...outputOptions.output, description: 'write the parameter file here (atomically) instead of stdout' },
  ...partialOption,
  ...reportOptions,
} as const;

const Options = schemaOf(options);

export const fitCommand: CommandSpec = {
  name: 'fit',
  summary: 'fit per-column statistics and write them as a parameter file (one pass)',
  description:
    'Reads the input once and writes, for each feature column, count, mean, variance, M2, min and max ' +
    '(with ε, ddof, and γ = 1, β = 0) as a parameter file for `finorm batch --params`. ' +
    'Fits of disjoint shards combine exactly with `finorm merge`.',
  arguments: inputFilesArgument,
  options,
  examples: [
    { command: "printf 'px,pe\\n10,12\\n20,30\\n60,18\\n' | finorm fit", explanation: 'print the fitted statistics of every numeric column' },
    { command: "printf 'px,pe\\n10,12\\n20,30\\n60,18\\n' | finorm fit --ddof 1 -c px -o fit.json", explanation: 'fit one column with the sample variance, into fit.json' },
    {
      command: "printf 'sector,px\\nTech,10\\nTech,30\\nEnergy,5\\nEnergy,7\\n' | finorm fit -g sector",
      explanation: "each sector's statistics, for batch --params",
      },
      {
        command: "for k in 0 1 2; do (echo px; seq $k 3 30) | finorm fit -q --partial -c px -; done | finorm merge -",
        explanation: 'partial fits of three parts (blocks of GNU parallel, partitions), merged on stdin: the fit of them all, to the last bit',
    },
  ],
  async run(files, raw, given) {
    const o = parseOptions(Options, raw, options, given);
    const sources = await prepareFiles(files, [
      { option: '--output', path: o.output },
      { option: '--stats', path: o.stats },
    ]);
    const input = await Input.open(sources, o);
    const keys = o.groupBy ? GroupKeys.resolve(o.groupBy, input.columns) : undefined;
    const sink = await openOutput(o.output);
    try {
      const fit = await gatherStatistics(input, { threads: o.threads, ...(keys ? { groups: keys } : {}) });
      const { moments, groups } = fit;
      const { names } = input.selection;
      if (names.length === 0) throw input.noFeatures();
      // A part may lack a column's values (a sparse column, a block of early dates): count 0, for merge.
      if (!o.partial) requirePresentValues(names, moments);
      const params = paramsFromMoments(names, moments, {
        epsilon: o.epsilon,
        ddof: o.ddof,
        generator: generatorName(packageVersion()),
      }, undefined, { groups: keys ? { groupBy: keys.names, groups } : undefined, partial: o.partial });
      await writeParams(sink, params.header, params.groups, paramsLayoutOf(o.output));
      await deliverSummary(
        {
          command: 'fit',
          rowsRead: input.rowsRead,
          rowsWritten: 0,
          ...badRowFacts(input.badRows),
          ...inputFacts(input),
          epsilon: o.epsilon,
          columns: columnSummaries(names, moments),
          ...(keys ? { groups: groupFacts(keys, groups.entries()) } : {}),
          execution: executionOf(fit.execution),
        },
        o,
      );
      // Last, so that a failing --stats leaves the previous parameter file untouched.
      await sink.commit();
    } catch (error) {
      await sink.abort();
      throw error;
    }
    return input.badRows.any && o.failOnSkip ? ExitCode.skippedRows : ExitCode.ok;
  },
};
