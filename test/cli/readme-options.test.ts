// The README's option reference is generated from the option table
// (scripts/docs.mjs): this fails when someone changes an option without
// regenerating it, and checks that the check itself can fail.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();
const README = `${REPO}/README.md`;

function checkDocs(file?: string): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, ['scripts/docs.mjs', '--check', ...(file ? [file] : [])], { cwd: REPO, encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

describe('README option reference', () => {
  it('is in sync with the option table (run `node scripts/docs.mjs` to update it)', () => {
    const r = checkDocs();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it('lists every long option of every command', async () => {
    const { loadCommands } = await import('../../src/cli.js');
    const readme = readFileSync(README, 'utf8');
    const reference = readme.slice(readme.indexOf('<!-- options:begin -->'), readme.indexOf('<!-- options:end -->'));
    for (const command of await loadCommands()) {
      for (const option of Object.values(command.options)) {
        expect(reference, `${command.name} ${option.flags}`).toContain(`\`${option.flags.replaceAll('|', '\\|')}\``);
      }
    }
  });

  it('fails when the reference is out of date', () => {
    const stale = readFileSync(README, 'utf8').replace('ε added to the variance inside the square root', 'ε (stale text)');
    const r = checkDocs(tmp.file('README-stale.md', stale));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('the option reference is out of date; run: node scripts/docs.mjs');
  });
});
