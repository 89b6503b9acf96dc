// Hostile input stays data: NDJSON keys named like object members, values
// nested without end, lone empty fields, delimiters nobody named, whitespace
// that is not a space, records without end. Each is read as what it is, or
// refused in one line naming where; never a crash, never output that does
// not read back as the same table.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { runFinorm } from '../support/cli.js';
import { tempDir } from '../support/temp.js';

const tmp = tempDir();
let statsFiles = 0;
/** A fresh path for --stats, and its JSON once the run is over. */
function statsFile(): { path: string; read: () => Record<string, unknown> } {
  const path = join(tmp.dir, `stats-${statsFiles++}.json`);
  return { path, read: () => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> };
}

function expectOneLine(stderr: string): void {
  expect(stderr.trimEnd().split('\n'), stderr).toHaveLength(1);
  expect(stderr).toMatch(/^finorm: /);
  expect(stderr).not.toMatch(/internal error|^\s+at /m);
}

const ndjsonLines = (text: string): Record<string, unknown>[] =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('NDJSON keys are data, never members of an object', () => {
  // Every name an object inherits: a record without such a key must not read the member.
  const names = Object.getOwnPropertyNames(Object.prototype);

  it('covers the names that matter', () => {
    expect(names).toEqual(expect.arrayContaining(['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty']));
  });

  for (const name of names) {
    it(`${JSON.stringify(name)} as a pass-through key, present, absent and null, reads back as written`, async () => {
      const records = [{ x: 1, [name]: 'a' }, { x: 2 }, { x: 4, [name]: null }, { x: 8, [name]: 7 }];
      // JSON.stringify of an object literal would turn __proto__ into a prototype: write the lines by hand.
      const input = [`{"x":1,${JSON.stringify(name)}:"a"}`, '{"x":2}', `{"x":4,${JSON.stringify(name)}:null}`, `{"x":8,${JSON.stringify(name)}:7}`].join('\n') + '\n';
      const r = await runFinorm(['batch', '-c', 'x', '-f', 'ndjson'], { input });
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = r.stdout.trimEnd().split('\n');
      expect(out).toHaveLength(records.length);
      for (const [i, line] of out.entries()) {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        const own = Object.hasOwn(parsed, name);
        expect(own, line).toBe(i !== 1);
        if (i === 0) expect(parsed[name]).toBe('a');
        if (i === 2) expect(parsed[name]).toBe(null);
        if (i === 3) expect(parsed[name]).toBe(7);
      }
    });

    it(`${JSON.stringify(name)} as a feature normalizes as any other name does`, async () => {
      const lines = (key: string): string =>
        [`{${JSON.stringify(key)}:1,"y":2}`, '{"y":3}', `{${JSON.stringify(key)}:5,"y":1}`, `{${JSON.stringify(key)}:6,"y":7}`].join('\n') + '\n';
      const plain = await runFinorm(['batch', '-f', 'ndjson'], { input: lines('k') });
      const named = await runFinorm(['batch', '-f', 'ndjson'], { input: lines(name) });
      expect(named.stderr).toBe('');
      expect(named.code).toBe(0);
      expect(named.stdout).toBe(plain.stdout.replaceAll('"k"', JSON.stringify(name)));
    });
  }

  it('CSV columns named like members are written to NDJSON as keys', async () => {
    const r = await runFinorm(['batch', '-c', 'x', '--output-format', 'ndjson'], { input: 'x,__proto__,toString,constructor\n1,a,,c\n3,,b,\n' });
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trimEnd().split('\n');
    expect(rows[0]).toBe('{"x":-0.9999950000374997,"__proto__":"a","toString":null,"constructor":"c"}');
    expect(Object.keys(JSON.parse(rows[1]) as object)).toEqual(['x', '__proto__', 'toString', 'constructor']);
  });
});

describe('NDJSON values nested without end are bad rows, found without recursion', () => {
  const nested = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);
  const input = (levels: number): string => `{"x":1,"v":0}\n{"x":2,"v":${nested(levels)}}\n{"x":4,"v":1}\n`;

  it('64 levels are kept and written back as they were', async () => {
    const r = await runFinorm(['layer', '-c', 'x', '-f', 'ndjson'], { input: input(64) });
    expect(r.code, r.stderr).toBe(0);
    expect(ndjsonLines(r.stdout)[1].v).toEqual(JSON.parse(nested(64)));
  });

  for (const levels of [65, 100_000]) {
    it(`${levels.toLocaleString('en-US')} levels: exit 1 naming the line, or skipped under --on-error skip`, async () => {
      const stopped = await runFinorm(['layer', '-c', 'x', '-f', 'ndjson'], { input: input(levels) });
      expect(stopped.code).toBe(1);
      expectOneLine(stopped.stderr);
      expect(stopped.stderr).toBe('finorm: <stdin>:2: column "v": the value is nested more than 64 levels deep\n');
      const skipped = await runFinorm(['layer', '-q', '-c', 'x', '-f', 'ndjson', '--on-error', 'skip'], { input: input(levels) });
      expect(skipped.code).toBe(0);
      expect(ndjsonLines(skipped.stdout).map((row) => row.v)).toEqual([0, 1]);
    });
  }
});

describe('a lone empty field is written so that it reads back as a record', () => {
  for (const format of ['csv', 'tsv'] as const) {
    it(`one column, ${format.toUpperCase()} output: the empty value is "" and every record reads back`, async () => {
      const r = await runFinorm(['batch', '--output-format', format], { input: 'a\n1\n""\n3\n' });
      expect(r.code, r.stderr).toBe(0);
      const back = parseCsv(r.stdout, { delimiter: format === 'tsv' ? '\t' : ',', skip_empty_lines: true }) as string[][];
      expect(back).toHaveLength(4);
      expect(back[2]).toEqual(['']);
    });
  }

  it('NDJSON null in a one-column table, written as CSV', async () => {
    const r = await runFinorm(['batch', '-c', 'x', '--select', 'note', '--output-format', 'csv', '-f', 'ndjson'], {
      input: '{"x":1,"note":"a"}\n{"x":2,"note":null}\n{"x":3}\n',
    });
    expect(r.code, r.stderr).toBe(0);
    expect(parseCsv(r.stdout, { skip_empty_lines: true })).toEqual([['note'], ['a'], [''], ['']]);
  });
});

describe('the delimiter, when nothing names it, is sniffed from the header line', () => {
  const cases: { name: string; input: string; delimiter: string }[] = [
    { name: 'tab', input: 'a\tb\tnote\n1\t2\tx,y\n3\t5\tz\n', delimiter: '\t' },
    { name: 'semicolon', input: 'a;b;"c;d"\n1;2;x,y\n3;5;z\n', delimiter: ';' },
    { name: 'pipe', input: 'a|b|c\n1|2|x\n3|5|z\n', delimiter: '|' },
    { name: 'tab, with commas inside quotes in the header', input: '"a,1"\t"b,2"\tnote\n1\t2\tx\n3\t5\tz\n', delimiter: '\t' },
  ];
  for (const c of cases) {
    it(`${c.name} on stdin: read as such, written back with it, and said in --stats`, async () => {
      const named = await runFinorm(['layer', '-d', c.delimiter === '\t' ? 'tab' : c.delimiter], { input: c.input });
      const stats = statsFile();
      const sniffed = await runFinorm(['layer', '--stats', stats.path], { input: c.input });
      expect(sniffed.code, sniffed.stderr).toBe(0);
      expect(sniffed.stdout).toBe(named.stdout);
      const header = (text: string): string[] => (parseCsv(text, { delimiter: c.delimiter }) as string[][])[0];
      expect(header(named.stdout)).toEqual(header(c.input));
      expect(stats.read().delimiterSniffed).toEqual({ source: '<stdin>', delimiter: c.delimiter });
    });
  }

  it('a comma header is read as CSV and nothing is said', async () => {
    const stats = statsFile();
    const r = await runFinorm(['layer', '--stats', stats.path], { input: 'a,b\n1,2\n' });
    expect(r.code).toBe(0);
    expect(stats.read()).not.toHaveProperty('delimiterSniffed');
  });

  it('an extension or -f decides, not the header', async () => {
    const r = await runFinorm(['layer', '-f', 'csv', '-c', '1'], { input: 'a\tb\n1\t2\n' });
    expect(r.code).toBe(1); // one column, "1\t2", is not a number
    expect(r.stderr).toMatch(/value "1\\t2"/);
  });
});

describe('the output format asked for is the one written', () => {
  it('--output-format csv on TSV input writes commas and quotes fields that hold them', async () => {
    const r = await runFinorm(['layer', '--output-format', 'csv', '-f', 'tsv'], { input: 'a\tb\tnote\n1\t2\tx,y\n3\t5\tz\n' });
    expect(r.code, r.stderr).toBe(0);
    expect((parseCsv(r.stdout) as string[][]).map((row) => row[2])).toEqual(['note', 'x,y', 'z']);
  });

  it('--output-format csv on semicolon input (-d ";") writes commas; without it, semicolons stay', async () => {
    const input = 'a;b;note\n1;2;x,y\n3;5;z\n';
    const asked = await runFinorm(['layer', '-d', ';', '--output-format', 'csv'], { input });
    expect(asked.code, asked.stderr).toBe(0);
    expect((parseCsv(asked.stdout) as string[][]).map((row) => row[2])).toEqual(['note', 'x,y', 'z']);
    const kept = await runFinorm(['layer', '-d', ';'], { input });
    expect(kept.stdout.split('\n')[0]).toBe('a;b;note');
  });
});

describe('whitespace around a number', () => {
  it('spaces are read; a tab is named as what it is, not as a number beyond range', async () => {
    expect((await runFinorm(['layer', '-c', 'x'], { input: 'x\n1\n 5 \n' })).code).toBe(0);
    const r = await runFinorm(['layer', '-c', 'x'], { input: 'x\n1\n\t5\n' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('finorm: <stdin>:3: column "x": value "\\t5" holds whitespace other than spaces (a tab, a line break); finorm reads spaces around a number only\n');
  });
});

describe('a record without end is refused at a documented size, naming where it starts', () => {
  it('/dev/zero: one line, exit 1, at once', async () => {
    const r = await runFinorm(['layer', '/dev/zero']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('finorm: /dev/zero:1: a record longer than 64 MiB, the longest finorm reads: it has no line end (is the input a text table?)\n');
  });

  it('a quote that never closes, on stdin', async () => {
    const input = Buffer.concat([Buffer.from('a,b\n1,2\n3,"x'), Buffer.alloc(70 << 20, 'y')]);
    const r = await runFinorm(['layer', '-c', 'a'], { input });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('finorm: <stdin>:3: a record longer than 64 MiB, the longest finorm reads: a quoted field in it never closes (an unbalanced quote?)\n');
  });

  it('NDJSON without line ends', async () => {
    const input = Buffer.concat([Buffer.from('{"x":1}\n{"x":"'), Buffer.alloc(70 << 20, 'y')]);
    const r = await runFinorm(['layer', '-f', 'ndjson', '-c', 'x'], { input });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('finorm: <stdin>:2: a record longer than 64 MiB, the longest finorm reads: it has no line end (is the input a text table?)\n');
  });
});

describe('text that is not UTF-8 on stdin is named with its line', () => {
  it('early (the main thread) and late (a worker), plain and gzipped', async () => {
    const { gzipSync } = await import('node:zlib');
    const rows = Array.from({ length: 300_000 }, (_, i) => `${i},${i * 2}`).join('\n');
    const bad = Buffer.concat([Buffer.from(`a,b\n${rows}\n3,`), Buffer.from([0xe9]), Buffer.from('\n')]);
    const line = 300_002;
    for (const input of [bad, gzipSync(bad), Buffer.from('a,b\n1,2\n3,\xe9\n', 'latin1')]) {
      const r = await runFinorm(['layer', '-q'], { input });
      expect(r.code).toBe(1);
      const at = input.length < 100 ? 3 : line;
      expect(r.stderr).toBe(`finorm: <stdin>:${at}: not valid UTF-8 text (byte 0xE9); if it is Latin-1, convert it first: iconv -f latin1 -t utf-8\n`);
    }
  });
});

describe('one rule for an empty input, whatever the command', () => {
  const commands: string[][] = [
    ['layer'],
    ['layer', '-c', 'a', '--no-header'],
    ['batch'],
    ['batch', '--window', '3', '-c', 'a'],
    ['batch', '--params', 'PARAMS'],
    ['fit'],
    ['fit', '--partial', '-c', 'a'],
    ['stats'],
    ['split'],
  ];

  it('no bytes, or white space only: exit 1 with one line, nothing written', async () => {
    const params = join(tmp.dir, 'empty-rule.fit.json');
    expect((await runFinorm(['fit', '-o', params], { input: 'a,b\n1,2\n3,5\n' })).code).toBe(0);
    for (const args of commands) {
      for (const input of ['', '\n \n\t\r\n']) {
        const r = await runFinorm(args.map((a) => (a === 'PARAMS' ? params : a)), { input });
        expect(r.code, `${args.join(' ')} on ${JSON.stringify(input)}`).toBe(1);
        expect(r.stdout).toBe('');
        expect(r.stderr).toBe('finorm: <stdin>: the input is empty (no header, no rows); did a step before finorm fail?\n');
      }
    }
  });

  it('files: named, and only when every one is empty', async () => {
    const empty = join(tmp.dir, 'empty.csv');
    const blank = join(tmp.dir, 'blank.csv');
    const table = join(tmp.dir, 'table.csv');
    writeFileSync(empty, '');
    writeFileSync(blank, '\n\n');
    writeFileSync(table, 'a,b\n1,2\n3,5\n');
    const both = await runFinorm(['layer', empty, blank]);
    expect(both.code).toBe(1);
    expect(both.stderr).toBe(`finorm: ${empty}, ${blank}: every input is empty (no header, no rows); did a step before finorm fail?\n`);
    const some = await runFinorm(['layer', empty, table]);
    expect(some.code, some.stderr).toBe(0);
  });

  it('a header without rows is a table: written back as the header alone; a fit of it has nothing to fit unless partial', async () => {
    for (const args of [['layer', '-c', 'a'], ['batch', '-c', 'a'], ['stats', '-c', 'a']]) {
      const r = await runFinorm(args, { input: 'a,b\n' });
      expect(r.code, args.join(' ')).toBe(0);
      if (args[0] !== 'stats') expect(r.stdout).toBe('a,b\n');
    }
    const fit = await runFinorm(['fit', '-c', 'a'], { input: 'a,b\n' });
    expect(fit.code).toBe(1);
    expect(fit.stderr).toBe('finorm: no rows to fit: the input has a header and no rows (fit --partial writes a fit of no rows, which merges as nothing)\n');
    expect((await runFinorm(['fit', '--partial', '-c', 'a'], { input: 'a,b\n' })).code).toBe(0);
    // Without -c, no column can be shown to be numbers: said as such, not as text columns.
    const inferred = await runFinorm(['fit'], { input: 'a,b\n' });
    expect(inferred.code).toBe(2);
    expect(inferred.stderr).toBe('finorm: no feature columns: the input has a header and no rows, so none can be inferred; name them with --columns\n');
    // Rows that are all missing are another matter.
    expect((await runFinorm(['fit', '-c', 'a'], { input: 'a,b\n,\n' })).stderr).toMatch(/^finorm: no values to fit in column "a" \(every value is missing\)/);
  });
});
