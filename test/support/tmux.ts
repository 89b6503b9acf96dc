// A real terminal of a chosen width: runs a shell command in a detached tmux
// session and returns the screen as the user would see it (tmux draws what
// the escape codes, carriage returns and wrapping do; capture-pane reads it).
// Each call has a tmux server of its own, so tests never meet another tmux.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './cli.js';

export const hasTmux = spawnSync('tmux', ['-V']).status === 0;

let sessions = 0;

/**
 * The screen (and the lines scrolled off it) after `command` ran in a
 * `width` × `height` terminal, lines that wrapped joined again: a line longer
 * than `width` is one the terminal had to wrap.
 */
export async function onScreen(
  command: string,
  options: { width: number; height?: number; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<string> {
  const { width, height = 50, timeoutMs = 60_000 } = options;
  const dir = mkdtempSync(join(tmpdir(), 'finorm-tmux-'));
  const socket = `finorm-test-${process.pid}-${++sessions}`;
  const done = join(dir, 'done');
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', CI: '', TERM: 'xterm', ...options.env };
  delete env.COLUMNS;
  delete env.LINES;
  delete env.TMUX;
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', socket, '-f', '/dev/null', ...args], { env, encoding: 'utf8' });
  try {
    // The command, then a mark that it ended; the shell stays so that the pane (and its screen) stays.
    const script = `cd ${JSON.stringify(REPO)} && { ${command}; }; touch ${JSON.stringify(done)}; exec sleep 600`;
    const started = tmux('new-session', '-d', '-x', String(width), '-y', String(height), 'sh', '-c', script);
    if (started.status !== 0) throw new Error(`tmux new-session failed: ${started.stderr}`);
    const deadline = Date.now() + timeoutMs;
    while (!existsSync(done)) {
      if (Date.now() > deadline) throw new Error(`timed out: ${command}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // -S -: from the start of the history, so that lines scrolled off the screen count too; -J: wrapped lines joined.
    const captured = tmux('capture-pane', '-p', '-J', '-S', '-', '-t', '0');
    if (captured.status !== 0) throw new Error(`tmux capture-pane failed: ${captured.stderr}`);
    return captured.stdout.replace(/\n+$/, '\n');
  } finally {
    tmux('kill-server');
    rmSync(dir, { recursive: true, force: true });
  }
}
