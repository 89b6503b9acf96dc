// The inputs named on the command line (files, or stdin), their formats, and
// how a text that is not UTF-8 is reported. Their bytes are read by
// byte-stream.ts.

import { promises as fs, constants as fsConstants } from 'node:fs';
import { DataError, UsageError, ioErrorFrom } from '../errors.js';

export type Format = 'csv' | 'tsv' | 'ndjson' | 'parquet';

export interface Source {
  /** The path as the user gave it, or undefined for stdin. */
  path: string | undefined;
  /** How messages name it. */
  name: string;
}

export const STDIN_NAME = '<stdin>';

/** Files from the command line; none, or `-`, means stdin. */
export function sourcesFrom(files: readonly string[]): Source[] {
  if (files.length === 0) return [{ path: undefined, name: STDIN_NAME }];
  if (files.filter((file) => file === '-').length > 1) throw new UsageError('stdin (-) can be read only once');
  return files.map((file) => (file === '-' ? { path: undefined, name: STDIN_NAME } : { path: file, name: file }));
}

/** Fails early, before any output is touched, if an input file cannot be read. */
export async function checkSourcesReadable(sources: readonly Source[]): Promise<void> {
  for (const source of sources) {
    if (source.path === undefined) continue;
    let stats;
    try {
      stats = await fs.stat(source.path);
      await fs.access(source.path, fsConstants.R_OK);
    } catch (error) {
      throw ioErrorFrom(error, 'read', source.path);
    }
    if (stats.isDirectory()) throw ioErrorFrom({ code: 'EISDIR' }, 'read', source.path);
  }
}

/**
 * Whether a source can be read a second time: a regular file can; stdin, a
 * named pipe, a `<(producer)` (/dev/fd/N) or a device cannot, and a command
 * that reads its input twice spools them.
 */
export async function readableTwice(source: Source): Promise<boolean> {
  if (source.path === undefined) return false;
  const stats = await fs.stat(source.path).catch(() => undefined);
  return stats?.isFile() === true;
}

/**
 * The input files of a run that reads them more than once, as they were when
 * it began. A file that grows, shrinks or is replaced between the passes
 * (a download still being written, a job rewriting it) would be normalized
 * with the statistics of other rows: `check` stops the run instead.
 */
export class UnchangedFiles {
  private constructor(private readonly files: { name: string; path: string; state: FileState }[]) {}

  static async record(sources: readonly Source[]): Promise<UnchangedFiles> {
    const files = [];
    for (const source of sources) {
      if (source.path === undefined) continue;
      const state = await fileState(source.path);
      if (state !== undefined) files.push({ name: source.name, path: source.path, state });
    }
    return new UnchangedFiles(files);
  }

  /** Throws a DataError naming the first file that is no longer as it was. */
  async check(): Promise<void> {
    for (const { name, path, state } of this.files) {
      const now = await fileState(path);
      const change = changeOf(state, now);
      if (change !== undefined) {
        throw new DataError(
          `${name} changed during the run (${change}): the statistics of the first pass would not describe the rows of the next; ` +
            'run again once the file is complete, or copy it first',
        );
      }
    }
  }
}

interface FileState {
  dev: bigint;
  ino: bigint;
  size: bigint;
  mtimeNs: bigint;
}

async function fileState(path: string): Promise<FileState | undefined> {
  const stats = await fs.stat(path, { bigint: true }).catch(() => undefined);
  if (stats === undefined || !stats.isFile()) return undefined;
  return { dev: stats.dev, ino: stats.ino, size: stats.size, mtimeNs: stats.mtimeNs };
}

function changeOf(before: FileState, after: FileState | undefined): string | undefined {
  if (after === undefined) return 'it is gone';
  if (after.dev !== before.dev || after.ino !== before.ino) return 'replaced by another file';
  if (after.size !== before.size) return `${before.size.toLocaleString('en-US')} bytes, now ${after.size.toLocaleString('en-US')}`;
  if (after.mtimeNs !== before.mtimeNs) return 'modified';
  return undefined;
}

/**
 * The error for an input that holds nothing but white space, whatever the
 * command: no header, no rows. It is almost always a step before that
 * failed (a download, a query, a filter); a table without rows has a header.
 */
export function emptyInput(sources: readonly Source[]): DataError {
  const what = sources.length > 1 ? 'every input is empty' : 'the input is empty';
  return new DataError(`${sources.map((s) => s.name).join(', ')}: ${what} (no header, no rows); did a step before finorm fail?`);
}

/** The format a file name implies (`prices.csv.gz` → csv, `prices.parquet` → parquet), if any. */
export function formatFromName(path: string | undefined): Format | undefined {
  if (path === undefined) return undefined;
  const name = path.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.parquet')) return 'parquet';
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.tsv') || name.endsWith('.tab')) return 'tsv';
  if (name.endsWith('.ndjson') || name.endsWith('.jsonl')) return 'ndjson';
  return undefined;
}

/** Where a source stops being UTF-8: the physical line if known, and the byte found there. */
export interface Utf8Problem {
  line?: number;
  byte?: number;
}

/** The error for a source whose bytes are not UTF-8. */
export function notUtf8(name: string, problem: Utf8Problem = {}): DataError {
  const where = problem.line === undefined ? name : `${name}:${problem.line}`;
  const byte = problem.byte === undefined ? '' : ` (byte 0x${problem.byte.toString(16).toUpperCase().padStart(2, '0')})`;
  return new DataError(`${where}: not valid UTF-8 text${byte}; if it is Latin-1, convert it first: iconv -f latin1 -t utf-8`);
}

/**
 * The offset in `bytes` of the first byte that does not belong to a valid
 * UTF-8 sequence (overlong forms, surrogates and code points above U+10FFFF
 * are invalid, as for TextDecoder), or −1. A sequence cut short by the end
 * is invalid only if `final`.
 */
export function firstInvalidUtf8(bytes: Uint8Array, final: boolean): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    // The sequence's length, and the range its second byte must fall in.
    let length: number;
    let low = 0x80;
    let high = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) length = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      length = 3;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      length = 4;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    for (let k = 1; k < length; k++) {
      if (i + k >= n) return final ? i : -1;
      const c = bytes[i + k];
      if (k === 1 ? c < low || c > high : (c & 0xc0) !== 0x80) return i;
    }
    i += length;
  }
  return -1;
}

