// A file written in full or not at all: the text goes to a temporary file in
// the same directory, which is renamed over the target only on success. After
// any failure the previous file is untouched and the temporary file is gone.
// The target is the file the user meant: a symbolic link is written through
// (its target replaced, the link kept, as `sed -i --follow-symlinks` does),
// and a replaced file keeps its mode and, where permitted, its owner (as
// `install` and rsync do); a new file follows the umask.

import { randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { ioErrorFrom } from '../errors.js';
import { drained } from './drain.js';
import { registerTempFile, unregisterTempFile } from './temp-files.js';

export class AtomicFile {
  /** As the user named it (for messages). */
  readonly path: string;
  /** The file replaced: `path`, or what its symbolic links lead to. */
  private readonly target: string;
  private readonly tempPath: string;
  private readonly handle: FileHandle;
  private readonly stream: WriteStream;
  private failure: unknown;

  private constructor(path: string, target: string, tempPath: string, handle: FileHandle) {
    this.path = path;
    this.target = target;
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
    let target: string;
    try {
      target = await linkTarget(path);
    } catch (error) {
      throw ioErrorFrom(error, 'write', path);
    }
    const tempPath = join(dirname(target), temporaryName(basename(target)));
    registerTempFile(tempPath);
    let handle;
    try {
      handle = await fs.open(tempPath, 'wx', 0o666);
      const replaced = await fs.stat(target).catch(() => undefined);
      if (replaced !== undefined) {
        await handle.chmod(replaced.mode & 0o7777);
        // Only root may give a file away; anyone may keep their own group.
        await handle.chown(replaced.uid, replaced.gid).catch(() => undefined);
      }
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await fs.rm(tempPath, { force: true }).catch(() => undefined);
      unregisterTempFile(tempPath);
      throw ioErrorFrom(error, 'write', path);
    }
    return new AtomicFile(path, target, tempPath, handle);
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
      await fs.rename(this.tempPath, this.target);
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

/** Links followed: a file that would be made by symlinks of more hops than this is refused (ELOOP, as the system does). */
const MAX_LINK_HOPS = 40;

/**
 * The file a write to `path` must replace: `path` itself, or, through any
 * chain of symbolic links, the file the last one names (which need not exist
 * yet: a dangling link makes its target).
 */
async function linkTarget(path: string): Promise<string> {
  let current = resolve(path);
  for (let hop = 0; hop < MAX_LINK_HOPS; hop++) {
    const info = await fs.lstat(current).catch(() => undefined);
    if (info === undefined || !info.isSymbolicLink()) return current;
    current = resolve(dirname(current), await fs.readlink(current));
  }
  throw Object.assign(new Error('too many symbolic links'), { code: 'ELOOP' });
}

/** Longest file name most file systems take, in bytes. */
const NAME_MAX = 255;

/**
 * `.NAME.PID.RANDOM.tmp`, beside the target, with NAME cut (at a character
 * boundary) so that the whole stays within NAME_MAX bytes: a target whose
 * own name is near the limit must still be writable.
 */
export function temporaryName(name: string): string {
  const suffix = `.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let kept = name;
  const room = NAME_MAX - 1 - suffix.length;
  while (Buffer.byteLength(kept) > room) kept = [...kept].slice(0, -1).join('');
  return `.${kept}${suffix}`;
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
