import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceCsv, tokenizeCsv } from '../support/tokenize.js';
import { lastLineFeed, sniffDelimiter } from '../../src/io/csv.js';

const fieldsOf = (text: string, delimiter = ','): string[][] => tokenizeCsv(text, delimiter).map((r) => r.fields);

describe('the CSV engine (tokenizeCsv, cut where CsvRecordEnds says)', () => {
  it('reads plain records with LF, CRLF, and no final newline', () => {
    expect(fieldsOf('a,b\n1,2\r\n3,4')).toEqual([['a', 'b'], ['1', '2'], ['3', '4']]);
  });

  it('reads quoted fields with delimiters, doubled quotes and line breaks', () => {
    const text = 'name,note\n"Tesla, Inc.","say ""hi"""\n"multi\nline","crlf\r\ninside"\n';
    expect(fieldsOf(text)).toEqual([
      ['name', 'note'],
      ['Tesla, Inc.', 'say "hi"'],
      ['multi\nline', 'crlf\r\ninside'],
    ]);
  });

  it('unescapes a field of many doubled quotes, runs of text and multi-byte characters between them, as csv-parse does', () => {
    const inner = Array.from({ length: 5000 }, (_, i) => '""'.repeat(i % 4) + 'é,€'.slice(0, i % 3)).join('');
    const text = `a,b\n"${inner}",1\n"""",2\n"x""",3\n`;
    expect(fieldsOf(text)).toEqual(referenceCsv(text));
    expect(fieldsOf(text)[1][0]).toBe(inner.replaceAll('""', '"'));
  });

  it('gives each record the physical line it starts on', () => {
    const text = 'h\n"a\nb"\n\nc\r\n"d\r\n\r\ne"\nf';
    expect(tokenizeCsv(text).map((r) => [r.fields[0], r.line])).toEqual([
      ['h', 1],
      ['a\nb', 2],
      ['c', 5],
      ['d\r\n\r\ne', 6],
      ['f', 9],
    ]);
  });

  it('skips blank lines but keeps a quoted empty field and whitespace', () => {
    expect(fieldsOf('a\n\n""\n  \n\r\nb\n')).toEqual([['a'], [''], ['  '], ['b']]);
  });

  it('keeps empty fields and a trailing delimiter', () => {
    expect(fieldsOf('a,,c,\n,\n')).toEqual([['a', '', 'c', ''], ['', '']]);
  });

  it('treats a lone CR as data', () => {
    expect(fieldsOf('a\rb,c\n')).toEqual([['a\rb', 'c']]);
  });

  it('uses the given delimiter', () => {
    expect(fieldsOf('a\tb\n"x\ty"\t2\n', '\t')).toEqual([['a', 'b'], ['x\ty', '2']]);
    expect(fieldsOf('a;b\n1,5;2\n', ';')).toEqual([['a', 'b'], ['1,5', '2']]);
  });

  it('reports an unterminated quote with the line where it opened', () => {
    const records = tokenizeCsv('a,b\n1,"open\n2,3\n');
    expect(records).toHaveLength(2);
    expect(records[1].line).toBe(2);
    expect(records[1].error).toMatch(/unterminated quoted field.*line 2/);
  });

  it('reports a stray quote in an unquoted field and resumes on the next line', () => {
    const records = tokenizeCsv('a,b\n1,x"y\n2,3\n');
    expect(records.map((r) => r.error === undefined)).toEqual([true, false, true]);
    expect(records[1]).toMatchObject({ line: 2 });
    expect(records[1].error).toMatch(/quote inside an unquoted field/);
    expect(records[2].fields).toEqual(['2', '3']);
  });

  it('reports text after a closing quote', () => {
    const records = tokenizeCsv('"a"b,c\nd,e\n');
    expect(records[0].error).toMatch(/after a closing quote/);
    expect(records[1]).toEqual({ fields: ['d', 'e'], line: 2 });
  });

  it('gives the same records whatever the chunk boundaries', () => {
    const text = 'x,y\r\n"a,""b""\r\nc",2\r\n3,\r\n"",\r\n';
    const whole = tokenizeCsv(text);
    for (let cut = 1; cut < text.length; cut++) {
      expect(tokenizeCsv(text, ',', [cut])).toEqual(whole);
    }
  });
});

// Property: on any well-formed CSV text, finorm's tokenizer reads exactly what
// csv-parse (the reference implementation) reads, however the text is chunked.
const fieldText = fc.stringMatching(/^[a-z0-9 ,;"\r\n\t.é-]{0,8}$/);
const csvField = (delimiter: string) =>
  fc.tuple(fieldText, fc.boolean()).map(([text, forceQuotes]) => {
    const needs = text.includes(delimiter) || /["\r\n]/.test(text) || text === '';
    return needs || forceQuotes ? `"${text.replaceAll('"', '""')}"` : text;
  });
const csvDocument = (delimiter: string) =>
  fc
    .integer({ min: 1, max: 5 })
    .chain((width) =>
      fc.tuple(
        fc.array(fc.array(csvField(delimiter), { minLength: width, maxLength: width }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.constantFrom('\n', '\r\n'), { minLength: 8, maxLength: 8 }),
        fc.boolean(),
      ),
    )
    .map(([rows, endings, finalNewline]) =>
      rows.map((row, i) => row.join(delimiter) + (i < rows.length - 1 || finalNewline ? endings[i] : '')).join(''),
    );

describe('the CSV engine against csv-parse', () => {
  for (const delimiter of [',', '\t', ';']) {
    it(`reads random documents like csv-parse (delimiter ${JSON.stringify(delimiter)})`, () => {
      fc.assert(
        fc.property(csvDocument(delimiter), fc.array(fc.nat(200), { maxLength: 4 }), (text, cuts) => {
          const ours = tokenizeCsv(text, delimiter, cuts);
          expect(ours.every((r) => r.error === undefined)).toBe(true);
          expect(ours.map((r) => r.fields)).toEqual(referenceCsv(text, delimiter));
        }),
        { numRuns: 400 },
      );
    });
  }

  it('agrees with csv-parse on whether arbitrary text is well-formed', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[ab,"\r\n]{0,24}$/), (text) => {
        let reference: string[][] | undefined;
        try {
          reference = referenceCsv(text);
        } catch {
          reference = undefined;
        }
        const ours = tokenizeCsv(text);
        const wellFormed = ours.every((r) => r.error === undefined);
        expect(wellFormed).toBe(reference !== undefined);
        if (reference) expect(ours.map((r) => r.fields)).toEqual(reference);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('cutting into pieces', () => {
  it('gives the same records, lines and errors for any cuts, malformed text included (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[ab,;"\r\n é]{0,40}$/), fc.array(fc.nat(60), { maxLength: 6 }), fc.constantFrom(',', ';'), (text, cuts, delimiter) => {
        expect(tokenizeCsv(text, delimiter, cuts)).toEqual(tokenizeCsv(text, delimiter));
      }),
      { numRuns: 5000, seed: 14 },
    );
  });
});

describe('sniffing the delimiter of a header line', () => {
  const sniff = (line: string): string => String.fromCharCode(sniffDelimiter(Buffer.from(line)));

  it('takes the most frequent of comma, tab, semicolon and pipe outside quotes; a comma when tied or none', () => {
    expect(sniff('a\tb\tc')).toBe('\t');
    expect(sniff('a;b;c,d')).toBe(';');
    expect(sniff('a|b|c')).toBe('|');
    expect(sniff('"a,b,c,d"\t"e,f"\tg')).toBe('\t');
    expect(sniff('"x;y";"z"')).toBe(';');
    expect(sniff('a,b;c')).toBe(',');
    expect(sniff('price')).toBe(',');
    expect(sniff('')).toBe(',');
  });
});

describe('the last line feed in a range', () => {
  it('is found within [from, to) only, as a naive search finds it (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }).map((a) => a.map((b) => (b % 4 === 0 ? 10 : b))), fc.nat(), fc.nat(), (bytes, a, b) => {
        const from = bytes.length === 0 ? 0 : a % (bytes.length + 1);
        const to = from + (bytes.length - from === 0 ? 0 : b % (bytes.length - from + 1));
        let naive = -1;
        for (let k = from; k < to; k++) if (bytes[k] === 10) naive = k;
        expect(lastLineFeed(bytes, from, to)).toBe(naive);
      }),
    );
  });
});
