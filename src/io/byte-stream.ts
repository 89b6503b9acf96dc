// The bytes of one source, read into buffers the caller owns: a regular file
// straight from its handle, anything else (stdin, a pipe, a FIFO, a gunzip)
// from its stream. Gzip is recognized by its magic bytes and undone on the
// fly; a UTF-8 byte-order mark at the very start is dropped. Nothing here
// knows about records.

import { createReadStream, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ioErrorFrom } from '../errors.js';
import type { Source } from './sources.js';

/** Sees every raw byte read from a source before gunzip (the spool of a two-pass `batch`). */
export type ByteTap = (chunk: Uint8Array) => void | Promise<void>;

let rawBytesRead = 0;

/** Raw bytes read from all sources so far (compressed bytes for gzip): what progress reports. */
export function bytesReadSoFar(): number {
  return rawBytesRead;
}

/** Bytes read by a reader that does not go through a ByteStream (a Parquet file's chunks). */
export function countBytesRead(bytes: number): void {
  rawBytesRead += bytes;
}

const STREAM_CHUNK = 1 << 16;

/** Where bytes come from, before gunzip: a file handle or a stream. */
interface RawBytes {
  /** Reads up to into.length − at bytes; 0 at the end. */
  read(into: Uint8Array, at: number): Promise<number>;
  /** More bytes can be read without waiting (always true for a regular file). */
  readonly ready: boolean;
  /** Resolves true once bytes (or the end) can be read without waiting, false after `ms`. */
  waitReady(ms: number): Promise<boolean>;
  close(): Promise<void>;
}

class FileBytes implements RawBytes {
  readonly ready = true;
  constructor(private readonly handle: FileHandle) {}

  async waitReady(): Promise<boolean> {
    return true;
  }

  async read(into: Uint8Array, at: number): Promise<number> {
    const { bytesRead } = await this.handle.read(into, at, into.length - at, null);
    return bytesRead;
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

/** A Node stream, read chunk by chunk with read() so that "nothing more yet" is visible. */
class StreamBytes implements RawBytes {
  private held: Uint8Array | undefined;
  private ended = false;
  private failure: unknown;

  constructor(private readonly stream: Readable) {
    stream.on('end', () => (this.ended = true));
    stream.on('error', (error) => (this.failure ??= error));
  }

  get ready(): boolean {
    return this.held !== undefined || this.stream.readableLength > 0 || this.ended;
  }

  async waitReady(ms: number): Promise<boolean> {
    if (this.ready || this.failure !== undefined) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
    const result = await Promise.race([this.whenReadable().then(() => true), timeout]);
    clearTimeout(timer);
    return result;
  }

  private whenReadable(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.stream.off('readable', done);
        this.stream.off('end', done);
        this.stream.off('error', done);
        this.stream.off('close', done);
        resolve();
      };
      this.stream.on('readable', done);
      this.stream.on('end', done);
      this.stream.on('error', done);
      this.stream.on('close', done);
    });
  }

  async read(into: Uint8Array, at: number): Promise<number> {
    for (;;) {
      if (this.failure !== undefined) throw this.failure;
      let chunk = this.held;
      this.held = undefined;
      chunk ??= (this.stream.read() as Buffer | null) ?? undefined;
      if (chunk !== undefined) {
        const n = Math.min(chunk.length, into.length - at);
        into.set(chunk.subarray(0, n), at);
        if (n < chunk.length) this.held = chunk.subarray(n);
        return n;
      }
      if (this.ended || this.stream.readableEnded) return 0;
      await this.whenReadable();
      if (this.stream.destroyed && this.stream.readableLength === 0 && !this.ended && this.failure === undefined) return 0;
    }
  }

  async close(): Promise<void> {
    if (this.stream !== process.stdin) this.stream.destroy();
  }
}

/** Counts the raw bytes and shows them to the tap. */
class TappedBytes implements RawBytes {
  constructor(
    private readonly inner: RawBytes,
    private readonly tap: ByteTap | undefined,
  ) {}

  get ready(): boolean {
    return this.inner.ready;
  }

  waitReady(ms: number): Promise<boolean> {
    return this.inner.waitReady(ms);
  }

  async read(into: Uint8Array, at: number): Promise<number> {
    const n = await this.inner.read(into, at);
    rawBytesRead += n;
    if (n > 0 && this.tap) await this.tap(into.subarray(at, at + n));
    return n;
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * A source's bytes, gunzipped if they start with the gzip magic number,
 * without a leading byte-order mark. Errors name the source.
 */
export class ByteStream {
  private pending: Uint8Array | undefined;
  private constructor(
    readonly name: string,
    private readonly raw: RawBytes,
    private readonly closeAll: () => Promise<void>,
  ) {}

  /** Opens a source; `tap` sees its raw bytes (for stdin's spool). */
  static async open(source: Source, tap?: ByteTap): Promise<ByteStream> {
    let raw: RawBytes;
    try {
      if (source.path === undefined) raw = new StreamBytes(process.stdin);
      else {
        const handle = await fs.open(source.path, 'r');
        const stats = await handle.stat();
        if (stats.isFile()) raw = new FileBytes(handle);
        else {
          // A FIFO or a pipe given as a file (<(producer)): read as a stream.
          const stream = createReadStream('', { fd: handle.fd, autoClose: false, highWaterMark: STREAM_CHUNK });
          raw = new StreamBytes(stream);
          const inner = raw;
          raw = {
            read: (into, at) => inner.read(into, at),
            get ready() {
              return inner.ready;
            },
            waitReady: (ms) => inner.waitReady(ms),
            close: async () => {
              await inner.close();
              await handle.close();
            },
          };
        }
      }
    } catch (error) {
      throw ioErrorFrom(error, 'read', source.name);
    }
    const tapped = new TappedBytes(raw, tap);
    const head = new Uint8Array(STREAM_CHUNK);
    let n: number;
    try {
      n = await tapped.read(head, 0);
      // A short first read of a stream: wait for three bytes to tell gzip or a byte-order mark.
      while (n > 0 && n < 3) {
        const more = await tapped.read(head, n);
        if (more === 0) break;
        n += more;
      }
    } catch (error) {
      await tapped.close().catch(() => undefined);
      throw ioErrorFrom(error, 'read', source.name);
    }
    const first = head.subarray(0, n);
    if (n >= 2 && first[0] === 0x1f && first[1] === 0x8b) return ByteStream.gunzipped(source.name, tapped, first);
    const stream = new ByteStream(source.name, tapped, () => tapped.close());
    stream.pending = stripBom(first);
    return stream;
  }

  private static gunzipped(name: string, raw: RawBytes, first: Uint8Array): ByteStream {
    const gunzip = createGunzip({ chunkSize: STREAM_CHUNK });
    const pump = async (): Promise<void> => {
      try {
        if (!gunzip.write(first)) await new Promise((resolve) => gunzip.once('drain', resolve));
        const buffer = new Uint8Array(STREAM_CHUNK);
        for (;;) {
          const n = await raw.read(buffer, 0);
          if (n === 0) break;
          if (!gunzip.write(buffer.slice(0, n))) await new Promise((resolve) => gunzip.once('drain', resolve));
          if (gunzip.destroyed) return;
        }
        gunzip.end();
      } catch (error) {
        gunzip.destroy(error as Error);
      }
    };
    void pump();
    const inflated = new StreamBytes(gunzip);
    let atStart = true;
    const bytes: RawBytes = {
      read: async (into, at) => {
        const n = await inflated.read(into, at);
        if (atStart && n > 0) {
          atStart = false;
          // A byte-order mark inside the gzip stream is dropped too.
          if (n >= 3 && into[at] === 0xef && into[at + 1] === 0xbb && into[at + 2] === 0xbf) {
            into.copyWithin(at, at + 3, at + n);
            return n - 3 === 0 ? bytes.read(into, at) : n - 3;
          }
        }
        return n;
      },
      get ready() {
        return inflated.ready;
      },
      waitReady: (ms) => inflated.waitReady(ms),
      close: async () => {
        gunzip.destroy();
        await raw.close();
      },
    };
    return new ByteStream(name, bytes, () => bytes.close());
  }

  /**
   * The first byte that is not ASCII whitespace (reading as far as needed,
   * nothing consumed), or undefined if the source holds whitespace only.
   */
  async firstNonBlank(): Promise<number | undefined> {
    for (let from = 0; ; ) {
      const pending = this.pending ?? new Uint8Array(0);
      for (let i = from; i < pending.length; i++) {
        const b = pending[i];
        if (b !== 32 && (b < 9 || b > 13)) return b;
      }
      from = pending.length;
      if (!(await this.readMore())) return undefined;
    }
  }

  /**
   * The first line that is not blank, without its line end, reading as far
   * as needed but no further than `max` bytes (nothing consumed): what the
   * delimiter is sniffed from. Undefined if the source is whitespace only.
   */
  async firstLine(max = 1 << 16): Promise<Uint8Array | undefined> {
    if ((await this.firstNonBlank()) === undefined) return undefined;
    for (;;) {
      const pending = this.pending as Uint8Array;
      let start = 0;
      while (start < pending.length && (pending[start] === 32 || (pending[start] >= 9 && pending[start] <= 13))) start++;
      const lf = pending.indexOf(10, start);
      if (lf >= 0) return pending.subarray(start, lf > start && pending[lf - 1] === 13 ? lf - 1 : lf);
      if (pending.length - start >= max || !(await this.readMore())) return pending.subarray(start, Math.min(pending.length, start + max));
    }
  }

  /** Appends the source's next bytes to `pending`; false at its end. */
  private async readMore(): Promise<boolean> {
    const pending = this.pending ?? new Uint8Array(0);
    const more = new Uint8Array(Math.max(STREAM_CHUNK, pending.length));
    let n: number;
    try {
      n = await this.raw.read(more, 0);
    } catch (error) {
      throw ioErrorFrom(error, 'read', this.name);
    }
    if (n === 0) return false;
    const joined = new Uint8Array(pending.length + n);
    joined.set(pending);
    joined.set(more.subarray(0, n), pending.length);
    this.pending = joined;
    return true;
  }

  /** The first `n` bytes (fewer if the source is shorter), nothing consumed. */
  async head(n: number): Promise<Uint8Array> {
    while ((this.pending?.length ?? 0) < n && (await this.readMore()));
    return (this.pending ?? new Uint8Array(0)).subarray(0, n);
  }

  /** More bytes can be had without waiting for a producer. */
  get ready(): boolean {
    return this.pending !== undefined || this.raw.ready;
  }

  /** Resolves true once bytes can be had without waiting, false after `ms`. */
  waitReady(ms: number): Promise<boolean> {
    return this.pending !== undefined ? Promise.resolve(true) : this.raw.waitReady(ms);
  }

  /** Reads up to into.length − at bytes at `at`; 0 at the end of the source. */
  async read(into: Uint8Array, at: number): Promise<number> {
    const pending = this.pending;
    if (pending !== undefined) {
      const n = Math.min(pending.length, into.length - at);
      into.set(pending.subarray(0, n), at);
      this.pending = n < pending.length ? pending.subarray(n) : undefined;
      return n;
    }
    try {
      return await this.raw.read(into, at);
    } catch (error) {
      throw ioErrorFrom(error, 'read', this.name);
    }
  }

  close(): Promise<void> {
    return this.closeAll().catch(() => undefined);
  }
}

function stripBom(bytes: Uint8Array): Uint8Array | undefined {
  const start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  return bytes.length > start ? bytes.subarray(start) : undefined;
}
