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
 * stdin's raw chunks, read once and shared: the single-threaded reader takes
 * them in turn, and the worker-thread path can take over from the start,
 * because the first chunks are kept until it is decided who reads the rest.
 */
class SharedStdin {
  private iterator: AsyncIterator<Buffer> | undefined;
  /** Chunks from the start of stdin, while a replay is still possible. */
  private kept: Buffer[] | undefined = [];
  private keptBytes = 0;
  /** How many of `kept` the single-threaded reader has had. */
  private delivered = 0;
  /** Kept chunks not yet delivered when replay was given up: the single-threaded reader's next. */
  private pendingAfterForget: Buffer[] = [];
  /** A read that readAhead stopped waiting for: the next reader takes its chunk. */
  private waiting: Promise<Buffer | undefined> | undefined;
  private ended = false;

  /** The single-threaded reader's next chunk. */
  async next(): Promise<Buffer | undefined> {
    if (this.kept && this.delivered < this.kept.length) return this.kept[this.delivered++];
    const chunk = await this.pull();
    if (chunk && this.kept) {
      if (this.keptBytes + chunk.length <= STDIN_KEPT_BYTES) {
        this.kept.push(chunk);
        this.keptBytes += chunk.length;
        this.delivered++;
      } else {
        this.kept = undefined;
      }
    }
    return chunk;
  }

  /**
   * Reads ahead (keeping what it reads) until `bytes` are kept, stdin ends, or
   * `waitMs` have passed. True if stdin held that much that soon and can still
   * be replayed: a file piped in does; a slow producer, whose rows should flow
   * through as they come, does not.
   */
  async readAhead(bytes: number, waitMs: number): Promise<boolean> {
    const deadline = Date.now() + waitMs;
    while (this.kept && !this.ended && this.keptBytes < bytes) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      this.waiting ??= this.pull();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), left)));
      const chunk = await Promise.race([this.waiting, timeout]);
      clearTimeout(timer);
      if (chunk === 'timeout') return false;
      this.waiting = undefined;
      if (chunk) {
        this.kept.push(chunk);
        this.keptBytes += chunk.length;
      }
    }
    return this.kept !== undefined && this.keptBytes >= bytes;
  }

  /** No replay will be asked for: the kept chunks not yet delivered are all that stays. */
  forget(): void {
    if (this.kept === undefined) return;
    const pending = this.kept.slice(this.delivered);
    this.kept = undefined;
    this.pendingAfterForget = pending;
  }

  /** Every chunk from the start of stdin, then the rest; the single-threaded reader must not read again. */
  async *replay(): AsyncGenerator<Buffer> {
    const kept = this.kept;
    if (kept === undefined) throw new Error('stdin can no longer be replayed');
    this.kept = undefined;
    yield* kept;
    for (let chunk = await this.pull(); chunk; chunk = await this.pull()) yield chunk;
  }

  private async pull(): Promise<Buffer | undefined> {
    if (this.pendingAfterForget.length > 0) return this.pendingAfterForget.shift();
    if (this.waiting) {
      const waiting = this.waiting;
      this.waiting = undefined;
      return waiting;
    }
    if (this.ended) return undefined;
    this.iterator ??= process.stdin[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const result = await this.iterator.next();
    if (result.done) {
      this.ended = true;
      return undefined;
    }
    bytesRead += result.value.length;
    return result.value;
  }
}

/** What stdin keeps for a replay at most: beyond it, only one thread reads stdin. */
const STDIN_KEPT_BYTES = 8 << 20;

export const sharedStdin = new SharedStdin();

/**
 * The raw chunks of a source, gunzipped when the file name ends in `.gz` or
 * the bytes start with the gzip magic number.
 */
async function* bytesOf(source: Source, tap?: ByteTap): AsyncGenerator<Buffer> {
  yield* gunzipped(source.path === undefined ? stdinChunks(tap) : fileChunks(source.path));
}

/** All of stdin from its first byte, gunzipped if need be: for the worker-thread path. */
export function replayedStdin(): AsyncGenerator<Buffer> {
  return gunzipped(sharedStdin.replay());
}

async function* stdinChunks(tap?: ByteTap): AsyncGenerator<Buffer> {
  for (let chunk = await sharedStdin.next(); chunk; chunk = await sharedStdin.next()) {
    if (tap) await tap(chunk);
    yield chunk;
  }
}

async function* fileChunks(path: string): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(path, { highWaterMark: CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    bytesRead += chunk.length;
    yield chunk;
  }
}

async function* gunzipped(raw: AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  const first = await raw.next();
  if (first.done) return;
  if (!isGzip(first.value)) {
    yield first.value;
    yield* raw;
    return;
  }
  const compressed = Readable.from(
    (async function* () {
      yield first.value;
      yield* raw;
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

/** TextDecoder's error for bytes that are not UTF-8 (it does not say where). */
export function isEncodingError(error: unknown): boolean {
  return error instanceof TypeError && (error as NodeJS.ErrnoException).code === 'ERR_ENCODING_INVALID_ENCODED_DATA';
}

/**
 * The offset in `bytes` of the first byte that does not belong to a valid
 * UTF-8 sequence (overlong forms, surrogates and code points above U+10FFFF
 * are invalid, as for TextDecoder), or −1. A sequence cut short by the end
 * is invalid only if `final`; if `continued`, up to three continuation bytes
 * at the start are taken to end a sequence begun before `bytes`.
 */
export function firstInvalidUtf8(bytes: Uint8Array, final: boolean, continued = false): number {
  const n = bytes.length;
  let i = 0;
  while (continued && i < 3 && i < n && (bytes[i] & 0xc0) === 0x80) i++;
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

/** Line feeds in the first `end` bytes: how many lines further on the byte at `end` is. */
export function countLineFeeds(bytes: Uint8Array, end = bytes.length): number {
  let count = 0;
  for (let i = bytes.indexOf(10); i >= 0 && i < end; i = bytes.indexOf(10, i + 1)) count++;
  return count;
}

/** Where `bytes`, which start on physical line `firstLine`, stop being UTF-8. */
export function utf8ProblemIn(bytes: Uint8Array, firstLine: number): Utf8Problem {
  const at = firstInvalidUtf8(bytes, true);
  if (at < 0) return {};
  return { line: firstLine + countLineFeeds(bytes, at), byte: bytes[at] };
}

/**
 * Where a regular file stops being UTF-8: read again from its start (only on
 * this error path), so that a sequence cut by a chunk boundary is judged whole.
 */
async function utf8ProblemInFile(source: Source): Promise<Utf8Problem> {
  let line = 1;
  let carried = new Uint8Array(0);
  for await (const part of bytesOf(source)) {
    const bytes = carried.length === 0 ? part : Buffer.concat([carried, part]);
    const at = firstInvalidUtf8(bytes, false);
    if (at >= 0) return { line: line + countLineFeeds(bytes, at), byte: bytes[at] };
    // A sequence cut short by the end of the part (at most 3 bytes) is judged with the next part.
    const cut = firstInvalidUtf8(bytes, true);
    const kept = cut < 0 ? bytes.length : cut;
    line += countLineFeeds(bytes, kept);
    carried = bytes.slice(kept);
  }
  return carried.length > 0 ? { line, byte: carried[0] } : {};
}

/**
 * Where a source stops being UTF-8, given the chunk that failed (undefined at
 * the end of the input). A regular file is read again to find the line; stdin
 * or a pipe cannot be, so only the byte is given, as the chunk shows it.
 */
async function utf8ProblemAt(source: Source, chunk: Uint8Array | undefined, continued: boolean): Promise<Utf8Problem> {
  const inChunk = chunk === undefined ? -1 : firstInvalidUtf8(chunk, false, continued);
  const byte = chunk !== undefined && inChunk >= 0 ? chunk[inChunk] : undefined;
  const regular = source.path !== undefined && (await fs.stat(source.path).catch(() => undefined))?.isFile();
  if (!regular) return { byte };
  return utf8ProblemInFile(source).catch(() => ({ byte }));
}

/** The text of a source, decoded as UTF-8 (a leading byte-order mark is dropped). */
export async function* textOf(source: Source, tap?: ByteTap): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  // The chunk being decoded, and whether one came before it: to say where a decoding error is.
  let current: Uint8Array | undefined;
  let continued = false;
  try {
    for await (const chunk of bytesOf(source, tap)) {
      current = chunk;
      const text = decoder.decode(chunk, { stream: true });
      current = undefined;
      continued = true;
      if (text !== '') yield text;
    }
    const rest = decoder.decode();
    if (rest !== '') yield rest;
  } catch (error) {
    if (isEncodingError(error)) throw notUtf8(source.name, await utf8ProblemAt(source, current, continued));
    throw ioErrorFrom(error, 'read', source.name);
  }
}
