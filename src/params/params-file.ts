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
// Versions: 1 is the layout above. 2 adds variances and M2 beyond the double
// range written as decimal text ("variance": "4.5e+616"; values near 1e308).
// finorm writes version 1 whenever the file needs nothing of version 2, so
// that ordinary files stay readable by every finorm; an older finorm refuses
// a version 2 file with a message to upgrade.

import { promises as fs } from 'node:fs';
import { z } from 'zod';
import { type WideNumber, wide } from '../core/wide.js';
import { DataError, ioErrorFrom } from '../errors.js';
import { MAX_DECIMAL_EXPONENT, parseWideDecimal } from './wide-decimal.js';

export const PARAMS_FORMAT = 'finorm-params';
/** The newest version this finorm reads. */
export const PARAMS_VERSION = 2;
/** The version of a file with every number a JSON number. */
export const PARAMS_VERSION_PLAIN = 1;

const finite = z.number().refine(Number.isFinite, 'expected a finite number');
const nonNegative = finite.refine((v) => v >= 0, 'expected a number ≥ 0');
/** A variance or M2: a number ≥ 0, or (beyond the double range) its decimal text. */
const wideNonNegative = z.union([nonNegative, z.string()]).transform((value, ctx): WideNumber => {
  if (typeof value === 'number') return wide(value);
  const parsed = parseWideDecimal(value);
  if (parsed !== undefined) return parsed;
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
  })
  .refine((c) => (c.mean === undefined) === (c.variance === undefined), {
    message: 'give both "mean" and "variance", or neither',
  })
  .refine((c) => (c.lower === undefined) === (c.upper === undefined), {
    message: 'give both "lower" and "upper", or neither',
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
    version: z.union([z.literal(PARAMS_VERSION_PLAIN), z.literal(PARAMS_VERSION)]),
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
/** A parameter file as read: variances and M2 as WideNumbers. */
export type ParamsFile = z.infer<typeof ParamsFileSchema>;
/** A parameter file as written: JSON values only. */
export type ParamsJson = z.input<typeof ParamsFileSchema>;
export type ColumnParamsJson = z.input<typeof ColumnParamsSchema>;

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
export function formatParams(params: ParamsJson): string {
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
