// A file written in full or not at all: the text goes to a temporary file in
// the same directory, which is renamed over the target only on success. After
// any failure the previous file is untouched and the temporary file is gone.

import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ioErrorFrom } from '../errors.js';
import { drained } from './drain.js';
import { registerTempFile, unregisterTempFile } from './temp-files.js';

export class AtomicFile {
  readonly path: string;
  private readonly tempPath: string;
  private readonly handle: FileHandle;
  private readonly stream: WriteStream;
  private failure: unknown;

  private constructor(path: string, tempPath: string, handle: FileHandle) {
    this.path = path;
    this.tempPath = tempPath;
    this.handle = handle;
    const stream = createWriteStream('', { fd: handle.fd, autoClose: false, highWaterMark: 1 << 20 });
    this.stream = stream;
    stream.on('error', (error) => {
      this.failure ??= error;
    });
  }

  /** Creates the temporary file now, so that an unwritable target fails before any work. */
  static async open(path: string): Promise<AtomicFile> {
    const tempPath = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    registerTempFile(tempPath);
    let handle;
    try {
      handle = await fs.open(tempPath, 'wx', 0o666);
    } catch (error) {
      unregisterTempFile(tempPath);
      throw ioErrorFrom(error, 'write', path);
    }
    return new AtomicFile(path, tempPath, handle);
  }

  /** Writes text; resolves when the stream has room for more (back-pressure); `written` as OutputSink's. */
  async write(text: string | Uint8Array, written?: () => void): Promise<void> {
    this.check();
    if (!this.stream.write(text, written)) {
      await drained(this.stream);
      this.check();
    }
  }

  /** Flushes, syncs and renames the temporary file over the target. */
  async commit(): Promise<void> {
    this.check();
    try {
      await new Promise<void>((resolve, reject) => {
        this.stream.once('error', reject);
        this.stream.end(() => resolve());
      });
      this.check();
      await this.handle.sync();
      await this.handle.close();
      await fs.rename(this.tempPath, this.path);
      unregisterTempFile(this.tempPath);
    } catch (error) {
      await this.abort();
      throw ioErrorFrom(error, 'write', this.path);
    }
  }

  /** Discards the temporary file. */
  async abort(): Promise<void> {
    this.stream.destroy();
    await this.handle.close().catch(() => undefined);
    await fs.rm(this.tempPath, { force: true }).catch(() => undefined);
    unregisterTempFile(this.tempPath);
  }

  private check(): void {
    if (this.failure !== undefined) throw ioErrorFrom(this.failure, 'write', this.path);
  }
}

/** Writes a whole text file atomically (a device such as /dev/stdout in place). */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const { openOutput } = await import('./output.js');
  const file = await openOutput(path);
  try {
    await file.write(text);
  } catch (error) {
    await file.abort();
    throw error;
  }
  await file.commit();
}
