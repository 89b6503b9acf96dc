// finorm completion bash|zsh: the scripts parse, and bash's offers the
// commands, options and option values of the option table.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runFinorm } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();
const hasZsh = spawnSync('zsh', ['-c', 'true']).status === 0;

/** What bash's completion offers for the words typed so far (the last one being completed). */
function bashCompletes(script: string, words: string[]): string[] {
  const file = tmp.file(`completion-${Math.random().toString(36).slice(2)}.bash`, script);
  const program = [
    `source ${JSON.stringify(file)}`,
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    '_finorm',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const r = spawnSync('bash', ['--norc', '-c', program], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.split('\n').filter((line) => line !== '');
}

describe('finorm completion bash', () => {
  it('is a valid bash script that completes commands, options and values', async () => {
    const r = await runFinorm(['completion', 'bash']);
    expect(r.code).toBe(0);
    expect(spawnSync('bash', ['-n'], { input: r.stdout }).status).toBe(0);
    expect(bashCompletes(r.stdout, ['finorm', 'st'])).toEqual(['stats']);
    expect(bashCompletes(r.stdout, ['finorm', 'layer', '--eps'])).toEqual(['--epsilon']);
    expect(bashCompletes(r.stdout, ['finorm', 'batch', '--group'])).toEqual(['--group-by']);
    expect(bashCompletes(r.stdout, ['finorm', 'layer', '--hist'])).toEqual(['--histogram']);
    expect(bashCompletes(r.stdout, ['finorm', 'layer', '--format', '']).sort()).toEqual(['csv', 'ndjson', 'parquet', 'tsv']);
    expect(bashCompletes(r.stdout, ['finorm', 'stats', '--color', 'a']).sort()).toEqual(['always', 'auto']);
    // A value that is not a file and has no choices: nothing to offer.
    expect(bashCompletes(r.stdout, ['finorm', 'layer', '--epsilon', ''])).toEqual([]);
  });
});

describe('finorm completion zsh', () => {
  it('names every command and option', async () => {
    const r = await runFinorm(['completion', 'zsh']);
    expect(r.code).toBe(0);
    expect(r.stdout.startsWith('#compdef finorm\n')).toBe(true);
    for (const word of ["'layer:", "'merge:", '--epsilon', '--group-by', '--histogram', ':value:(csv tsv ndjson parquet)']) expect(r.stdout).toContain(word);
  });

  it.skipIf(!hasZsh)('parses in zsh', async () => {
    const r = await runFinorm(['completion', 'zsh']);
    expect(spawnSync('zsh', ['-n'], { input: r.stdout }).status).toBe(0);
  });
});

describe('finorm completion with another shell', () => {
  it('is a usage error', async () => {
    const r = await runFinorm(['completion', 'fish']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('finorm: completion: expected bash or zsh, got "fish"\n');
  });
});
