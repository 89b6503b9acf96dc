// Files keep their owner's intent: -o writes through a symbolic link, keeps a
// replaced file's mode, takes any valid file name; no output may be a file the
// run reads (its input or its --params file, however it is named); stdin is
// read once; two-pass batch reads a named pipe or a <(producer) once (it
// spools it) and stops when an input file changes between its passes.

import { execFileSync, spawn } from 'node:child_process';
import {
  appendFileSync as append,
  chmodSync as chmod,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, runFinorm } from '../support/cli.js';
import { tempDir } from '../support/temp.js';
import { waitFor } from '../support/wait.js';

const tmp = tempDir();
const table = 'date,a,b\n2024-01-02,1,2\n2024-01-03,3,5\n2024-01-04,4,1\n';
const input = tmp.file('in.csv', table);

/** A fresh directory for one test. */
function dirFor(name: string): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  return dir;
}

describe('-o replaces the file the user meant, as it was', () => {
  it('through a symbolic link: the target gets the output, the link stays a link', async () => {
    const dir = dirFor('symlink');
    writeFileSync(join(dir, 'real.csv'), 'old\n');
    symlinkSync('real.csv', join(dir, 'link.csv'));
    const r = await runFinorm(['layer', '-o', join(dir, 'link.csv'), input]);
    expect(r.code).toBe(0);
    expect(lstatSync(join(dir, 'link.csv')).isSymbolicLink()).toBe(true);
    const direct = await runFinorm(['layer', input]);
    expect(readFileSync(join(dir, 'real.csv'), 'utf8')).toBe(direct.stdout);
    expect(readdirSync(dir).sort()).toEqual(['link.csv', 'real.csv']);
  });

  it('through a chain of links, and a dangling link makes its target', async () => {
    const dir = dirFor('chain');
    mkdirSync(join(dir, 'data'));
    symlinkSync('data/new.csv', join(dir, 'first.csv'));
    symlinkSync('first.csv', join(dir, 'second.csv'));
    const r = await runFinorm(['layer', '-o', join(dir, 'second.csv'), input]);
    expect(r.code).toBe(0);
    expect(lstatSync(join(dir, 'second.csv')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(dir, 'first.csv')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, 'data', 'new.csv'), 'utf8')).toMatch(/^date,a,b\n/);
  });

  it('keeps the mode of the file it replaces; a new file follows the umask', async () => {
    const dir = dirFor('mode');
    const kept = join(dir, 'private.csv');
    writeFileSync(kept, 'old\n');
    chmod(kept, 0o600);
    expect((await runFinorm(['layer', '-o', kept, input])).code).toBe(0);
    expect(statSync(kept).mode & 0o777).toBe(0o600);
    expect(readFileSync(kept, 'utf8')).toMatch(/^date,a,b\n/);

    const fresh = join(dir, 'fresh.csv');
    const r = await new Promise<number | null>((resolve) => {
      // umask 027: a new file is 640 (0o666 & ~0o027).
      const child = spawn('sh', ['-c', `umask 027 && exec "${process.execPath}" "${BIN}" layer -o "${fresh}" "${input}"`]);
      child.on('close', resolve);
    });
    expect(r).toBe(0);
    expect(statSync(fresh).mode & 0o777).toBe(0o640);
  });

  it('takes a file name of 245 characters (the temporary name is shortened, not the target)', async () => {
    const dir = dirFor('long-name');
    const name = `${'n'.repeat(241)}.csv`;
    const r = await runFinorm(['layer', '-o', join(dir, name), input]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readdirSync(dir)).toEqual([name]);
  });
});

describe('no output is a file the run reads', () => {
  const fitted = async (dir: string): Promise<string> => {
    const params = join(dir, 'params.json');
    expect((await runFinorm(['fit', '-o', params, input])).code).toBe(0);
    return params;
  };

  const cases: { name: string; args: (params: string, dir: string) => string[]; option: string }[] = [
    { name: '-o is the --params file', args: (p) => ['batch', '--params', p, '-o', p, input], option: '--output' },
    { name: '--stats is the --params file', args: (p) => ['batch', '--params', p, '--stats', p, input], option: '--stats' },
    { name: 'layer --stats is its --params file', args: (p) => ['layer', '--params', p, '--stats', p, input], option: '--stats' },
    {
      name: '-o is a hard link of the --params file',
      args: (p, dir) => {
        linkSync(p, join(dir, 'hard.json'));
        return ['batch', '--params', p, '-o', join(dir, 'hard.json'), input];
      },
      option: '--output',
    },
    {
      name: '-o is a symbolic link to the --params file',
      args: (p, dir) => {
        symlinkSync(p, join(dir, 'soft.json'));
        return ['batch', '--params', join(dir, 'soft.json'), '-o', p, input];
      },
      option: '--output',
    },
    { name: '-o names the --params file through ..', args: (p, dir) => ['batch', '--params', p, '-o', join(dir, '..', 'files-params-dotdot', 'params.json'), input], option: '--output' },
  ];
  for (const c of cases) {
    it(`${c.name}: exit 2, the parameter file kept`, async () => {
      const dir = dirFor(c.name === '-o names the --params file through ..' ? 'files-params-dotdot' : c.name.replace(/\W+/g, '-'));
      const params = await fitted(dir);
      const before = readFileSync(params, 'utf8');
      const r = await runFinorm(c.args(params, dir));
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^finorm: ${c.option} .* is the --params file; write to another file`));
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(readFileSync(params, 'utf8')).toBe(before);
    });
  }

  it('-o that is a hard link of the input: exit 2, the input kept', async () => {
    const dir = dirFor('input-hard-link');
    const data = join(dir, 'data.csv');
    writeFileSync(data, table);
    linkSync(data, join(dir, 'alias.csv'));
    const r = await runFinorm(['layer', '-o', join(dir, 'alias.csv'), data]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/is also an input/);
    expect(readFileSync(data, 'utf8')).toBe(table);
  });

  it('stdin read twice (--params - and the input on stdin): exit 2, one line', async () => {
    const r = await runFinorm(['batch', '--params', '-', '-'], { input: table });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('finorm: stdin (-) can be read only once: --params - and the input both read it; give one of them as a file\n');
  });
});

describe('two-pass batch on inputs that cannot be read twice', () => {
  const expected = async (): Promise<string> => (await runFinorm(['batch', input])).stdout;

  it('a named pipe given as a file is spooled, not read twice (it would wait for a second writer)', async () => {
    const dir = dirFor('fifo-input');
    const fifo = join(dir, 'in.fifo');
    execFileSync('mkfifo', [fifo]);
    const writer = spawn('sh', ['-c', `cat "${input}" > "${fifo}"`]);
    const r = await runFinorm(['batch', fifo]);
    writer.kill();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(await expected());
  });

  it('a <(producer) given as a file is spooled', async () => {
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn('bash', ['-c', `"${process.execPath}" "${BIN}" batch <(cat "${input}")`]);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(await expected());
  });
});

describe('two-pass batch stops when an input file changes between its passes', () => {
  const rows = (from: number, count: number): string =>
    Array.from({ length: count }, (_, i) => `2024-01-01,${from + i},${(from + i) % 7}\n`).join('');

  it('a file appended to during the first pass: exit 1, the -o file not written', async () => {
    const dir = dirFor('grows');
    const growing = join(dir, 'growing.csv');
    writeFileSync(growing, `date,a,b\n${rows(0, 100)}`);
    const fifo = join(dir, 'more.fifo');
    execFileSync('mkfifo', [fifo]);
    const out = join(dir, 'out.csv');
    // The first pass reads growing.csv to its end, then opens the pipe: once it has, the file is appended to.
    const child = spawn(process.execPath, [BIN, 'batch', '-o', out, growing, fifo], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    const pipe = await open(fifo, 'w');
    append(growing, rows(100, 50));
    await pipe.writeFile(`date,a,b\n${rows(200, 10)}`);
    await pipe.close();
    expect(await closed).toBe(1);
    expect(stderr).toMatch(new RegExp(`^finorm: ${growing.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} changed during the run \\(.*\\): the statistics of the first pass would not describe the rows of the next`));
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(readdirSync(dir).sort()).toEqual(['growing.csv', 'more.fifo']);
  });

  it('a file cut short during the second pass: exit 1, named as changed', async () => {
    const dir = dirFor('shrinks');
    const shrinking = join(dir, 'shrinking.csv');
    writeFileSync(shrinking, `date,a,b\n${rows(0, 400_000)}`);
    // stdout is not read until the file is cut: the second pass waits on a full pipe meanwhile.
    const child = spawn(process.execPath, [BIN, 'batch', '--threads', '1', shrinking], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    let firstOutput = false;
    child.stdout.once('readable', () => (firstOutput = true));
    await waitFor(() => firstOutput, 'the first rows of the second pass', 60_000);
    child.stdout.pause();
    truncateSync(shrinking, 1000);
    child.stdout.resume();
    child.stdout.on('data', () => undefined);
    expect(await closed).toBe(1);
    expect(stderr).toMatch(/shrinking\.csv changed during the run \(/);
    expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
