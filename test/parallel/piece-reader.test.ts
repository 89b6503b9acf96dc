import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvTokenizer } from '../../src/io/csv-tokenizer.js';
import { PieceBuffers, type SourcePiece, piecesOf } from '../../src/parallel/piece-reader.js';
import { tokenizeCsv, type TokenizedRecord } from '../support/tokenize.js';

/** The pieces of `text` delivered in chunks cut at `cuts`, each piece copied out (its buffer is the caller's). */
async function cut(text: string, delimiter: string, pieceBytes: number, cuts: number[] = []): Promise<SourcePiece[]> {
  const bytes = Buffer.from(text, 'utf8');
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let start = 0;
    for (const c of [...new Set(cuts)].sort((a, b) => a - b)) {
      if (c <= start || c >= bytes.length) continue;
      yield bytes.subarray(start, c);
      start = c;
    }
    yield bytes.subarray(start);
  }
  const pieces: SourcePiece[] = [];
  for await (const piece of piecesOf(chunks(), delimiter, pieceBytes, new PieceBuffers(2, Infinity))) {
    pieces.push({ bytes: Uint8Array.from(piece.bytes), firstLine: piece.firstLine });
  }
  return pieces;
}

/** Each piece tokenized on its own, starting on its own first line: what the workers see. */
function tokenizePieces(pieces: SourcePiece[], delimiter: string): TokenizedRecord[] {
  const out: TokenizedRecord[] = [];
  for (const piece of pieces) {
    const tokenizer = new CsvTokenizer(delimiter, piece.firstLine);
    const onRecord = (fields: string[], line: number, error: string | undefined): void => {
      out.push(error === undefined ? { fields, line } : { fields, line, error });
    };
    tokenizer.push(new TextDecoder().decode(piece.bytes), onRecord);
    tokenizer.end(onRecord);
  }
  return out;
}

describe('piecesOf', () => {
  it('cuts only where a record ends: not inside quotes, and after a malformed line', async () => {
    const text = 'a,b\n"x\ny",1\n2,"q""\n"\nbad"x,\n3,4\n"unterminated\n5,6\n';
    const everyByte = Array.from({ length: text.length }, (_, i) => i);
    const pieces = await cut(text, ',', 1, everyByte);
    const ends = pieces.map((p) => new TextDecoder().decode(p.bytes));
    expect(ends).toEqual(['a,b\n', '"x\ny",1\n', '2,"q""\n"\n', 'bad"x,\n', '3,4\n', '"unterminated\n5,6\n']);
    expect(pieces.map((p) => p.firstLine)).toEqual([1, 2, 4, 6, 7, 8]);
  });

  it('cuts at the last record end within the piece size, whatever the chunks, and returns the rest at the end', async () => {
    const text = 'a\n1\n2\n3\n4';
    // 'a\n1\n2' is 5 bytes: the piece ends after 'a\n1\n', and '2' starts the next one.
    expect((await cut(text, ',', 5)).map((p) => new TextDecoder().decode(p.bytes))).toEqual(['a\n1\n', '2\n3\n', '4']);
    const byteByByte = (await cut(text, ',', 5, [1, 2, 3, 4, 5, 6, 7, 8])).map((p) => new TextDecoder().decode(p.bytes));
    expect(byteByByte).toEqual(['a\n1\n', '2\n3\n', '4']);
  });

  it('keeps buffers that come back for reuse, the smallest that fits first, but none too big', () => {
    const buffers = new PieceBuffers(3, 1000);
    const [a, b, huge] = [new ArrayBuffer(100), new ArrayBuffer(500), new ArrayBuffer(5000)];
    buffers.give(b);
    buffers.give(a);
    buffers.give(huge);
    expect(buffers.take(50).buffer).toBe(a);
    expect(buffers.takeBiggest()).toBe(b);
    expect(buffers.takeBiggest()).toBeUndefined();
    expect(buffers.take(2000).buffer.byteLength).toBe(2000);
  });

  it('grows its buffer for a record longer than a piece', async () => {
    const long = 'x'.repeat(5000);
    const pieces = await cut(`h\n${long}\n1\n`, ',', 16, [100, 4000]);
    expect(pieces.map((p) => new TextDecoder().decode(p.bytes))).toEqual(['h\n', `${long}\n1\n`]);
  });

  it('tokenizes piece by piece exactly as in one go, for any text and any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[ab,;"\r\n é]{0,60}$/),
        fc.constantFrom(',', ';'),
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.nat(80), { maxLength: 5 }),
        async (text, delimiter, pieceBytes, cuts) => {
          const pieces = await cut(text, delimiter, pieceBytes, cuts);
          expect(Buffer.concat(pieces.map((p) => p.bytes)).toString('utf8')).toBe(text);
          expect(tokenizePieces(pieces, delimiter)).toEqual(tokenizeCsv(text, delimiter));
          // Where pieces end depends on the bytes alone, not on how they arrived.
          expect(pieces).toEqual(await cut(text, delimiter, pieceBytes));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
