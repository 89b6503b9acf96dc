// finorm export: a parameter file as the same normalization inside a model:
// an ONNX graph (batch or layer transform, clipping and winsorizing bounds
// included) or a PyTorch state dict (BatchNorm1d or LayerNorm) in safetensors.

import { basename, extname } from 'node:path';
import { z } from 'zod';
import { DataError, ExitCode, UsageError } from '../errors.js';
import { encodeOnnxModel } from '../io/onnx.js';
import { checkOutputTargets, openOutput } from '../io/output.js';
import { encodeSafetensors } from '../io/safetensors.js';
import { sourcesFrom } from '../io/sources.js';
import { type OptionSpec, decimalOption, listOption, outputOptions, schemaOf } from '../options.js';
import { type FoundGroups, paramsOfGroup, scalingFromParams } from '../params/fitted.js';
import { batchModel, layerModel } from '../params/onnx-model.js';
import { type GroupParams, type ParamsHeader, duplicateGroup, readParams } from '../params/params-file.js';
import { formatWideDecimal } from '../params/wide-decimal.js';
import { fitsDouble, wideToNumber } from '../core/wide.js';
import { TORCH_DEFAULT_EPSILON, stateDictOf } from '../params/state-dict.js';
import { packageVersion } from '../version.js';
import { type CommandSpec, parseOptions } from './command.js';

const FORMATS = { onnx: '.onnx', torch: '.safetensors' } as const;

const options = {
  to: {
    flags: '--to <format>',
    description: 'what to write: an ONNX model (`onnx`) or a PyTorch state dict in safetensors (`torch`: BatchNorm1d, or LayerNorm with --layer) (default: from the -o extension, .onnx or .safetensors)',
    group: 'Output',
    choices: ['onnx', 'torch'],
    schema: z.enum(['onnx', 'torch']).optional(),
  },
  dtype: {
    flags: '--dtype <type>',
    description: 'element type of the model\'s input, output and arithmetic, or of the tensors',
    group: 'Output',
    default: 'float64',
    choices: ['float64', 'float32'],
    schema: z.enum(['float64', 'float32']),
  },
  layer: {
    flags: '--layer',
    description: 'export the layer transform (per row, with the file\'s γ, β and ε) instead of the batch transform',
    group: 'Normalization',
    schema: z.boolean().optional().transform(Boolean),
    conflicts: { group: 'layer normalization has no per-group statistics' },
  },
  group: {
    flags: '--group <key>',
    description: 'with a file fitted per group: the group whose statistics to export, by its values of the group-by columns (`AAPL`, `2024-01-31,Tech`)',
    group: 'Normalization',
    complete: 'none',
    schema: z.string().optional().transform((key) => (key === undefined ? undefined : (listOption.parse([key]) as string[]))),
  },
  epsilon: {
    flags: '-e, --epsilon <number>',
    description: 'ε added to the variance inside the square root (default: the parameter file\'s, else 1e-5)',
    group: 'Normalization',
    complete: 'none',
    schema: decimalOption('--epsilon', { min: 0 }).optional(),
  },
  clip: {
    flags: '--clip <k>',
    description: 'ONNX: clamp the normalized value to [−k, k] before γ and β, as batch --clip and layer --clip do',
    group: 'Normalization',
    complete: 'none',
    schema: decimalOption('--clip', { minExclusive: 0 }).optional(),
  },
  output: { ...outputOptions.output, description: 'write the model or state dict here (atomically) instead of stdout' },
} satisfies Record<string, OptionSpec>;

const Options = schemaOf(options);

export const exportCommand: CommandSpec = {
  name: 'export',
  summary: 'write a parameter file as an ONNX model or a PyTorch state dict, to normalize inside a model',
  description:
    'Writes the normalization a parameter file describes where a model runs: `--to onnx`, a graph of standard operators ' +
    '(opset 17) taking "input" [N, H] and giving "output" [N, H], features in the file\'s column order (listed in the ' +
    'model\'s metadata and doc string), missing values NaN in and out; winsorizing bounds and --clip are part of the graph. ' +
    '`--to torch`, a safetensors file with the state dict of a torch.nn.BatchNorm1d (weight, bias, running_mean, ' +
    'running_var, num_batches_tracked), or of a LayerNorm with --layer. A file fitted per group holds many ' +
    'normalizations: choose one with --group.',
  arguments: { name: '<params>', description: 'the parameter file (- reads stdin)' },
  options,
  examples: [
    {
      command: "printf 'px,pe\\n10,12\\n20,30\\n60,18\\n' | finorm fit -o fit.json && finorm export fit.json -o norm.onnx",
      explanation: 'an ONNX model applying the fit, float64',
    },
    {
      command: "printf 'px,pe\\n10,12\\n20,30\\n60,18\\n' | finorm fit -o fit.json && finorm export fit.json --to torch -o bn.safetensors",
      explanation: 'a BatchNorm1d state dict for load_state_dict',
    },
    {
      command: "printf 'px,pe\\n10,12\\n20,30\\n60,18\\n' | finorm fit -o fit.json && finorm export --layer --dtype float32 fit.json -o layer.onnx",
      explanation: 'the layer transform (γ, β and ε of the file), served in float32',
    },
    {
      command: "printf 'sector,px\\nTech,10\\nTech,30\\nEnergy,5\\nEnergy,7\\n' | finorm fit -g sector -o fit.json && finorm export --group Tech fit.json -o tech.onnx",
      explanation: 'one sector\'s statistics from a file fitted per group',
    },
  ],
  async run(args, raw, given) {
    const o = parseOptions(Options, raw, options, given);
    const to = o.to ?? formatOfName(o.output);
    if (to === 'torch' && o.clip !== undefined) {
      throw new UsageError('--clip cannot be used with --to torch: BatchNorm1d and LayerNorm do not clamp; export to ONNX, whose graph does');
    }
    const file = Array.isArray(args) ? args[0] : (args as string);
    if (o.output === undefined && process.stdout.isTTY) {
      throw new UsageError(`the ${to === 'onnx' ? 'model' : 'state dict'} is binary: write it to a file with -o, or redirect stdout`);
    }
    await checkOutputTargets([{ option: '--output', path: o.output }], sourcesFrom([file]));

    const name = file === '-' ? '<stdin>' : file;
    // A group at a time: only the one asked for (and a few to name) is kept, however many the file holds.
    const groups: FoundGroups = { count: 0, first: [] };
    const wanted = o.group;
    const { header: params } = await readParams(file, (group, i) => {
      groups.count++;
      if (groups.first.length < 5) groups.first.push(group);
      if (wanted === undefined || group.key.length !== wanted.length || group.key.some((k, c) => k !== wanted[c])) return;
      if (groups.chosen !== undefined) throw duplicateGroup(name, i, group);
      groups.chosen = group;
    });
    let one: ParamsHeader = params;
    let groupText: string | undefined;
    if (params.groupBy !== undefined && !o.layer) {
      if (o.group === undefined) {
        const example = groups.first[0]?.key.join(',') ?? 'KEY';
        throw new UsageError(
          `${name} is fitted per group (${params.groupBy.join(', ')}): a model holds one group's statistics; export one with --group (e.g. --group ${JSON.stringify(example)})`,
        );
      }
      one = paramsOfGroup(params, o.group, groups, name);
      groupText = params.groupBy.map((column, i) => `${column} ${JSON.stringify(o.group?.[i])}`).join(', ');
    } else if (o.group !== undefined) {
      throw new UsageError(`${name} is not fitted per group: --group has no group to choose`);
    }
    const epsilon = o.epsilon ?? params.epsilon ?? TORCH_DEFAULT_EPSILON;
    const names = one.columns.map((c) => c.name);
    if (!o.layer) refuseBeyondModels(one, names, epsilon, name);

    let bytes: Uint8Array;
    if (to === 'onnx') {
      const settings = {
        dtype: o.dtype,
        clip: o.clip,
        producerVersion: packageVersion(),
        source: `from ${file === '-' ? 'stdin' : basename(file)}${groupText ? `, group ${groupText}` : ''}`,
        metadata: groupText ? ([['finorm.group', JSON.stringify(o.group)]] as [string, string][]) : [],
      };
      const model = o.layer
        ? layerModel(names, one.columns.map((c) => c.gamma ?? 1), one.columns.map((c) => c.beta ?? 0), epsilon, settings)
        : batchModel(names, scalingFromParams(one, names, epsilon, name), epsilon, settings);
      bytes = encodeOnnxModel(model);
    } else {
      const { tensors, metadata } = stateDictOf(one, o.layer ? 'LayerNorm' : 'BatchNorm1d', epsilon, o.dtype, name);
      bytes = encodeSafetensors(tensors, metadata);
    }
    const sink = await openOutput(o.output);
    try {
      await sink.write(bytes);
      await sink.commit();
    } catch (error) {
      await sink.abort();
      throw error;
    }
    return ExitCode.ok;
  },
};

/** --to from the output's extension. */
function formatOfName(output: string | undefined): 'onnx' | 'torch' {
  const extension = output === undefined ? '' : extname(output).toLowerCase();
  for (const [format, ext] of Object.entries(FORMATS)) if (extension === ext) return format as 'onnx' | 'torch';
  throw new UsageError(`say what to write with --to onnx or --to torch${output === undefined ? '' : ` (${output} ends in neither .onnx nor .safetensors)`}`);
}

/**
 * A column whose var + ε is outside 2^±1000 (values near 1e308, or a spread
 * below 1e-150 with ε = 0) is normalized by finorm in units of a power of two;
 * a model's arithmetic has no such step: refused for every target, naming it.
 */
function refuseBeyondModels(params: ParamsHeader, names: readonly string[], epsilon: number, file: string): void {
  // A column without a fitted mean and variance: each target says what it needs instead.
  if (params.columns.some((c) => c.mean === undefined || c.variance === undefined)) return;
  const scaling = scalingFromParams(params, names, epsilon, file);
  const j = names.findIndex((_, k) => scaling.inputScale[k] !== 1 || scaling.outputScale[k] !== 1);
  if (j < 0) return;
  const variance = params.columns[j].variance as NonNullable<(typeof params.columns)[number]['variance']>;
  const shown = fitsDouble(variance) ? String(wideToNumber(variance)) : formatWideDecimal(variance);
  throw new DataError(
    `${file}: column ${JSON.stringify(names[j])} has variance ${shown} (ε ${epsilon}): finorm normalizes it in units of a power of two, which a model's float64 arithmetic cannot; it cannot be exported`,
  );
}
