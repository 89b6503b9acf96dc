// The spool of two-pass commands: stdin, a named pipe or a `<(producer)`
// cannot be read twice, so the first pass copies its raw bytes to a temporary
// file that the later passes read. The file is registered for removal on any
// exit, including signals.

import { randomBytes } from 'node:crypto';
import { promises as fs, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ioErrorFrom } from '../errors.js';
import { drained } from './drain.js';
import type { ByteTap } from './byte-stream.js';
import { registerTempFile, unregisterTempFile } from './temp-files.js';

export class Spool {
  readonly path: string;
  private readonly stream: WriteStream;
  private failure: unknown;

  private constructor(
    path: string,
    stream: WriteStream,
    /** The source spooled, as messages name it. */
    private readonly name: string,
  ) {
    this.path = path;
    this.stream = stream;
    stream.on('error', (error) => {
      this.failure ??= error;
    });
  }

  /** Creates the spool file of the source `name` in $TMPDIR (or the system's temporary directory). */
  static async create(name: string): Promise<Spool> {
    const path = join(tmpdir(), `finorm-spool-${process.pid}-${randomBytes(4).toString('hex')}.spool`);
    registerTempFile(path);
    try {
      const handle = await fs.open(path, 'wx', 0o600);
      // The stream owns the handle: a bare fd taken from it would be closed
      // under the stream's feet when the handle is garbage-collected.
      return new Spool(path, handle.createWriteStream({ highWaterMark: 1 << 20 }), name);
    } catch (error) {
      unregisterTempFile(path);
      throw ioErrorFrom(error, `create the spool file of ${name}`, path);
    }
  }

  /**
   * Copies each chunk read from the source, waiting when the disk is slower than
   * the input. The chunk is copied: it is a view into a piece's buffer, which
   * is reused or transferred to a worker (and so detached) before a queued
   * write reaches the disk.
   */
  readonly tap: ByteTap = async (chunk) => {
    this.check();
    if (!this.stream.write(Buffer.from(chunk))) await drained(this.stream);
    this.check();
  };

  /** Flushes and closes the spool once the first pass has read all of the source. */
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
    if (this.failure !== undefined) throw ioErrorFrom(this.failure, `write the spool file of ${this.name}`, this.path);
  }
}
