// finorm split: blocks of whole records, each the header and then records,
// at most --block-size bytes, ended by a NUL byte, so that a runner giving
// each job one NUL-ended record (GNU parallel --pipe -N1 --recend '\0'
// --rrs) gives it a table of its own. Records are checked against csv-parse
// (the tokenizer's oracle); the blocks, fitted apart and merged, must give
// the fit of the whole.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { runFinorm } from '../support/cli.js';
import { seededRandom } from '../support/random.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();

const HEADER = 'date,"name, as filed",price,ret\r\n';

/** Quoted line breaks (LF and CRLF), doubled quotes, delimiters in quotes, blank lines, CRLF records, no final line break. */
function awkwardTable(rows: number): string {
  const next = seededRandom(99);
  const lines = [HEADER];
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

  it('cuts blocks of at most --block-size bytes, each the header and whole records, the records in order and unchanged', async () => {
    for (const size of [400, 1500, 100_000]) {
      const r = await runFinorm(['split', '-b', String(size), file]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const blocks = r.stdout.split('\0');
      expect(blocks.pop()).toBe(''); // every block ends with its NUL
      if (size === 100_000) expect(blocks).toHaveLength(1);
      else expect(blocks.length).toBeGreaterThan(size === 400 ? 40 : 10);
      for (const block of blocks) {
        expect(Buffer.byteLength(block) + 1, `block of size ${size}`).toBeLessThanOrEqual(size);
        expect(block.startsWith(HEADER)).toBe(true);
      }
      // Each block alone is a table; together, the input's records (csv-parse's reading) in order.
      const all = records(table);
      const rejoined = blocks.flatMap((block, k) => records(block).slice(k === 0 ? 0 : 1));
      expect(rejoined).toEqual(all);
      // Record bytes unchanged: the blocks without their headers and NULs are the input without its blank lines.
      const bodies = blocks.map((block) => block.slice(HEADER.length)).join('');
      expect(HEADER + bodies).toBe(table.replaceAll('\n\n', '\n') + '\n');
    }
  });

  it('a record longer than the block size is a block alone; --no-header; gzip and TSV in; -o writes the same bytes', async () => {
    const long = `a,b\n1,"${'x'.repeat(500)}"\n2,y\n`;
    const r = await runFinorm(['split', '-b', '100', '-'], { input: long });
    expect(r.stdout.split('\0')).toEqual([`a,b\n1,"${'x'.repeat(500)}"\n`, 'a,b\n2,y\n', '']);
    // 12 bytes: the header and two records would be 13 with the NUL.
    const exact = await runFinorm(['split', '-b', '12', '-'], { input: 'a,b\n1,2\n3,4\n' });
    expect(exact.stdout.split('\0')).toEqual(['a,b\n1,2\n', 'a,b\n3,4\n', '']);
    expect((await runFinorm(['split', '-b', '13', '-'], { input: 'a,b\n1,2\n3,4\n' })).stdout).toBe('a,b\n1,2\n3,4\n\0');
    const noHeader = await runFinorm(['split', '--no-header', '-b', '9', '-'], { input: 'a,b\n1,2\n3,4\n' });
    expect(noHeader.stdout.split('\0')).toEqual(['a,b\n1,2\n', '3,4\n', '']);
    const gz = tmp.file('t.tsv.gz', gzipSync('a\tb\n1\t"2\n3"\n4\t5'));
    const tsv = await runFinorm(['split', '-b', '12', gz]);
    expect(tsv.stdout.split('\0')).toEqual(['a\tb\n1\t"2\n3"\n', 'a\tb\n4\t5\n', '']);
    const out = join(tmp.dir, 'blocks');
    expect((await runFinorm(['split', '-b', '1500', '-o', out, file])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe((await runFinorm(['split', '-b', '1500', file])).stdout);
    // A header alone: no block. Nothing at all: an empty input, exit 1 as for every command.
    for (const input of ['a,b\n', 'a,b']) expect(await runFinorm(['split', '-'], { input })).toMatchObject({ code: 0, stdout: '' });
    expect(await runFinorm(['split', '-'], { input: '' })).toMatchObject({ code: 1, stdout: '' });
  });

  it('blocks fitted apart and merged are the fit of the whole, where blocks cut at line ends break records', async () => {
    const blocks = (await runFinorm(['split', '-b', '2000', file])).stdout.split('\0').slice(0, -1);
    expect(blocks.length).toBeGreaterThan(5);
    const fits = await Promise.all(blocks.map((input) => runFinorm(['fit', '-q', '--partial', '-c', 'price,ret', '-'], { input })));
    for (const f of fits) expect(f.stderr).toBe('');
    const merged = await runFinorm(['merge', '-'], { input: fits.map((f) => f.stdout).join('') });
    expect(merged.stdout).toBe((await runFinorm(['fit', '-c', 'price,ret', file])).stdout);
    // Cut at a line end inside a quoted field instead, as a line splitter would: both halves fail.
    const lines = table.split('\n');
    const cut = lines.findIndex((line, i) => i > 30 && line.endsWith('"Hotels,')) + 1;
    const naive = [lines.slice(0, cut).join('\n') + '\n', [HEADER.trimEnd(), ...lines.slice(cut)].join('\n')];
    const broken = await Promise.all(naive.map((input) => runFinorm(['fit', '-q', '--partial', '-c', 'price,ret', '-'], { input })));
    expect(broken.map((b) => b.code)).toEqual([1, 1]);
  });

  it('names what it cannot cut, and where', async () => {
    const cases: [string[], string, number, RegExp][] = [
      [['split', '-'], 'a,b\n1,2\n3,\0\n', 1, /^finorm: <stdin>:3: a NUL byte, which ends a block/],
      [['split', '-'], 'a,b\n1,"2\n3,4\n', 1, /^finorm: <stdin>:2: unterminated quoted field/],
      [['split', '-'], 'a,b\n1,x"y\n', 1, /^finorm: <stdin>:2: quote inside an unquoted field/],
      [['split', '-'], '{"a":1}\n', 2, /^finorm: <stdin>: NDJSON records are lines/],
      [['split', '-b', '1x', '-'], 'a\n1\n', 2, /^finorm: --block-size: expected a size from 2 bytes to 2G/],
      [['split', file, file], '', 2, /^finorm: give one file to split/],
    ];
    for (const [args, input, code, message] of cases) {
      const r = await runFinorm(args, { input });
      expect(r.stderr, JSON.stringify(input)).toMatch(message);
      expect(r.code).toBe(code);
      expect(r.stdout).toBe('');
    }
  });
});
