// What the importers of other tools' files share: the names of the columns.
// A file may record them (feature_names_in_, finorm's safetensors metadata)
// or not (tensors, a scaler fitted on an array); --columns gives them, and
// must then agree with the file's in number and, where it has names, in
// names and order: a shifted column is the silent failure this guards.

import { DataError, UsageError } from '../errors.js';

export function importedNames(
  path: string,
  width: number,
  own: readonly string[] | undefined,
  given: readonly string[] | undefined,
  what: { unnamed: string; recorded: string },
): string[] {
  if (given === undefined) {
    if (own !== undefined) return [...own];
    throw new UsageError(`${path}: ${what.unnamed}: give the ${width} feature columns, in order, with --columns`);
  }
  if (given.length !== width) {
    throw new DataError(`${path}: --columns names ${given.length} column${given.length === 1 ? '' : 's'}, and the file has ${width}`);
  }
  if (own !== undefined) {
    const j = own.findIndex((name, i) => name !== given[i]);
    if (j >= 0) {
      throw new DataError(
        `${path}: --columns names ${JSON.stringify(given[j])} where ${what.recorded} ${JSON.stringify(own[j])} (column ${j + 1} of ${own.map((n) => JSON.stringify(n)).join(', ')})`,
      );
    }
  }
  return [...given];
}
