// Temporary files that must not outlive the process: atomic-output files
// before their rename, and the stdin spool of two-pass commands. The signal
// handlers in cli.ts remove whatever is still registered.

import { rmSync } from 'node:fs';

const live = new Set<string>();

export function registerTempFile(path: string): void {
  live.add(path);
}

export function unregisterTempFile(path: string): void {
  live.delete(path);
}

/** Removes every registered temporary file; safe to call from a signal handler. */
export function removeTempFilesSync(): void {
  for (const path of live) {
    try {
      rmSync(path, { force: true });
    } catch {
      // Nothing more can be done on the way out.
    }
  }
  live.clear();
}
