// finorm split: a NUL byte after every record, where the CSV engine says it
// ends, so that a splitter cutting at NULs (GNU parallel --pipe --recend '\0'
// --rrs) cuts whole records. Records are checked against csv-parse (the
// tokenizer's oracle); blocks cut at the marks, fitted apart and merged, must
// give the fit of the whole.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { BIN, runFinorm } from '../support/cli.js';
import { seededRandom } from '../support/random.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();

/** Quoted line breaks (LF and CRLF), doubled quotes, delimiters in quotes, blank lines, CRLF records, no final line break. */
function awkwardTable(rows: number): string {
  const next = seededRandom(99);
  const lines = ['date,"name, as filed",price,ret\r\n'];
  for (let i = 0; i < rows; i++) {
    const name = i % 3 === 0 ? `"Hotels,\nResorts ""${i}""\r\nand Cruises"` : i % 3 === 1 ? `N${i}` : '""';
    lines.push(`2024-01-${String((i % 28) + 1).padStart(2, '0')},${name},${(100 + next() * 50).toFixed(2)},${((next() - 0.5) / 10).toPrecision(5)}${i % 5 === 0 ? '\r\n' : '\n'}`);
    if (i % 11 === 0) lines.push('\n');
  }
  return lines.join('').replace(/\n$/, '');
}

const records = (text: string): string[][] => parse(text, { skip_empty_lines: true, record_delimiter: ['\r\n', '\n'] }) as string[][];

describe('finorm split', () => {
  const table = awkwardTable(400);
  const file = tmp.file('awkward.csv', table);

  it('passes every byte on and puts a NUL after each record, where csv-parse says records end', async () => {
    const r = await runFinorm(['split', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.replaceAll('\0', '')).toBe(table);
    const pieces = r.stdout.split('\0');
    expect(pieces.at(-1)).toBe(''); // the last record is marked too
    const expected = records(table);
    const marked = pieces.slice(0, -1).map((piece) => records(piece));
    expect(marked.every((rs) => rs.length === 1)).toBe(true);
    expect(marked.map((rs) => rs[0])).toEqual(expected);
  });

  it('--header-file: the header there (written before any record goes out), the marked records on stdout; gzip in', async () => {
    const headerFile = join(tmp.dir, 'header.csv');
    const gz = tmp.file('awkward.csv.gz', gzipSync(table));
    const { stdout, headerSeenFirst } = await new Promise<{ stdout: string; headerSeenFirst: boolean }>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, 'split', '--header-file', headerFile, gz], { stdio: ['ignore', 'pipe', 'inherit'] });
      const chunks: Buffer[] = [];
      let headerSeenFirst: boolean | undefined;
      child.stdout.on('data', (chunk: Buffer) => {
        headerSeenFirst ??= existsSync(headerFile);
        chunks.push(chunk);
      });
      child.on('error', reject);
      child.on('close', (code) => (code === 0 ? resolve({ stdout: Buffer.concat(chunks).toString(), headerSeenFirst: headerSeenFirst === true }) : reject(new Error(`exit ${code}`))));
    });
    expect(headerSeenFirst).toBe(true);
    expect(readFileSync(headerFile, 'utf8')).toBe('date,"name, as filed",price,ret\r\n');
    expect(readFileSync(headerFile, 'utf8') + stdout.replaceAll('\0', '')).toBe(table);
    expect(stdout.split('\0').length - 1).toBe(records(table).length - 1);
    const out = join(tmp.dir, 'records');
    expect((await runFinorm(['split', '--header-file', headerFile, '-o', out, file])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(stdout);
  });

  it('blocks cut at the marks, each under the header, fit and merge into the fit of the whole (parallel --recend \\0 --rrs)', async () => {
    const headerFile = join(tmp.dir, 'h.csv');
    const marked = (await runFinorm(['split', '--header-file', headerFile, file])).stdout;
    const header = readFileSync(headerFile, 'utf8');
    // Blocks of at least `size` bytes, ending after a NUL, NULs removed, as GNU parallel cuts them.
    const next = seededRandom(5);
    const blocks: string[] = [];
    for (let at = 0; at < marked.length; ) {
      const end = marked.indexOf('\0', at + 200 + Math.floor(next() * 3000));
      const stop = end < 0 ? marked.length : end + 1;
      blocks.push(header + marked.slice(at, stop).replaceAll('\0', ''));
      at = stop;
    }
    expect(blocks.length).toBeGreaterThan(5);
    const fits = await Promise.all(blocks.map((input) => runFinorm(['fit', '-q', '--partial', '-c', 'price,ret', '-'], { input })));
    for (const f of fits) expect(f.stderr).toBe('');
    const merged = await runFinorm(['merge', '-'], { input: fits.map((f) => f.stdout).join('') });
    expect(merged.stdout).toBe((await runFinorm(['fit', '-c', 'price,ret', file])).stdout);
    // Cut at line ends instead (what --recend '\n' would do), some block breaks a quoted record and fails.
    const lineCut = table.split('\n');
    const naive = [lineCut.slice(0, 40).join('\n') + '\n', [lineCut[0], ...lineCut.slice(40)].join('\n')];
    const broken = await Promise.all(naive.map((input) => runFinorm(['fit', '-q', '--partial', '-c', 'price,ret', '-'], { input })));
    expect(broken.map((b) => b.code)).toContain(1);
  });

  it('names what it cannot mark, and where', async () => {
    const cases: [string[], string, number, RegExp][] = [
      [['split', '-'], 'a,b\n1,2\n3,\0\n', 1, /^finorm: <stdin>:3: a NUL byte, which marks where records end/],
      [['split', '-'], 'a,b\n1,"2\n3,4\n', 1, /^finorm: <stdin>:2: unterminated quoted field/],
      [['split', '-'], 'a,b\n1,x"y\n', 1, /^finorm: <stdin>:2: quote inside an unquoted field/],
      [['split', '-'], '{"a":1}\n', 2, /^finorm: <stdin>: NDJSON records are lines already/],
      [['split', '--header-file', join(tmp.dir, 'never.csv'), '-'], '', 1, /^finorm: <stdin>: no records, not even a header\n$/],
      [['split', file, file], '', 2, /^finorm: give one file to split/],
    ];
    for (const [args, input, code, message] of cases) {
      const r = await runFinorm(args, { input });
      expect(r.stderr, JSON.stringify(input)).toMatch(message);
      expect(r.code).toBe(code);
    }
    expect(existsSync(join(tmp.dir, 'never.csv'))).toBe(false);
    // Without --header-file an empty input is nothing to mark.
    expect(await runFinorm(['split', '-'], { input: '' })).toMatchObject({ code: 0, stdout: '' });
    // TSV, and a header alone, ended with a line break in its file.
    const tsv = await runFinorm(['split', '-f', 'tsv', '--header-file', join(tmp.dir, 'tsv-header'), '-'], { input: 'a\tb' });
    expect([tsv.code, tsv.stdout, readFileSync(join(tmp.dir, 'tsv-header'), 'utf8')]).toEqual([0, '', 'a\tb\n']);
  });
});
