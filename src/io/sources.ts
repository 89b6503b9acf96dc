// Where input bytes come from: files (plain or gzip) or stdin, decoded as UTF-8.

import { createReadStream, promises as fs, constants as fsConstants } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DataError, UsageError, ioErrorFrom } from '../errors.js';

export type Format = 'csv' | 'tsv' | 'ndjson';

export interface Source {
  /** The path as the user gave it, or undefined for stdin. */
  path: string | undefined;
  /** How messages name it. */
  name: string;
}

export const STDIN_NAME = '<stdin>';

const CHUNK_BYTES = 1 << 16;

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

/** The format a file name implies (`prices.csv.gz` → csv), if any. */
export function formatFromName(path: string | undefined): Format | undefined {
  if (path === undefined) return undefined;
  const name = path.toLowerCase().replace(/\.gz$/, '');
  if (name.endsWith('.csv')) return 'csv';
  if (name.endsWith('.tsv') || name.endsWith('.tab')) return 'tsv';
  if (name.endsWith('.ndjson') || name.endsWith('.jsonl')) return 'ndjson';
  return undefined;
}

/** The format the first non-blank character implies: `{` → NDJSON, anything else → CSV. */
export function formatFromText(text: string): Format | undefined {
  const match = /[^\s\ufeff]/.exec(text);
  if (!match) return undefined;
  return match[0] === '{' ? 'ndjson' : 'csv';
}

function isGzip(chunk: Buffer): boolean {
  return chunk.length >= 2 && chunk[0] === 0x1f && chunk[1] === 0x8b;
}

export interface ByteTap {
  /** Sees every raw byte read from stdin (before gunzip): the spool of `batch`. */
  (chunk: Buffer): void | Promise<void>;
}

let bytesRead = 0;

/** Raw bytes read from all sources so far (compressed bytes for .gz): what progress reports. */
export function bytesReadSoFar(): number {
  return bytesRead;
}

/**
 * The raw chunks of a source, gunzipped when the file name ends in `.gz` or
 * the bytes start with the gzip magic number.
 */
export async function* bytesOf(source: Source, tap?: ByteTap): AsyncGenerator<Buffer> {
  const raw: Readable =
    source.path === undefined ? process.stdin : createReadStream(source.path, { highWaterMark: CHUNK_BYTES });
  const chunks = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const next = async (): Promise<IteratorResult<Buffer>> => {
    const result = await chunks.next();
    if (result.done) return result;
    bytesRead += result.value.length;
    if (tap) await tap(result.value);
    return result;
  };
  const first = await next();
  if (first.done) return;
  if (!isGzip(first.value)) {
    yield first.value;
    for (let r = await next(); !r.done; r = await next()) yield r.value;
    return;
  }
  const compressed = Readable.from(
    (async function* () {
      yield first.value;
      for (let r = await next(); !r.done; r = await next()) yield r.value;
    })(),
  );
  const gunzip = createGunzip({ chunkSize: CHUNK_BYTES });
  compressed.on('error', (error) => gunzip.destroy(error));
  compressed.pipe(gunzip);
  yield* gunzip as AsyncIterable<Buffer>;
}

/**
 * The raw bytes of a file, gunzipped like bytesOf, for readers that copy each
 * chunk at once: a plain file is read into one reused buffer, so a chunk is
 * valid only until the next is asked for.
 */
export async function* reusedChunksOf(source: Source & { path: string }): AsyncGenerator<Uint8Array> {
  let handle;
  try {
    handle = await fs.open(source.path, 'r');
    const buffer = Buffer.allocUnsafeSlow(CHUNK_BYTES * 4);
    let first = true;
    for (;;) {
      const { bytesRead: n } = await handle.read(buffer, 0, buffer.length, null);
      if (n === 0) return;
      if (first && isGzip(buffer.subarray(0, n))) break;
      first = false;
      bytesRead += n;
      yield buffer.subarray(0, n);
    }
  } catch (error) {
    throw ioErrorFrom(error, 'read', source.name);
  } finally {
    await handle?.close();
  }
  try {
    yield* bytesOf(source);
  } catch (error) {
    throw ioErrorFrom(error, 'read', source.name);
  }
}

/** The error for a source whose bytes are not UTF-8. */
export function notUtf8(name: string): DataError {
  return new DataError(`${name}: not valid UTF-8 text (if it is Latin-1, convert it first: iconv -f latin1 -t utf-8)`);
}

/** The text of a source, decoded as UTF-8 (a leading byte-order mark is dropped). */
export async function* textOf(source: Source, tap?: ByteTap): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  try {
    for await (const chunk of bytesOf(source, tap)) {
      const text = decoder.decode(chunk, { stream: true });
      if (text !== '') yield text;
    }
    const rest = decoder.decode();
    if (rest !== '') yield rest;
  } catch (error) {
    if (error instanceof TypeError && (error as NodeJS.ErrnoException).code === 'ERR_ENCODING_INVALID_ENCODED_DATA') {
      throw notUtf8(source.name);
    }
    throw ioErrorFrom(error, 'read', source.name);
  }
}
