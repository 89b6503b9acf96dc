// The stdin spool of two-pass commands: stdin cannot be read twice, so the
// first pass copies its raw bytes to a temporary file that the second pass
// reads. The file is registered for removal on any exit, including signals.

import { randomBytes } from 'node:crypto';
import { promises as fs, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ioErrorFrom } from '../errors.js';
import { drained } from './drain.js';
import type { ByteTap } from './byte-stream.js';
import { registerTempFile, unregisterTempFile } from './temp-files.js';

export class StdinSpool {
  readonly path: string;
  private readonly stream: WriteStream;
  private failure: unknown;

  private constructor(path: string, stream: WriteStream) {
    this.path = path;
    this.stream = stream;
    stream.on('error', (error) => {
      this.failure ??= error;
    });
  }

  /** Creates the spool file in $TMPDIR (or the system's temporary directory). */
  static async create(): Promise<StdinSpool> {
    const path = join(tmpdir(), `finorm-stdin-${process.pid}-${randomBytes(4).toString('hex')}.spool`);
    registerTempFile(path);
    try {
      const handle = await fs.open(path, 'wx', 0o600);
      // The stream owns the handle: a bare fd taken from it would be closed
      // under the stream's feet when the handle is garbage-collected.
      return new StdinSpool(path, handle.createWriteStream({ highWaterMark: 1 << 20 }));
    } catch (error) {
      unregisterTempFile(path);
      throw ioErrorFrom(error, 'create the stdin spool file', path);
    }
  }

  /**
   * Copies each chunk read from stdin, waiting when the disk is slower than
   * the input. The chunk is copied: it is a view into a piece's buffer, which
   * is reused or transferred to a worker (and so detached) before a queued
   * write reaches the disk.
   */
  readonly tap: ByteTap = async (chunk) => {
    this.check();
    if (!this.stream.write(Buffer.from(chunk))) await drained(this.stream);
    this.check();
  };

  /** Flushes and closes the spool once the first pass has read all of stdin. */
  async finish(): Promise<void> {
    await new Promise<void>((resolve) => this.stream.end(resolve));
    this.check();
  }

  async remove(): Promise<void> {
    this.stream.destroy();
    await fs.rm(this.path, { force: true }).catch(() => undefined);
    unregisterTempFile(this.path);
  }

  private check(): void {
    if (this.failure !== undefined) throw ioErrorFrom(this.failure, 'write the stdin spool file', this.path);
  }
}
