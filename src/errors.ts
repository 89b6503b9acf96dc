// Errors are values that carry their exit code. They are thrown where the
// problem is known (with the file, line, column and value in the message) and
// printed exactly once, by main() in cli.ts.

export const ExitCode = {
  ok: 0,
  /** Bad data, unreadable or unwritable files. */
  dataError: 1,
  /** Bad command line: unknown option, bad value, conflicting options. */
  usage: 2,
  /** Rows were skipped (or values made missing) under `--on-error skip` (`null`) and the user asked for `--fail-on-skip`. */
  skippedRows: 3,
  // Ended by a signal (finorm dies of it, after cleaning up): what the shell shows, 128 + the signal's number.
  hangup: 129,
  interrupted: 130,
  terminated: 143,
} as const;

export class FinormError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message);
    this.name = 'FinormError';
    this.exitCode = exitCode;
  }
}

/** The command line is wrong: exit 2. */
export class UsageError extends FinormError {
  constructor(message: string) {
    super(message, ExitCode.usage);
    this.name = 'UsageError';
  }
}

/** Where in the input a problem is. Line numbers are 1-based physical lines. */
export interface InputLocation {
  file: string;
  line: number;
  column?: string;
  value?: string;
  /** `line` counts data rows, not lines (a Parquet file's rows). */
  unit?: 'row';
}

/** The input (or a parameter file) is wrong: exit 1. */
export class DataError extends FinormError {
  readonly location: InputLocation | undefined;
  constructor(message: string, location?: InputLocation) {
    super(location ? `${formatLocation(location)}: ${message}` : message, ExitCode.dataError);
    this.name = 'DataError';
    this.location = location;
  }
}

/** A bad row: a DataError that `--on-error skip` may skip instead of stopping. */
export class RowError extends DataError {
  readonly detail: string;
  constructor(detail: string, location: InputLocation) {
    super(detail, location);
    this.name = 'RowError';
    this.detail = detail;
  }
}

/** A normalized value that overflowed float64, at the value that did. */
export function overflowError(at: InputLocation): DataError {
  return new DataError('the normalized value overflows float64 (is γ, β or ε extreme?)', at);
}

/** Reading or writing a file failed: exit 1. */
export class IoError extends FinormError {
  constructor(message: string) {
    super(message, ExitCode.dataError);
    this.name = 'IoError';
  }
}

export function formatLocation(at: InputLocation): string {
  let text = at.unit === 'row' ? `${at.file}: row ${at.line}` : `${at.file}:${at.line}`;
  if (at.column !== undefined) text += `: column ${JSON.stringify(at.column)}`;
  return text;
}

/** Shows a value from the input in a message: quoted, escaped, and cut if long. */
export function showValue(value: string): string {
  const cut = value.length > 60 ? `${value.slice(0, 57)}...` : value;
  return JSON.stringify(cut);
}

/** Turns a Node system error (ENOENT, EISDIR, EACCES, ENOSPC, ...) into one readable line. */
export function ioErrorFrom(error: unknown, action: string, path: string): FinormError {
  if (error instanceof FinormError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const reasons: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EISDIR: 'is a directory',
    ENOTDIR: 'a parent of it is not a directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    EROFS: 'read-only file system',
    EMFILE: 'too many open files',
    EIO: 'input/output error',
    EFBIG: 'file too large',
    Z_DATA_ERROR: 'not valid gzip data',
    Z_BUF_ERROR: 'gzip data is truncated',
  };
  const reason =
    (code && reasons[code]) ?? (error instanceof Error ? error.message : String(error));
  return new IoError(`cannot ${action} ${path}: ${reason}${code && reasons[code] ? ` (${code})` : ''}`);
}
