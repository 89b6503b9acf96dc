// The parameter file: versioned JSON carrying, per feature column, γ and β
// and (once fitted) the column's statistics, plus ε and ddof. It is parsed by
// a zod schema at the edge; the rest of finorm works with the typed result.
//
//   {
//     "format": "finorm-params",
//     "version": 1,
//     "epsilon": 1e-5,
//     "ddof": 0,
//     "columns": [
//       { "name": "Price", "gamma": 1, "beta": 0,
//         "count": 503, "mean": 103.8, "meanLo": 1.3e-15, "variance": 1.9e4, "m2": 9.5e6,
//         "min": 2.82, "max": 1806.06 }
//     ]
//   }
//
// Objects are strict: an unknown key (a typo such as "gama") is an error
// rather than a silently ignored setting.
//
// Layouts: the JSON object above, or NDJSON (a file named .ndjson or .jsonl):
// the same object without "groups" on the first line, then one group a line,
// for fits of millions of groups. Either is written and read a group at a
// time, so no file is too large for finorm.
//
// Versions: 1 is the JSON layout above. 2 adds variances and M2 beyond the
// double range written as decimal text ("variance": "4.5e+616"; values near
// 1e308), and the NDJSON layout. finorm writes version 1 whenever the file
// needs nothing of version 2, so that ordinary files stay readable by every
// finorm; an older finorm refuses a version 2 file with a message to upgrade.

import { type ReadStream, createReadStream } from 'node:fs';
import { z } from 'zod';
import { type WideNumber, fitsDouble, wide } from '../core/wide.js';
import { DataError, ioErrorFrom } from '../errors.js';
import { JsonSyntaxError, JsonValues } from '../io/json-values.js';
import type { OutputSink } from '../io/output.js';
import { MAX_DECIMAL_EXPONENT, parseWideDecimal } from './wide-decimal.js';

export const PARAMS_FORMAT = 'finorm-params';
/** The newest version this finorm reads. */
export const PARAMS_VERSION = 2;
/** The version of a file with every number a JSON number. */
export const PARAMS_VERSION_PLAIN = 1;

const finite = z.number().refine(Number.isFinite, 'expected a finite number');
const nonNegative = finite.refine((v) => v >= 0, 'expected a number ≥ 0');
/** An exact binary number n·2^e, n in hexadecimal: `-0x1b3p-40`. */
const exactSum = z.string().regex(/^-?0x[0-9a-f]+p-?\d+$/, 'expected an exact sum written as 0x…p… (hexadecimal integer, power of two)');
/** A variance or M2: a number ≥ 0, or (beyond the double range) its decimal text. */
const wideNonNegative = z.union([nonNegative, z.string()]).transform((value, ctx): WideNumber => {
  if (typeof value === 'number') return wide(value);
  const parsed = parseWideDecimal(value);
  // Text only where a JSON number cannot carry the value: "2" is a mistyped number.
  if (parsed !== undefined && !fitsDouble(parsed)) return parsed;
  ctx.addIssue({
    code: 'custom',
    message: `expected a number ≥ 0, or beyond the double range its decimal text such as "4.5e+616" (exponent within ±${MAX_DECIMAL_EXPONENT}), got ${JSON.stringify(value)}`,
  });
  return z.NEVER;
});

export const ColumnParamsSchema = z
  .strictObject({
    name: z.string(),
    gamma: finite.optional(),
    beta: finite.optional(),
    count: z.number().int().nonnegative().optional(),
    mean: finite.optional(),
    meanLo: finite.optional(),
    variance: wideNonNegative.optional(),
    m2: wideNonNegative.optional(),
    min: finite.optional(),
    max: finite.optional(),
    /** Winsorizing bounds: raw values are clamped to [lower, upper] before normalizing. */
    lower: finite.optional(),
    upper: finite.optional(),
    /** A partial fit's exact Σx and Σx² (n·2^e as `0x…p…`), for merging to the last bit. */
    sum: exactSum.optional(),
    sumOfSquares: exactSum.optional(),
  })
  .refine((c) => (c.mean === undefined) === (c.variance === undefined), {
    message: 'give both "mean" and "variance", or neither',
  })
  .refine((c) => (c.lower === undefined) === (c.upper === undefined), {
    message: 'give both "lower" and "upper", or neither',
  })
  .refine((c) => (c.sum === undefined) === (c.sumOfSquares === undefined), {
    message: 'give both "sum" and "sumOfSquares", or neither',
  });

/** The statistics of one group (e.g. one ticker) under --group-by. */
export const GroupParamsSchema = z.strictObject({
  /** The group's values of the groupBy columns, in their order. */
  key: z.array(z.string()).min(1, 'expected at least one value'),
  columns: z.array(ColumnParamsSchema).min(1, 'expected at least one column'),
});

/** Everything of a file but its groups: what the first line of the NDJSON layout holds. */
export const ParamsHeaderSchema = z
  .strictObject({
    format: z.literal(PARAMS_FORMAT),
    version: z.number().refine((v) => v === PARAMS_VERSION_PLAIN || v === PARAMS_VERSION, `expected ${PARAMS_VERSION_PLAIN} or ${PARAMS_VERSION}`),
    /** Which finorm wrote the file (informational). */
    generator: z.string().optional(),
    epsilon: nonNegative.optional(),
    ddof: z.union([z.literal(0), z.literal(1)]).optional(),
    columns: z.array(ColumnParamsSchema).min(1, 'expected at least one column'),
    /** The winsorizing quantile P the lower/upper bounds were fitted with. */
    winsorize: z.number().gt(0).lt(0.5).optional(),
    /** --group-by: the columns whose values name a group. */
    groupBy: z.array(z.string()).min(1, 'expected at least one column').optional(),
  });

export type GroupParams = z.infer<typeof GroupParamsSchema>;
export type ColumnParams = z.infer<typeof ColumnParamsSchema>;
/** A parameter file's header as read: variances and M2 as WideNumbers. */
export type ParamsHeader = z.infer<typeof ParamsHeaderSchema>;
/** A whole parameter file as read (its groups in an array: small files only). */
export type ParamsFile = ParamsHeader & { groups?: GroupParams[] };
/** What is written: JSON values only. */
export type ParamsHeaderJson = z.input<typeof ParamsHeaderSchema>;
export type GroupParamsJson = z.input<typeof GroupParamsSchema>;
export type ColumnParamsJson = z.input<typeof ColumnParamsSchema>;

/** The layouts of a parameter file: one JSON object, or NDJSON (the header on the first line, then one group a line). */
export type ParamsLayout = 'json' | 'ndjson';

/** The layout a file name asks for: `.ndjson` or `.jsonl` is NDJSON, anything else (and stdout) JSON. */
export function paramsLayoutOf(path: string | undefined): ParamsLayout {
  return path !== undefined && /\.(ndjson|jsonl)$/i.test(path) ? 'ndjson' : 'json';
}

/** Receives a file's groups one at a time, each validated, as they are read (there may be millions), with the file's columns and groupBy. */
export type GroupReceiver = (group: GroupParams, index: number, file: { columns: ColumnParams[]; groupBy: string[] }) => void;

export interface ParamsRead {
  header: ParamsHeader;
  groups: number;
  layout: ParamsLayout;
}

/**
 * Reads and validates a parameter file (`-` for stdin), in either layout,
 * without holding it: each group goes to `onGroup` as soon as it is read
 * and the columns and groupBy it is checked against are known (finorm writes
 * them first; a hand-written file that does not has its groups held until
 * they are). Every problem names the file, and the key or the line. A file
 * holding several fits one after another is refused: finorm merge reads those.
 */
export async function readParams(path: string, onGroup: GroupReceiver = () => undefined): Promise<ParamsRead> {
  return fromPath(path, (chunks, name) => singleFit(chunks, name, onGroup));
}

/** Receives each fit of a file that holds several one after another: a receiver for its groups before they are read, then its header. */
export interface FitsReceiver {
  groups(where: string): GroupReceiver;
  fit(read: ParamsRead, where: string): void;
}

/**
 * Reads every fit in a file, or in stdin for `-`: one, or several written
 * one after another (as `cat`, GNU parallel or a reducer collect them), in
 * either layout, a group at a time. A fit begins with an object that has
 * "format"; in the NDJSON layout the objects after it without one are its
 * groups. The second and later fits are named with their line:
 * `<stdin> (fit 3, line 41)`. Returns the number of fits; none is an error.
 */
export async function readParamsFits(path: string, receiver: FitsReceiver): Promise<number> {
  return fromPath(path, async (chunks, name) => {
    const json = new JsonValues(chunks);
    let start: FitStart | undefined;
    let count = 0;
    do {
      count++;
      const place: FitPlace = start === undefined ? { name } : { name, fit: count, line: start.line };
      const where = placeText(place);
      const read = await readFit(json, place, receiver.groups(where), start);
      receiver.fit(read, where);
      start = read.next;
    } while (start !== undefined);
    return count;
  });
}

/** Runs `read` on the chunks of a file or stdin, an I/O error named with the file. */
async function fromPath<T>(path: string, read: (chunks: AsyncIterator<Buffer | Uint8Array | string>, name: string) => Promise<T>): Promise<T> {
  const stream = path === '-' ? process.stdin : createReadStream(path);
  const failed = new Promise<never>((_, reject) => stream.once('error', (error: Error) => reject(ioErrorFrom(error, 'read', path))));
  failed.catch(() => undefined);
  try {
    return await Promise.race([read(stream[Symbol.asyncIterator](), path === '-' ? '<stdin>' : path), failed]);
  } finally {
    if (path !== '-') (stream as ReadStream).destroy();
  }
}

/** readParams on text already in memory (a test, a file of a few lines). */
export function readParamsText(text: string, path: string, onGroup?: GroupReceiver): Promise<ParamsRead> {
  return singleFit([text][Symbol.iterator]() as unknown as AsyncIterator<string>, path, onGroup ?? (() => undefined));
}

/** A whole parameter file from text, its groups in an array (for small files and tests); a group key given twice is refused. */
export async function parseParams(text: string, path: string): Promise<ParamsFile> {
  const groups: GroupParams[] = [];
  const keys = new Set<string>();
  const { header } = await readParamsText(text, path, (group, i) => {
    const key = JSON.stringify(group.key);
    if (keys.has(key)) throw duplicateGroup(path, i, group);
    keys.add(key);
    groups.push(group);
  });
  return header.groupBy === undefined ? header : { ...header, groups };
}

/** A group key a file gives twice. */
export function duplicateGroup(path: string, i: number, group: GroupParams): DataError {
  return new DataError(`${path}: groups[${i}] (${group.key.map((k) => JSON.stringify(k)).join(', ')}) appears twice`);
}

/** The one fit a file must hold. */
async function singleFit(chunks: AsyncIterator<Buffer | Uint8Array | string>, path: string, onGroup: GroupReceiver): Promise<ParamsRead> {
  const read = await readFit(new JsonValues(chunks), { name: path }, onGroup);
  if (read.next !== undefined) {
    throw new DataError(`${path}:${read.next.line}: a second parameter file after the first (a file of several fits is for finorm merge)`);
  }
  return read;
}

/** Which fit of a file, for messages: the second and later are numbered, with the line they begin on. */
interface FitPlace {
  name: string;
  fit?: number;
  line?: number;
}

/** `p.json`, `p.json:12`; for a later fit `<stdin> (fit 3, line 41)`, `<stdin>:45 (fit 3)`. */
function placeText(place: FitPlace, line?: number): string {
  if (place.fit === undefined) return line === undefined ? place.name : `${place.name}:${line}`;
  return line === undefined ? `${place.name} (fit ${place.fit}, line ${place.line})` : `${place.name}:${line} (fit ${place.fit})`;
}

/** The first object of the next fit, already read, and its line. */
interface FitStart {
  object: Record<string, unknown>;
  line: number;
}

/** Whether a value read after a fit begins the next fit (rather than being a group of the NDJSON layout). */
function isFitStart(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, 'format');
}

/**
 * Reads one fit from `json`: its first object (streamed member by member,
 * or `start` when already read), then the NDJSON layout's groups, up to the
 * end or the next fit's first object, returned as `next`.
 */
async function readFit(json: JsonValues, place: FitPlace, onGroup: GroupReceiver, start?: FitStart): Promise<ParamsRead & { next?: FitStart }> {
  const at = (line?: number): string => placeText(place, line);
  const path = at();
  const members: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  let columns: Set<string> | undefined;
  let parsedColumns: ColumnParams[] = [];
  let groupBy: number | undefined;
  let groups = 0;
  let groupsMember = false;
  const held: { raw: unknown; index: number; line: number }[] = [];
  const checkVersion = (): void => {
    const version = members.version;
    if (typeof version === 'number' && version > PARAMS_VERSION) {
      throw new DataError(`${path}: parameter file version ${version} is newer than this finorm reads (version ${PARAMS_VERSION}); upgrade finorm`);
    }
  };
  // The columns and groupBy a group is checked against, validated as soon as they are read.
  const known = (): boolean => {
    if (columns === undefined && members.columns !== undefined) {
      const parsed = ParamsHeaderSchema.shape.columns.safeParse(members.columns);
      if (!parsed.success) throw new DataError(`${path}: ${describeIssue({ ...parsed.error.issues[0], path: ['columns', ...parsed.error.issues[0].path] }, members)}`);
      columns = new Set();
      parsedColumns = parsed.data;
      for (const column of parsed.data) {
        if (columns.has(column.name)) throw new DataError(`${path}: column ${JSON.stringify(column.name)} appears twice`);
        columns.add(column.name);
      }
    }
    if (groupBy === undefined && Array.isArray(members.groupBy)) groupBy = members.groupBy.length;
    return columns !== undefined && groupBy !== undefined;
  };
  const hand = (raw: unknown, index: number, line: number): void => {
    const file = { columns: parsedColumns, groupBy: members.groupBy as string[] };
    onGroup(checkedGroup(raw, index, at(line), columns as Set<string>, groupBy as number), index, file);
  };
  /** A group, on `line`: handed on once the columns and groupBy it is checked against are known. */
  const group = (raw: unknown, index: number, line: number): void => {
    groups++;
    if (!known()) {
      held.push({ raw, index, line });
      return;
    }
    for (const early of held.splice(0)) hand(early.raw, early.index, early.line);
    hand(raw, index, line);
  };
  const parsedHeader = (): ParamsHeader => {
    checkVersion();
    const result = ParamsHeaderSchema.safeParse(members);
    if (!result.success) throw new DataError(`${path}: ${describeIssue(result.error.issues[0], members)}`);
    return result.data;
  };
  /** A top-level key given twice would leave the groups checked against one value and the file read with another. */
  const member = (key: string, line: number): void => {
    if (Object.hasOwn(members, key) || (key === 'groups' && groupsMember)) throw new DataError(`${at(line)}: ${JSON.stringify(key)} appears twice`);
  };
  let layout: ParamsLayout = 'json';
  let next: FitStart | undefined;
  try {
    if (start !== undefined) {
      // Already parsed (JSON.parse keeps the last of a repeated key); the version first, so a newer file says so.
      if (Object.hasOwn(start.object, 'version')) members.version = start.object.version;
      checkVersion();
      for (const [key, value] of Object.entries(start.object)) {
        if (key === 'groups' && Array.isArray(value)) {
          groupsMember = true;
          for (const raw of value) group(raw, groups, start.line);
        } else members[key] = value;
      }
    } else {
      if ((await json.peek()) === -1) throw new DataError(`${path}: no parameter file in it (it is empty)`);
      await json.expect('{', 'a JSON object');
      if ((await json.peek()) !== 0x7d) {
        do {
          const key = await json.value();
          if (typeof key !== 'string') throw new JsonSyntaxError('expected a key (a string)', json.line);
          member(key, json.line);
          await json.expect(':', '":"');
          if (key === 'groups' && (await json.peek()) === 0x5b) {
            groupsMember = true;
            await json.expect('[', '"["');
            if ((await json.peek()) !== 0x5d) {
              do {
                await json.peek();
                const line = json.line;
                group(await json.value(), groups, line);
              } while (await json.separator(']'));
            } else await json.expect(']', '"]"');
            continue;
          }
          members[key] = await json.value();
          if (key === 'version') checkVersion();
        } while (await json.separator('}'));
      } else await json.expect('}', '"}"');
    }
    // More objects after the first: the next fit, or the NDJSON layout's groups, one each.
    for (let c = await json.peek(); c !== -1; c = await json.peek()) {
      const line = json.line;
      if (c !== 0x7b) {
        const shown = JSON.stringify(String.fromCharCode(c));
        throw new DataError(`${at(line)}: expected ${layout === 'json' ? 'a parameter file' : 'a group or a parameter file'} (a JSON object, { … }), found ${shown}`);
      }
      let value: unknown;
      try {
        value = await json.value();
      } catch (error) {
        // After a fit's object, a broken one is most likely the next fit.
        if (layout === 'json' && error instanceof JsonSyntaxError) {
          const nextPlace = { name: place.name, fit: (place.fit ?? 1) + 1, line };
          throw new DataError(`${placeText(nextPlace)}: not a JSON parameter file (${error.message})`);
        }
        throw error;
      }
      if (isFitStart(value)) {
        next = { object: value, line };
        break;
      }
      if (groupsMember) throw new DataError(`${at(line)}: text after the parameter file's object`);
      if (!Array.isArray(members.groupBy)) {
        throw new DataError(`${at(line)}: an object without "format" after a fit that is not per group (a parameter file begins with "format"; groups follow a fit with "groupBy")`);
      }
      // The first group line: the header is whole, and a mistake in it is named before millions of groups are read.
      if (layout === 'json') parsedHeader();
      layout = 'ndjson';
      group(value, groups, line);
    }
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw new DataError(`${at(error.line)}: not a JSON parameter file (${error.message})`);
    throw error;
  }
  const header = parsedHeader();
  known();
  if ((header.groupBy === undefined) !== (groups === 0 && !groupsMember)) {
    throw new DataError(`${path}: give both "groupBy" and "groups", or neither`);
  }
  for (const early of held.splice(0)) hand(early.raw, early.index, early.line);
  return { header, groups, layout, ...(next !== undefined ? { next } : {}) };
}

/** One group, validated: its shape, a key value per groupBy column, the top-level columns' names. */
function checkedGroup(raw: unknown, i: number, path: string, names: Set<string>, keyLength: number): GroupParams {
  const result = GroupParamsSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new DataError(`${path}: ${describeIssue({ ...issue, path: ['groups', i, ...issue.path] }, { groups: { [i]: raw } })}`);
  }
  const group = result.data;
  const where = `${path}: groups[${i}] (${group.key.map((k) => JSON.stringify(k)).join(', ')})`;
  if (group.key.length !== keyLength) throw new DataError(`${path}: every group's "key" must have one value per "groupBy" column (groups[${i}] has ${group.key.length})`);
  const own = group.columns.map((c) => c.name);
  if (own.length !== names.size || own.some((n) => !names.has(n)) || new Set(own).size !== own.length) {
    throw new DataError(`${where}.columns must name the same columns as the top-level "columns" (${[...names].join(', ')})`);
  }
  return group;
}

/** One zod issue as `columns[2] ("Price").variance: expected a number ≥ 0`. */
export function describeIssue(issue: z.core.$ZodIssue, json: unknown): string {
  let where = '';
  let node: unknown = json;
  for (const key of issue.path) {
    where += typeof key === 'number' ? `[${key}]` : where === '' ? String(key) : `.${String(key)}`;
    node = (node as Record<PropertyKey, unknown> | undefined)?.[key as PropertyKey];
    const name = (node as { name?: unknown } | undefined)?.name;
    if (typeof key === 'number' && typeof name === 'string') where += ` (${JSON.stringify(name)})`;
  }
  let message = issue.message.replace(/^Invalid input: /, '');
  const missing = /^expected (\w+), received undefined$/.exec(message);
  if (missing) message = `missing (expected ${missing[1] === 'array' ? 'an array' : `a ${missing[1]}`})`;
  else if (issue.code === 'invalid_type' && /expected int/.test(message)) message = 'expected a whole number';
  return where === '' ? message : `${where}: ${message}`;
}

/** A file's groups, made one at a time as they are written (there may be millions). */
export interface GroupsToWrite {
  count: number;
  at(g: number): GroupParamsJson;
}

/** Text is handed to the sink in pieces of about this size. */
const WRITE_BYTES = 1 << 16;

/**
 * Writes a parameter file: the JSON layout is two-space indented JSON (the
 * same text as JSON.stringify of the whole), NDJSON the header on one line,
 * then one group a line. Groups are made and written one at a time, so no
 * file is too large to write.
 */
export async function writeParams(sink: OutputSink, header: ParamsHeaderJson, groups: GroupsToWrite | undefined, layout: ParamsLayout): Promise<void> {
  let pending = '';
  const write = async (text: string): Promise<void> => {
    pending += text;
    if (pending.length >= WRITE_BYTES) {
      await sink.write(pending);
      pending = '';
    }
  };
  if (layout === 'ndjson') {
    // An NDJSON file is version 2, whatever its numbers: older finorm reads one JSON object.
    // A fit per group with no groups (an empty part) says so: a header alone would read as a fit without groups.
    const none = groups !== undefined && groups.count === 0 ? { groups: [] } : {};
    await write(JSON.stringify({ ...header, version: PARAMS_VERSION, ...none }) + '\n');
    for (let g = 0; g < (groups?.count ?? 0); g++) await write(JSON.stringify((groups as GroupsToWrite).at(g)) + '\n');
  } else if (groups === undefined) {
    await write(JSON.stringify(header, null, 2) + '\n');
  } else {
    // The header without its closing brace, then "groups" as JSON.stringify would indent it (two levels in).
    const text = JSON.stringify(header, null, 2);
    await write(text.slice(0, text.length - 2) + ',\n  "groups": [');
    for (let g = 0; g < groups.count; g++) {
      await write((g === 0 ? '\n    ' : ',\n    ') + JSON.stringify(groups.at(g), null, 2).replaceAll('\n', '\n    '));
    }
    await write(groups.count === 0 ? ']\n}\n' : '\n  ]\n}\n');
  }
  if (pending !== '') await sink.write(pending);
}
