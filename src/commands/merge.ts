// finorm merge: combines parameter files fitted on disjoint shards into the
// file one fit over all the data would give: exactly from partial fits'
// exact sums, else by Chan, Golub & LeVeque's pairwise update.

import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { DataError, ExitCode, UsageError } from '../errors.js';
import { checkOutputTargets, openOutput } from '../io/output.js';
import { sourcesFrom } from '../io/sources.js';
import { outputOptions, schemaOf } from '../options.js';
import { GroupKeys, GroupTable } from '../groups.js';
import { momentsFromParams, paramsFromMoments, requirePresentValues } from '../params/fitted.js';
import type { ColumnMoments } from '../core/moments.js';
import { type ParamsHeader, duplicateGroup, paramsLayoutOf, readParamsFits, writeParams } from '../params/params-file.js';
import { packageVersion } from '../version.js';
import { type CommandSpec, parseOptions } from './command.js';
import { generatorName, partialOption } from './shared.js';

const options = {
  partial: {
    ...partialOption.partial,
    description: 'the result is itself a part (a combiner\'s, merged again later): keep the exact sums, and columns without values in every fit',
  },
  output: { ...outputOptions.output, description: 'write the merged parameter file here (atomically) instead of stdout' },
} as const;

const Options = schemaOf(options);

export const mergeCommand: CommandSpec = {
  name: 'merge',
  summary: 'combine parameter files fitted on disjoint shards into one, exactly',
  description:
    'Merges the counts, means, M2 (sums of squared deviations), minima and maxima of parameter files written by ' +
    '`finorm fit` on disjoint parts of a dataset. The result is the file one fit over all the parts would give: ' +
    'to the last bit from partial fits (`fit --partial`, which carry exact sums), to the last few bits otherwise. ' +
    'Each file, and stdin (-), may hold any number of fits one after another, as `cat` or GNU parallel collect them. ' +
    'The fits must have the same columns, ε, ddof, γ and β.',
  arguments: { name: '<params...>', description: 'parameter files to merge, each holding one or more fits (- reads them from stdin)' },
  options,
  examples: [
    {
      command: "finorm merge <(printf 'px\\n10\\n20\\n' | finorm fit) <(printf 'px\\n60\\n' | finorm fit)",
      explanation: 'merge the fits of two shards: the fit of all their rows',
    },
    {
      command: 'for s in 1 2 3; do (echo px; seq $s 3 30) | finorm fit -o shard$s.json; done; finorm merge -o all.json shard?.json',
      explanation: 'fit shards apart (in parallel, on other machines), then merge into all.json',
    },
    {
      command: "printf 'px\\n10\\n20\\n' | finorm fit -o a.json && printf 'px\\n60\\n' | finorm fit -o b.json && finorm merge b.json a.json",
      explanation: 'the order of the files does not matter',
    },
    {
      command: "(printf 'px\\n10\\n20\\n' | finorm fit --partial; printf 'px\\n60\\n' | finorm fit --partial) | finorm merge -",
      explanation: 'fits one after another on stdin, as GNU parallel collects them; partial fits merge to the last bit',
    },
  ],
  async run(files, raw, given) {
    const o = parseOptions(Options, raw, options, given);
    if (files.length === 0) throw new UsageError('give the parameter files to merge (- reads them from stdin)');
    await checkOutputTargets([{ option: '--output', path: o.output }], sourcesFrom(files));
    await refuseSameFileTwice(files);
    // One fit at a time, a group at a time, as they are read: memory holds the merged statistics, not the files.
    let first: { file: string; params: ParamsHeader } | undefined;
    let names: string[] = [];
    let groups: GroupTable | undefined;
    let merged: ColumnMoments | undefined;
    /** Per merged group, the last fit that had it (a fit giving a group twice is refused). */
    const lastFit: number[] = [];
    const fits = new SeenFits();
    let fitIndex = -1;
    /** The merged groups are in the order the fits name them first. */
    let position = 0;
    let fingerprint = createHash('sha256');
    for (const source of files) {
      await readParamsFits(source, {
        groups: (where) => {
          fitIndex++;
          fingerprint = createHash('sha256');
          let columnsChecked = false;
          return (group, i, { columns, groupBy }) => {
            if (!columnsChecked) {
              columnsChecked = true;
              if (first === undefined) names = columns.map((c) => c.name);
              else checkSameColumns(first, { file: where, params: { ...first.params, columns, groupBy } });
              groups ??= new GroupTable(names.length, true);
            }
            fingerprint.update(JSON.stringify(group));
            const table = groups as GroupTable;
            const key = GroupKeys.keyOfLabels(group.key);
            const g = table.groupOf(key, position++);
            if (lastFit[g] === fitIndex) throw duplicateGroup(where, i, group);
            lastFit[g] = fitIndex;
            table.addGroup(key, 0, momentsFromParams(first?.params ?? { columns }, names, where, group.columns, `groups[${i}].columns`), position);
          };
        },
        fit: ({ header }, where) => {
          fits.refuseSecond(where, header, fingerprint);
          if (first === undefined) {
            first = { file: where, params: header };
            names = header.columns.map((c) => c.name);
            merged = momentsFromParams(header, names, where);
            if (header.groupBy !== undefined) groups ??= new GroupTable(names.length, true);
          } else {
            checkCompatible(first, { file: where, params: header });
            (merged as ColumnMoments).merge(momentsFromParams(header, names, where));
          }
        },
      });
    }
    if (first === undefined || merged === undefined) throw new UsageError('give the parameter files to merge');
    const base: { file: string; params: ParamsHeader } = first;
    if (!o.partial) requirePresentValues(names, merged);
    const affine = new Map(base.params.columns.map((c) => [c.name, { gamma: c.gamma, beta: c.beta }]));
    const result = paramsFromMoments(
      names,
      merged as ColumnMoments,
      { epsilon: base.params.epsilon ?? 1e-5, ddof: base.params.ddof ?? 0, generator: generatorName(packageVersion()) },
      affine,
      { groups: base.params.groupBy === undefined ? undefined : { groupBy: base.params.groupBy, groups: groups as GroupTable }, partial: o.partial },
    );
    const sink = await openOutput(o.output);
    try {
      await writeParams(sink, result.header, result.groups, paramsLayoutOf(o.output));
      await sink.commit();
    } catch (error) {
      await sink.abort();
      throw error;
    }
    return ExitCode.ok;
  },
};


type FileHeader = { file: string; params: Pick<ParamsHeader, 'columns' | 'groupBy'> };

/** The files must describe the same columns, fitted per the same groups (known before a file's groups are read). */
function checkSameColumns(a: FileHeader, b: FileHeader): void {
  const fail = (what: string): never => {
    throw new DataError(`cannot merge ${b.file} with ${a.file}: ${what}`);
  };
  const namesA = a.params.columns.map((c) => c.name);
  const namesB = new Set(b.params.columns.map((c) => c.name));
  const onlyA = namesA.filter((n) => !namesB.has(n));
  const onlyB = [...namesB].filter((n) => !namesA.includes(n));
  if (onlyA.length > 0 || onlyB.length > 0) {
    const parts = [];
    if (onlyA.length > 0) parts.push(`only ${a.file} has ${onlyA.map((n) => JSON.stringify(n)).join(', ')}`);
    if (onlyB.length > 0) parts.push(`only ${b.file} has ${onlyB.map((n) => JSON.stringify(n)).join(', ')}`);
    fail(`the columns differ (${parts.join('; ')})`);
  }
  const groupsA = a.params.groupBy?.join(', ');
  const groupsB = b.params.groupBy?.join(', ');
  if (groupsA !== groupsB) {
    fail(`one is fitted per group and the other is not, or per other columns (${groupsA ?? 'no groups'} and ${groupsB ?? 'no groups'})`);
  }
}

/** The files must describe the same columns with the same ε, ddof, γ and β. */
function checkCompatible(a: { file: string; params: ParamsHeader }, b: { file: string; params: ParamsHeader }): void {
  checkSameColumns(a, b);
  const fail = (what: string): never => {
    throw new DataError(`cannot merge ${b.file} with ${a.file}: ${what}`);
  };
  if (a.params.winsorize !== undefined || b.params.winsorize !== undefined) {
    fail('winsorizing bounds are quantiles of one fit and cannot be merged');
  }
  if (a.params.epsilon !== b.params.epsilon) fail(`ε differs (${a.params.epsilon} and ${b.params.epsilon})`);
  if ((a.params.ddof ?? 0) !== (b.params.ddof ?? 0)) fail(`ddof differs (${a.params.ddof ?? 0} and ${b.params.ddof ?? 0})`);
  for (const column of a.params.columns) {
    const other = b.params.columns.find((c) => c.name === column.name);
    if ((column.gamma ?? 1) !== (other?.gamma ?? 1) || (column.beta ?? 0) !== (other?.beta ?? 0)) {
      fail(`γ or β of column ${JSON.stringify(column.name)} differs`);
    }
  }
}

/**
 * A file named twice (by any path: a link, `./a.json` and `a.json`) would
 * count its rows twice, as a rerun's glob that matches old outputs does.
 */
async function refuseSameFileTwice(files: readonly string[]): Promise<void> {
  const seen = new Map<string, string>();
  for (const file of files) {
    if (file === '-') continue;
    const identity = await stat(file).then(
      (s) => `${s.dev}:${s.ino}`,
      () => undefined, // unreadable: reading it names the problem
    );
    if (identity === undefined) continue;
    const earlier = seen.get(identity);
    if (earlier !== undefined) {
      throw new UsageError(`${earlier} and ${file} are the same file: merging it twice would count its rows twice`);
    }
    seen.set(identity, file);
  }
}

/**
 * Two fits with the same content (a copy, a part fitted twice, a rerun's
 * output caught by a glob) would count the same rows twice. Remembers a
 * digest of each fit, not the fit.
 */
class SeenFits {
  private readonly seen = new Map<string, string>();

  /** `digest` has had the fit's groups; the header is added here. */
  refuseSecond(where: string, header: ParamsHeader, digest: ReturnType<typeof createHash>): void {
    const { generator: _generator, version: _version, ...fit } = header;
    const hex = digest.update(JSON.stringify(fit)).digest('hex');
    const earlier = this.seen.get(hex);
    if (earlier !== undefined) {
      throw new DataError(`${earlier} and ${where} hold the same fit (the same counts, means and variances): merging both would count the same rows twice`);
    }
    this.seen.set(hex, where);
  }
}
