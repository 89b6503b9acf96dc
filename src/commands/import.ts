// finorm import: another tool's fitted normalization as a finorm parameter
// file: a PyTorch BatchNorm1d or LayerNorm state dict (safetensors), or a
// scikit-learn StandardScaler's attributes (JSON).

import { promises as fs } from 'node:fs';
import { z } from 'zod';
import { DataError, ExitCode, UsageError, ioErrorFrom } from '../errors.js';
import { checkOutputTargets, openOutput } from '../io/output.js';
import { parsePythonJson } from '../io/python-json.js';
import { decodeSafetensors } from '../io/safetensors.js';
import { sourcesFrom } from '../io/sources.js';
import { type OptionSpec, decimalOption, listOption, outputOptions, schemaOf } from '../options.js';
import { PARAMS_FORMAT, type ParamsHeaderJson, writeParams } from '../params/params-file.js';
import { isScalerJson, paramsFromScaler } from '../params/sklearn.js';
import { TORCH_DEFAULT_EPSILON, paramsFromStateDict } from '../params/state-dict.js';
import { packageVersion } from '../version.js';
import { type CommandSpec, parseOptions } from './command.js';
import { generatorName } from './shared.js';

const options = {
  prefix: {
    flags: '--prefix <name>',
    description: 'the layer\'s name in a model\'s state dict (`norm` for norm.running_mean, …); needed when it holds several',
    group: 'Input',
    complete: 'none',
    schema: z.string().optional(),
  },
  columns: {
    flags: '-c, --columns <list>',
    description: 'the feature columns, in the order of the file\'s values; needed when the file does not name them (tensors, a scaler fitted on an array), checked against the names it has',
    group: 'Columns',
    repeatable: true,
    complete: 'none',
    schema: listOption,
  },
  epsilon: {
    flags: '-e, --epsilon <number>',
    description: 'ε of the PyTorch layer, which its state dict does not hold (default: from finorm\'s own files, else PyTorch\'s 1e-5)',
    group: 'Normalization',
    complete: 'none',
    schema: decimalOption('--epsilon', { min: 0 }).optional(),
  },
  output: { ...outputOptions.output, description: 'write the parameter file here (atomically) instead of stdout' },
} satisfies Record<string, OptionSpec>;

const Options = schemaOf(options);

export const importCommand: CommandSpec = {
  name: 'import',
  summary: 'turn a PyTorch BatchNorm1d/LayerNorm state dict or a scikit-learn StandardScaler into a parameter file',
  description:
    'Reads a safetensors file holding a torch.nn.BatchNorm1d state dict (running_mean, running_var, weight, bias) or a ' +
    'LayerNorm one (weight, bias), or a JSON of a fitted scikit-learn StandardScaler\'s attributes (mean_, var_, scale_, ' +
    'n_samples_seen_, feature_names_in_, with_mean, with_std), and writes the finorm parameter file that ' +
    '`batch --params` (or `layer --params`) applies. A StandardScaler has no ε: the file has ε = 0 and reproduces ' +
    'scaler.transform exactly, constant features included. Tensors have no column names: give them with --columns.',
  arguments: { name: '<file>', description: 'a .safetensors state dict or a StandardScaler\'s attributes as JSON (- reads stdin)' },
  options,
  examples: [
    {
      command:
        'printf \'{"mean_": [10, 2], "var_": [4, 9], "scale_": [2, 3], "n_samples_seen_": 50, "feature_names_in_": ["px", "pe"], "with_mean": true, "with_std": true}\' > scaler.json && finorm import scaler.json -o params.json',
      explanation: 'a StandardScaler fitted on a DataFrame (it names its columns), as a parameter file',
    },
    {
      command: "printf 'px,pe\\n10,12\\n20,30\\n60,18\\n' | finorm fit -o fit.json && finorm export fit.json -o bn.safetensors && finorm import bn.safetensors -c px,pe -o bn.json",
      explanation: 'a BatchNorm1d state dict, its features named in order (ε: the file\'s, else PyTorch\'s 1e-5)',
    },
    {
      command: "printf 'px,pe\\n10,12\\n20,30\\n60,18\\n' | finorm fit -o fit.json && finorm export fit.json -o bn.safetensors && finorm import bn.safetensors -c px,pe -e 0.001",
      explanation: 'the same for a BatchNorm1d(2, eps=1e-3), printed',
    },
  ],
  async run(args, raw, given) {
    const o = parseOptions(Options, raw, options, given);
    const file = Array.isArray(args) ? args[0] : (args as string);
    const name = file === '-' ? '<stdin>' : file;
    await checkOutputTargets([{ option: '--output', path: o.output }], sourcesFrom([file]));
    const bytes = await readAll(file);
    const generator = generatorName(packageVersion());

    let params: ParamsHeaderJson;
    const first = bytes.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
    if (first === 0x7b /* { */) {
      for (const key of ['epsilon', 'prefix'] as const) {
        if (given.has(key)) throw new UsageError(`${longFlagOf(key)} applies to PyTorch state dicts; ${name} is JSON`);
      }
      params = paramsFromJson(bytes, name, o.columns, generator);
    } else {
      const result = paramsFromStateDict(decodeSafetensors(bytes, name), name, { names: o.columns, epsilon: o.epsilon, prefix: o.prefix, generator });
      params = result.params;
      if (result.epsilonFrom === 'default') {
        process.stderr.write(
          `finorm: warning: ${name} does not hold ε: ${TORCH_DEFAULT_EPSILON}, PyTorch's default, is written; give the layer's own with -e (BatchNorm1d(H, eps=…))\n`,
        );
      }
    }
    const sink = await openOutput(o.output);
    try {
      await writeParams(sink, params, undefined, 'json');
      await sink.commit();
    } catch (error) {
      await sink.abort();
      throw error;
    }
    return ExitCode.ok;
  },
};

function paramsFromJson(bytes: Uint8Array, name: string, columns: string[] | undefined, generator: string): ParamsHeaderJson {
  let json: unknown;
  try {
    json = parsePythonJson(new TextDecoder().decode(bytes));
  } catch (error) {
    throw new DataError(`${name}: not JSON (${(error as Error).message.replace(/\s+/g, ' ')})`);
  }
  if ((json as { format?: unknown } | null)?.format === PARAMS_FORMAT) throw new DataError(`${name} is a finorm parameter file already: give it to batch --params as it is`);
  if (!isScalerJson(json)) {
    throw new DataError(`${name}: neither a safetensors file nor a StandardScaler's attributes (no mean_, var_, scale_ or n_samples_seen_); README: Into a model shows how to write them`);
  }
  return paramsFromScaler(json, name, columns, generator);
}

function longFlagOf(key: 'epsilon' | 'prefix'): string {
  return key === 'epsilon' ? '-e/--epsilon' : '--prefix';
}

async function readAll(file: string): Promise<Uint8Array> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
  try {
    return await fs.readFile(file);
  } catch (error) {
    throw ioErrorFrom(error, 'read', file);
  }
}
