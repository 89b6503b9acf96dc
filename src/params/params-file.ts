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

import { createReadStream, promises as fs } from 'node:fs';
import { z } from 'zod';
import { DataError, ioErrorFrom } from '../errors.js';

export const PARAMS_FORMAT = 'finorm-params';
export const PARAMS_VERSION = 1;

const finite = z.number().refine(Number.isFinite, 'expected a finite number');
const nonNegative = finite.refine((v) => v >= 0, 'expected a number ≥ 0');
/** An exact binary number n·2^e, n in hexadecimal: `-0x1b3p-40`. */
const exactSum = z.string().regex(/^-?0x[0-9a-f]+p-?\d+$/, 'expected an exact sum written as 0x…p… (hexadecimal integer, power of two)');

export const ColumnParamsSchema = z
  .strictObject({
    name: z.string(),
    gamma: finite.optional(),
    beta: finite.optional(),
    count: z.number().int().nonnegative().optional(),
    mean: finite.optional(),
    meanLo: finite.optional(),
    variance: nonNegative.optional(),
    m2: nonNegative.optional(),
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

export const ParamsFileSchema = z
  .strictObject({
    format: z.literal(PARAMS_FORMAT),
    version: z.literal(PARAMS_VERSION),
    /** Which finorm wrote the file (informational). */
    generator: z.string().optional(),
    epsilon: nonNegative.optional(),
    ddof: z.union([z.literal(0), z.literal(1)]).optional(),
    columns: z.array(ColumnParamsSchema).min(1, 'expected at least one column'),
    /** The winsorizing quantile P the lower/upper bounds were fitted with. */
    winsorize: z.number().gt(0).lt(0.5).optional(),
    /** --group-by: the columns whose values name a group. */
    groupBy: z.array(z.string()).min(1, 'expected at least one column').optional(),
    /** --group-by: statistics per group (γ and β are the top-level columns'). */
    groups: z.array(GroupParamsSchema).optional(),
  })
  .refine((p) => (p.groupBy === undefined) === (p.groups === undefined), {
    message: 'give both "groupBy" and "groups", or neither',
  })
  .refine((p) => p.groups === undefined || p.groups.every((g) => g.key.length === p.groupBy?.length), {
    message: 'every group\'s "key" must have one value per "groupBy" column',
  });

export type GroupParams = z.infer<typeof GroupParamsSchema>;
export type ColumnParams = z.infer<typeof ColumnParamsSchema>;
export type ParamsFile = z.infer<typeof ParamsFileSchema>;

/** Reads and validates a parameter file; every problem names the file and the key. */
export async function readParamsFile(path: string): Promise<ParamsFile> {
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (error) {
    throw ioErrorFrom(error, 'read', path);
  }
  return parseParams(text, path);
}

export function parseParams(text: string, path: string): ParamsFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    // JSON.parse quotes the text around the error, line breaks and all: keep the message on one line.
    throw new DataError(`${path}: not a JSON parameter file (${(error as Error).message.replace(/\s+/g, ' ')})`);
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > PARAMS_VERSION) {
    throw new DataError(
      `${path}: parameter file version ${version} is newer than this finorm reads (version ${PARAMS_VERSION}); upgrade finorm`,
    );
  }
  const result = ParamsFileSchema.safeParse(json);
  if (!result.success) throw new DataError(`${path}: ${describeIssue(result.error.issues[0], json)}`);
  const names = new Set<string>();
  for (const column of result.data.columns) {
    if (names.has(column.name)) throw new DataError(`${path}: column ${JSON.stringify(column.name)} appears twice`);
    names.add(column.name);
  }
  const keys = new Set<string>();
  for (const [i, group] of (result.data.groups ?? []).entries()) {
    const where = `${path}: groups[${i}] (${group.key.map((k) => JSON.stringify(k)).join(', ')})`;
    const key = JSON.stringify(group.key);
    if (keys.has(key)) throw new DataError(`${where} appears twice`);
    keys.add(key);
    const own = group.columns.map((c) => c.name);
    if (own.length !== names.size || own.some((n) => !names.has(n))) {
      throw new DataError(`${where}.columns must name the same columns as the top-level "columns" (${[...names].join(', ')})`);
    }
  }
  return result.data;
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

/**
 * The parameter file as text: two-space indented JSON, numbers in shortest
 * exact form. A file beyond the longest string Node can hold (about 512 MB:
 * hundreds of thousands of groups) is refused with a readable message.
 */
export function formatParams(params: ParamsFile): string {
  try {
    return JSON.stringify(params, null, 2) + '\n';
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    const groups = params.groups === undefined ? '' : `${params.groups.length.toLocaleString('en-US')} groups of `;
    throw new DataError(
      `the parameters (${groups}${params.columns.length} columns) are too large for one JSON file (over about 512 MB); group by fewer or coarser columns`,
    );
  }
}

/** Reads a parameter file, or `-` for stdin. */
export async function readParamsSource(path: string): Promise<ParamsFile> {
  if (path !== '-') return readParamsFile(path);
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return parseParams(Buffer.concat(chunks).toString('utf8'), '<stdin>');
}

/** A parameter file read from a stream of them, and where it was found. */
export interface ParamsDocument {
  /** The file, and for the second and later fits in it, which fit and its line: `<stdin> (fit 3, line 41)`. */
  where: string;
  params: ParamsFile;
}

/**
 * Every parameter file in a file, or in stdin for `-`: one, or several
 * written one after another (as `cat`, GNU parallel or a reducer collect
 * them), each read as soon as it is complete, so memory holds one at a time.
 * A file or stdin without any is an error.
 */
export async function* readParamsDocuments(path: string): AsyncGenerator<ParamsDocument> {
  const name = path === '-' ? '<stdin>' : path;
  const splitter = new JsonObjects(name);
  const decoder = new TextDecoder('utf-8');
  let count = 0;
  const document = (text: string, line: number): ParamsDocument => {
    count++;
    const where = count === 1 ? name : `${name} (fit ${count}, line ${line})`;
    return { where, params: parseParams(text, where) };
  };
  const stream = path === '-' ? process.stdin : createReadStream(path);
  try {
    for await (const chunk of stream) {
      for (const { text, line } of splitter.push(decoder.decode(chunk as Buffer, { stream: true }))) yield document(text, line);
    }
  } catch (error) {
    if (error instanceof DataError) throw error;
    throw ioErrorFrom(error, 'read', name);
  } finally {
    if (stream !== process.stdin) stream.destroy();
  }
  for (const { text, line } of splitter.end(decoder.decode())) yield document(text, line);
  if (count === 0) throw new DataError(`${name}: no parameter file in it (it is empty)`);
}

/**
 * Cuts text into top-level JSON objects written one after another, with only
 * white space between them: tracks strings, escapes and brace depth, so a
 * brace inside a string (a column named "{") is no boundary.
 */
class JsonObjects {
  private pending = '';
  /** Where `pending` is in the scan: offset, depth, in a string, after a backslash. */
  private at = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** The line `pending` starts on, and the line of the object begun in it. */
  private line = 1;
  private startLine = 1;

  constructor(private readonly name: string) {}

  push(text: string): { text: string; line: number }[] {
    this.pending += text;
    const found: { text: string; line: number }[] = [];
    let start = this.depth > 0 ? 0 : -1;
    let cut = 0;
    const s = this.pending;
    for (let i = this.at; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 10) this.line++;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === 92) this.escaped = true;
        else if (c === 34) this.inString = false;
        continue;
      }
      if (this.depth === 0) {
        if (c === 32 || c === 9 || c === 10 || c === 13 || c === 0xfeff) {
          cut = i + 1;
          continue;
        }
        if (c !== 123) {
          const shown = JSON.stringify(String.fromCodePoint(s.codePointAt(i) as number));
          throw new DataError(`${this.name}:${this.line}: expected a parameter file (a JSON object, { … }), found ${shown}`);
        }
        start = i;
        this.startLine = this.line;
      }
      if (c === 34) this.inString = true;
      else if (c === 123 || c === 91) this.depth++;
      else if (c === 125 || c === 93) {
        this.depth--;
        if (this.depth === 0) {
          found.push({ text: s.slice(start, i + 1), line: this.startLine });
          start = -1;
          cut = i + 1;
        }
      }
    }
    // Keep only the object begun and not yet ended.
    const keep = start >= 0 ? start : cut;
    this.pending = s.slice(keep);
    this.at = this.pending.length;
    return found;
  }

  end(text: string): { text: string; line: number }[] {
    const found = this.push(text);
    if (this.depth > 0 || this.inString) {
      // Unfinished: let JSON.parse say what is wrong with it.
      found.push({ text: this.pending, line: this.startLine });
      this.pending = '';
      this.depth = 0;
      this.inString = false;
    }
    return found;
  }
}
