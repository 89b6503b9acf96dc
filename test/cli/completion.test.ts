// finorm completion bash|zsh: the scripts parse, and bash's offers the
// commands, options and option values of the option table.

import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BIN, runFinorm } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();
const hasZsh = spawnSync('zsh', ['-c', 'true']).status === 0;

/** A directory with `finorm` on the PATH as a user has it: what the completion script calls for column names. */
mkdirSync(join(tmp.dir, 'bin'));
mkdirSync(join(tmp.dir, 'names'));
const shim = tmp.file('bin/finorm', `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} "$@"\n`);
chmodSync(shim, 0o755);

/** What bash's completion offers for the words typed so far (the cursor on word `cword`, by default the last), run in `cwd`. */
function bashCompletes(script: string, words: string[], options: { cword?: number; cwd?: string } = {}): string[] {
  const file = tmp.file(`completion-${Math.random().toString(36).slice(2)}.bash`, script);
  const quoted = (w: string): string => `'${w.replaceAll("'", "'\\''")}'`;
  const program = [
    `source ${JSON.stringify(file)}`,
    `COMP_WORDS=(${words.map(quoted).join(' ')})`,
    `COMP_CWORD=${options.cword ?? words.length - 1}`,
    '_finorm',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const r = spawnSync('bash', ['--norc', '-c', program], {
    encoding: 'utf8',
    cwd: options.cwd,
    env: { ...process.env, PATH: `${dirname(shim)}:${process.env.PATH}` },
  });
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

describe('bash completion of file and column names', () => {
  const dir = dirname(tmp.file('names/my prices.csv', 'date,Price,52 Week Low,"Hotels, Resorts",Price/Sales\n2024-01-02,1,2,3,4\n'));
  tmp.file('names/other.csv', 'x\n1\n');
  let script = '';
  const complete = async (words: string[], cword?: number): Promise<string[]> => {
    script ||= (await runFinorm(['completion', 'bash'])).stdout;
    return bashCompletes(script, words, { cwd: dir, ...(cword === undefined ? {} : { cword }) });
  };

  it('keeps a file name with spaces one word, begun plainly, with a backslash or in quotes', async () => {
    expect(await complete(['finorm', 'stats', 'my'])).toEqual(['my prices.csv']);
    expect(await complete(['finorm', 'layer', 'my\\ p'])).toEqual(['my prices.csv']);
    expect(await complete(['finorm', 'batch', '"my p'])).toEqual(['my prices.csv']);
    expect(await complete(['finorm', 'batch', '-o', 'my'])).toEqual(['my prices.csv']);
  });

  it('offers the header of the file on the line for -c, -x, -g, --select and --order-by, escaped for the shell', async () => {
    const all = ['date', 'Price', '52\\ Week\\ Low', '\\"Hotels,\\ Resorts\\"', 'Price/Sales'];
    // The file after the option being completed, and before it (as a backslashed or quoted word).
    expect(await complete(['finorm', 'stats', '-c', '', 'my\\ prices.csv'], 3)).toEqual(all);
    expect(await complete(['finorm', 'batch', "'my prices.csv'", '-x', '52'])).toEqual(['52\\ Week\\ Low']);
    expect(await complete(['finorm', 'batch', '-o', 'other.csv', '-g', 'H', 'my\\ prices.csv'], 5)).toEqual(['\\"Hotels,\\ Resorts\\"']);
    expect(await complete(['finorm', 'layer', 'my\\ prices.csv', '--select', 'da'])).toEqual(['date']);
    expect(await complete(['finorm', 'batch', 'my\\ prices.csv', '--order-by', 'd'])).toEqual(['date']);
  });

  it('completes the last name of a list, keeping the names before it', async () => {
    expect(await complete(['finorm', 'batch', 'my\\ prices.csv', '-c', 'date,P'])).toEqual(['date,Price', 'date,Price/Sales']);
  });

  it('offers nothing while no input file is on the line', async () => {
    expect(await complete(['finorm', 'batch', '-c', 'P'])).toEqual([]);
  });

  it('finorm completion columns FILE prints the column names, one a line', async () => {
    const r = await runFinorm(['completion', 'columns', `${dir}/my prices.csv`]);
    expect(r).toMatchObject({ code: 0, stdout: 'date\nPrice\n52 Week Low\nHotels, Resorts\nPrice/Sales\n' });
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
