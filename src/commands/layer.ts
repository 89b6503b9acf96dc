// finorm layer: layer normalization, each row over its own feature values.

import { ExitCode } from '../errors.js';
import { columnOptions, epsilonOption, inputOptions, outputOptions, reportOptions, schemaOf, inputFilesArgument, threadsOption } from '../options.js';
import { readParams } from '../params/params-file.js';
import { Input } from '../pipeline/input.js';
import { commitLast, transformRows } from '../pipeline/passes.js';
import { deliverSummary, summaryWanted } from '../report/report.js';
import { columnSummaries, rowFacts, badRowFacts, inputFacts } from '../report/summary.js';
import { z } from 'zod';
import { type CommandSpec, parseOptions } from './command.js';
import { clipOption, executionOf, prepareFiles, withClipped } from './shared.js';

const options = {
  ...inputOptions,
  ...threadsOption,
  ...columnOptions,
  epsilon: { ...epsilonOption.epsilon, description: "ε added to the variance inside the square root (with --params: the file's, unless given)" },
  params: {
    flags: '--params <file>',
    description: 'γ and β per feature column from a parameter file (default: γ = 1, β = 0)',
    group: 'Normalization',
    complete: 'file',
    schema: z.string().optional(),
  },
  ...clipOption,
  ...outputOptions,
  ...reportOptions,
} as const;

const Options = schemaOf(options);

export const layerCommand: CommandSpec = {
  name: 'layer',
  summary: 'normalize each row across its feature columns (layer normalization)',
  description:
    'For each row: μ and σ² (population variance) over the row\'s present feature values, then ' +
    'y = γ·(a − μ)/√(σ² + ε) + β. Rows are independent, so it streams in one pass. ' +
    'Missing values stay missing and are left out of μ and σ²; a row whose values are all equal gives β.',
  arguments: inputFilesArgument,
  options,
  examples: [
    {
      command: "printf 'date,ticker,mom_1m,mom_12m,value\\n2024-01-31,AAPL,0.5,10,-2\\n' | finorm layer",
      explanation: 'the three features of the row against each other (date and ticker pass through)',
    },
    {
      command: "printf 'ticker,low,price,high\\nAAA,12,15,20\\nBBB,90,118,120\\n' | finorm layer",
      explanation: 'each price against its own 52-week low and high (the columns of a row must be comparable)',
    },
    {
      command: "printf 'a,b,c\\n1,2,3\\n4,4,4\\n' | finorm layer -e 0 -o out.csv",
      explanation: 'with ε = 0, into out.csv (written atomically); a row of equal values gives β, here 0',
    },
  ],
  async run(files, raw, given) {
    const o = parseOptions(Options, raw, options, given);
    const sources = await prepareFiles(files, [
      { option: '--output', path: o.output },
      { option: '--stats', path: o.stats },
    ], [{ option: '--params', path: o.params }]);
    // γ, β and ε only: groups are read (and checked) without being held.
    const params = o.params !== undefined ? (await readParams(o.params)).header : undefined;
    const input = await Input.open(sources, o, params ? { names: params.columns.map((c) => c.name), file: o.params as string } : undefined);
    const { names } = input.selection;
    const byName = new Map(params?.columns.map((c) => [c.name, c]));
    const gamma = Float64Array.from(names, (name) => byName.get(name)?.gamma ?? 1);
    const beta = Float64Array.from(names, (name) => byName.get(name)?.beta ?? 0);
    const epsilon = given.has('epsilon') ? o.epsilon : (params?.epsilon ?? o.epsilon);
    const outcome = await transformRows(input, { kind: 'layer', gamma, beta, epsilon, clip: o.clip ?? Infinity }, o, summaryWanted(o));
    const summary = {
      command: 'layer',
      rowsRead: input.rowsRead,
      rowsWritten: outcome.rowsWritten,
      ...badRowFacts(input.badRows),
      ...inputFacts(input),
      epsilon,
      columns: withClipped(columnSummaries(names, outcome.inputMoments, outcome.outputMoments), o.clip, outcome.clipped),
      rows: rowFacts(outcome.rowStats, names, outcome.rowsWritten),
      execution: executionOf(outcome.execution),
    };
    await commitLast(outcome.output, () => deliverSummary(summary, o));
    return input.badRows.any && o.failOnSkip ? ExitCode.skippedRows : ExitCode.ok;
  },
};
