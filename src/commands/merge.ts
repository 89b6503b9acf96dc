// finorm merge: combines parameter files fitted on disjoint shards into the
// file one fit over all the data would give (Chan, Golub & LeVeque).

import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { DataError, ExitCode, UsageError } from '../errors.js';
import { checkOutputTargets, openOutput } from '../io/output.js';
import { sourcesFrom } from '../io/sources.js';
import { outputOptions, schemaOf } from '../options.js';
import { GroupKeys, GroupTable } from '../groups.js';
import { momentsFromParams, paramsFromMoments } from '../params/fitted.js';
import type { ColumnMoments } from '../core/moments.js';
import { type ParamsHeader, duplicateGroup, paramsLayoutOf, readParams, writeParams } from '../params/params-file.js';
import { packageVersion } from '../version.js';
import { type CommandSpec, parseOptions } from './command.js';
import { generatorName } from './shared.js';

const options = {
  output: { ...outputOptions.output, description: 'write the merged parameter file here (atomically) instead of stdout' },
} as const;

const Options = schemaOf(options);

export const mergeCommand: CommandSpec = {
  name: 'merge',
  summary: 'combine parameter files fitted on disjoint shards into one, exactly',
  description:
    'Merges the counts, means, M2 (sums of squared deviations), minima and maxima of parameter files written by ' +
    '`finorm fit` on disjoint parts of a dataset. The result is the file one fit over all the parts would give ' +
    '(to the last few bits). The files must have the same columns, ε, ddof, γ and β.',
  arguments: { name: '<params...>', description: 'parameter files to merge (- reads one from stdin)' },
  options,
  examples: [
    { command: 'finorm merge fixtures/params/sp500-part1.json fixtures/params/sp500-part2.json', explanation: 'merge the fits of two shards' },
    {
      command: "ls shards/*.csv | xargs -P 4 -I{} sh -c 'finorm fit {} > {}.fit.json' && finorm merge shards/*.fit.json -o all.json",
      explanation: 'fit shards in parallel, then merge',
    },
    {
      command: 'finorm merge -o merged.json fixtures/params/sp500-part2.json fixtures/params/sp500-part1.json',
      explanation: 'write the merged fit to a file (the order of the files does not matter)',
    },
  ],
  async run(files, raw) {
    const o = parseOptions(Options, raw, options);
    if (files.length === 0) throw new UsageError('give the parameter files to merge');
    await checkOutputTargets([{ option: '--output', path: o.output }], sourcesFrom(files));
    await refuseSameFileTwice(files);
    // Each file is read a group at a time, its groups merged into one table as they come.
    let first: { file: string; params: ParamsHeader } | undefined;
    let names: string[] = [];
    let groups: GroupTable | undefined;
    /** Per merged group, the last file that had it (a file giving a group twice is refused). */
    const lastFile: number[] = [];
    const fits = new Map<string, string>();
    /** The merged groups are in the order the files name them first. */
    let position = 0;
    let merged: ColumnMoments | undefined;
    for (const [f, file] of files.entries()) {
      const fingerprint = createHash('sha256');
      let columnsChecked = false;
      const { header } = await readParams(file, (group, i, { columns, groupBy }) => {
        if (!columnsChecked) {
          columnsChecked = true;
          if (first === undefined) names = columns.map((c) => c.name);
          else checkSameColumns(first, { file, params: { ...first.params, columns, groupBy } });
          groups ??= new GroupTable(names.length, true);
        }
        fingerprint.update(JSON.stringify(group));
        const table = groups as GroupTable;
        const key = GroupKeys.keyOfLabels(group.key);
        const g = table.groupOf(key, position++);
        if (lastFile[g] === f) throw duplicateGroup(file === '-' ? '<stdin>' : file, i, group);
        lastFile[g] = f;
        table.addGroup(key, 0, momentsFromParams(first?.params ?? { columns }, names, file, group.columns, `groups[${i}].columns`), position);
      });
      const { generator: _generator, version: _version, ...fit } = header;
      fingerprint.update(JSON.stringify(fit));
      const digest = fingerprint.digest('hex');
      const earlier = fits.get(digest);
      if (earlier !== undefined) {
        throw new DataError(`${earlier} and ${file} hold the same fit (the same counts, means and variances): merging both would count the same rows twice`);
      }
      fits.set(digest, file);
      if (first === undefined) {
        first = { file, params: header };
        names = header.columns.map((c) => c.name);
        merged = momentsFromParams(header, names, file);
        if (header.groupBy !== undefined) groups ??= new GroupTable(names.length, true);
      } else {
        checkCompatible(first, { file, params: header });
        (merged as ColumnMoments).merge(momentsFromParams(header, names, file));
      }
    }
    const base = first as { file: string; params: ParamsHeader };
    const affine = new Map(base.params.columns.map((c) => [c.name, { gamma: c.gamma, beta: c.beta }]));
    const result = paramsFromMoments(
      names,
      merged as ColumnMoments,
      { epsilon: base.params.epsilon ?? 1e-5, ddof: base.params.ddof ?? 0, generator: generatorName(packageVersion()) },
      affine,
      { groups: base.params.groupBy === undefined ? undefined : { groupBy: base.params.groupBy, groups: groups as GroupTable } },
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

