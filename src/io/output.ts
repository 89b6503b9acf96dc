// Where output text goes: stdout, or a file written atomically.

import { promises as fs, type WriteStream } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { FinormError, UsageError, ioErrorFrom } from '../errors.js';
import { AtomicFile } from './atomic-file.js';
import { ParquetAssembler } from './parquet/writer.js';
import { drained } from './drain.js';
import type { Source } from './sources.js';

export interface OutputSink {
  /**
   * Resolves when the sink can take more (back-pressure). `written`, if
   * given, is called once the sink no longer holds the bytes (they have gone
   * to the system, or failed to), so that their buffer can be used again; if
   * the write is refused at once (the sink has already failed), never.
   */
  write(text: string | Uint8Array, written?: () => void): Promise<void>;
  /** Success: flush (and for a file, rename it into place). */
  commit(): Promise<void>;
  /** Failure: discard what a file sink has written. */
  abort(): Promise<void>;
}

/**
 * Thrown when stdout's reader has gone away (`finorm ... | head -1`): the
 * run stops at once and exits 0 without a message, as Unix filters do.
 */
export class BrokenPipe extends FinormError {
  constructor() {
    super('', 0);
    this.name = 'BrokenPipe';
  }
}

export async function openOutput(path: string | undefined): Promise<OutputSink> {
  if (path === undefined) return new StdoutSink();
  if (await isSpecialFile(path)) return DeviceSink.open(path);
  return AtomicFile.open(path);
}

/**
 * An existing target that is not a regular file (/dev/null, /dev/stderr, a
 * named pipe) is written in place: renaming a temporary file over it would
 * replace the device itself.
 */
export async function isSpecialFile(path: string): Promise<boolean> {
  const stats = await fs.stat(path).catch(() => undefined);
  return stats !== undefined && !stats.isFile() && !stats.isDirectory();
}

class DeviceSink implements OutputSink {
  private failure: unknown;

  private constructor(
    private readonly path: string,
    private readonly stream: WriteStream,
  ) {
    stream.on('error', (error) => {
      this.failure ??= error;
    });
  }

  static async open(path: string): Promise<DeviceSink> {
    try {
      const handle = await fs.open(path, 'w');
      return new DeviceSink(path, handle.createWriteStream());
    } catch (error) {
      throw ioErrorFrom(error, 'write', path);
    }
  }

  async write(text: string | Uint8Array, written?: () => void): Promise<void> {
    this.check();
    if (!this.stream.write(text, written)) await drained(this.stream);
    this.check();
  }

  async commit(): Promise<void> {
    this.check();
    await new Promise<void>((done) => {
      this.stream.once('error', () => done());
      this.stream.once('close', () => done());
      this.stream.end();
    });
    this.check();
  }

  async abort(): Promise<void> {
    this.stream.destroy();
  }

  private check(): void {
    if (this.failure !== undefined) throw ioErrorFrom(this.failure, 'write', this.path);
  }
}

class StdoutSink implements OutputSink {
  private broken = false;
  private failure: unknown;

  constructor() {
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') this.broken = true;
      else this.failure ??= error;
    });
  }

  async write(text: string | Uint8Array, written?: () => void): Promise<void> {
    this.check();
    if (process.stdout.write(text, written)) return;
    await drained(process.stdout);
    this.check();
  }

  async commit(): Promise<void> {
    this.check();
    await new Promise<void>((done) => process.stdout.write('', () => done()));
    this.check();
  }

  async abort(): Promise<void> {}

  private check(): void {
    if (this.broken) throw new BrokenPipe();
    if (this.failure !== undefined) throw ioErrorFrom(this.failure, 'write', 'stdout');
  }
}

/** A file read by the run besides its data: `--params` (what messages call it). */
export interface ReadFile {
  option: string;
  path: string;
}

/**
 * Refuses, before anything is read or written, an output file that is one of
 * the inputs or the parameter file read (it would be truncated while being
 * read, or a fit replaced by a table), a directory, or a file that another
 * output option names too (one would silently replace the other; a device
 * such as /dev/null may take several). "The same file" is the same device and
 * inode, so that `..`, symbolic links and hard links cannot hide it.
 */
export async function checkOutputTargets(
  outputs: readonly { option: string; path: string | undefined }[],
  sources: readonly Source[],
  readFiles: readonly ReadFile[] = [],
): Promise<void> {
  const read = new Map<string, string>();
  for (const source of sources) {
    const id = source.path === undefined ? undefined : await fileIdentity(source.path);
    if (id !== undefined) read.set(id, 'also an input');
  }
  for (const file of readFiles) {
    const id = file.path === '-' ? undefined : await fileIdentity(file.path);
    if (id !== undefined) read.set(id, `the ${file.option} file`);
  }
  const written = new Map<string, string>();
  for (const { option, path } of outputs) {
    if (path === undefined) continue;
    const id = await fileIdentity(path);
    const reading = id === undefined ? undefined : read.get(id);
    if (reading !== undefined) {
      throw new UsageError(`${option} ${path} is ${reading}; write to another file and rename it afterwards`);
    }
    const stats = await fs.stat(path).catch(() => undefined);
    if (stats?.isDirectory()) throw ioErrorFrom({ code: 'EISDIR' }, 'write', path);
    if (stats === undefined) await checkParentDirectory(path);
    const target = id ?? (await canonical(path));
    const other = written.get(target);
    if (other !== undefined && !(await isSpecialFile(path))) {
      throw new UsageError(`${other} and ${option} name the same file, ${path}; give each its own file`);
    }
    written.set(target, option);
  }
}

/** Device and inode of an existing regular file (through symbolic links); undefined for anything else. */
async function fileIdentity(path: string): Promise<string | undefined> {
  const stats = await fs.stat(path, { bigint: true }).catch(() => undefined);
  return stats?.isFile() ? `${stats.dev}:${stats.ino}` : undefined;
}

/**
 * A new file needs an existing directory: checked up front, so that a
 * --save-params or --stats file written last cannot fail on it after -o has
 * already been renamed into place.
 */
async function checkParentDirectory(path: string): Promise<void> {
  const parent = dirname(resolve(path));
  const stats = await fs.stat(parent).catch((error: unknown) => {
    throw ioErrorFrom(error, 'write', path);
  });
  if (!stats.isDirectory()) throw ioErrorFrom({ code: 'ENOTDIR' }, 'write', path);
}

async function canonical(path: string): Promise<string> {
  try {
    return await fs.realpath(path);
  } catch {
    return resolve(path);
  }
}

/**
 * A table's output: the header, written with the first rows (or at the end
 * if there are none), then rendered rows as they come.
 */
export class TableOutput {
  private started = false;

  private constructor(
    private readonly sink: OutputSink,
    private readonly header: Uint8Array,
    private readonly parquet: ParquetAssembler | undefined,
  ) {}

  /**
   * Opens stdout (no path) or an atomic file; `header` is the header line's
   * bytes (may be empty). Parquet: `parquet` assembles the pieces' pages into
   * row groups and writes the footer at the end.
   */
  static async open(path: string | undefined, header: Uint8Array, parquet?: ParquetAssembler): Promise<TableOutput> {
    return new TableOutput(await openOutput(path), parquet ? ParquetAssembler.magic() : header, parquet);
  }

  /**
   * Writes rendered rows (Parquet: pages, with their page table); `written`
   * is called once their buffer may be used again (as OutputSink.write's).
   */
  async write(bytes: Uint8Array, written: () => void, pages?: Float64Array): Promise<void> {
    if (this.parquet !== undefined) {
      const parquet = this.parquet;
      const sets = pages === undefined ? 0 : parquet.sets(pages);
      let at = 0;
      for (let s = 0; s < sets; s++) {
        const { next, group } = parquet.add(bytes, pages as Float64Array, s, at);
        at = next;
        if (group !== undefined) await this.writeGroup(group);
      }
      written();
      return;
    }
    if (bytes.length === 0) {
      written();
      return;
    }
    await this.start();
    await this.sink.write(bytes, written);
  }

  /**
   * A Parquet row group's column chunks (or the end of the file), written
   * out before it returns: the assembler fills their buffers again next.
   */
  private async writeGroup(chunks: Uint8Array[]): Promise<void> {
    await this.start();
    const last = chunks.length - 1;
    for (let i = 0; i < last; i++) await this.sink.write(chunks[i]);
    let flushed: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (flushed = resolve));
    await this.sink.write(chunks[last], flushed);
    await done;
  }

  private async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.header.length > 0) await this.sink.write(this.header);
  }

  /** Flushes and commits the output (Parquet: after the last row group and the footer). */
  async close(): Promise<void> {
    await this.start();
    if (this.parquet !== undefined) await this.writeGroup(this.parquet.finish());
    await this.sink.commit();
  }

  abort(): Promise<void> {
    return this.sink.abort();
  }
}
