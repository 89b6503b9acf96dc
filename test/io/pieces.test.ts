// Cutting a source into pieces of whole records: pieces end only where a
// record ends (never inside quotes; after a malformed line), at about the
// piece size or when a stream has nothing more for now; read piece by piece,
// they give exactly the records of the whole text.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PieceBuffers, PieceReader, type SourcePiece } from '../../src/io/pieces.js';
import { chunked } from '../support/chunks.js';
import { type TokenizedRecord, tokenizeCsv } from '../support/tokenize.js';
import { CsvRecords, fieldText, tokenizeCsv as tokenizePiece } from '../../src/io/csv.js';

async function cut(text: string, delimiter: string, pieceBytes: number, cuts: number[] = [], pauses?: Set<number>): Promise<SourcePiece[]> {
  const bytes = new TextEncoder().encode(text);
  const reader = new PieceReader('test', chunked(bytes, cuts, pauses), 'csv', delimiter.charCodeAt(0), new PieceBuffers(2, Infinity), pieceBytes);
  const pieces: SourcePiece[] = [];
  for (let piece = await reader.next(); piece; piece = await reader.next()) pieces.push({ bytes: Uint8Array.from(piece.bytes), firstLine: piece.firstLine });
  return pieces;
}

/** Each piece tokenized on its own, starting on its own first line: what the workers see. */
function tokenizePieces(pieces: SourcePiece[], delimiter: string): TokenizedRecord[] {
  const out: TokenizedRecord[] = [];
  const records = new CsvRecords();
  for (const { bytes, firstLine } of pieces) {
    tokenizePiece(bytes, 0, bytes.length, delimiter.charCodeAt(0), firstLine, records);
    for (let r = 0; r < records.count; r++) {
      const fields = Array.from({ length: records.width(r) }, (_, f) => fieldText(bytes, records, records.firstField[r] + f));
      const error = records.errors.get(r);
      out.push(error === undefined ? { fields, line: records.line[r] } : { fields, line: records.line[r], error });
    }
  }
  return out;
}

const text = (piece: SourcePiece): string => new TextDecoder().decode(piece.bytes);

describe('PieceReader', () => {
  it('cuts only where a record ends: not inside quotes, and after a malformed line', async () => {
    const source = 'a,b\n"x\ny",1\n2,"q""\n"\nbad"x,\n3,4\n"unterminated\n5,6\n';
    const everyByte = Array.from({ length: source.length }, (_, i) => i);
    const pieces = await cut(source, ',', 1, everyByte);
    expect(pieces.map(text)).toEqual(['a,b\n', '"x\ny",1\n', '2,"q""\n"\n', 'bad"x,\n', '3,4\n', '"unterminated\n5,6\n']);
    expect(pieces.map((p) => p.firstLine)).toEqual([1, 2, 4, 6, 7, 8]);
  });

  it('cuts at the last record end once a piece is full, and gives the rest at the end', async () => {
    expect((await cut('a\n1\n2\n3\n4', ',', 5)).map(text)).toEqual(['a\n1\n', '2\n3\n', '4']);
  });

  it('cuts as soon as a stream has nothing more for now, so rows from a slow producer flow', async () => {
    const pieces = await cut('h\n1\n2\n3\n', ',', 1 << 20, [4, 6], new Set([0, 1]));
    expect(pieces.map(text)).toEqual(['h\n1\n', '2\n', '3\n']);
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
    expect(pieces.map(text)).toEqual(['h\n', `${long}\n1\n`]);
  });

  it('reads piece by piece exactly as in one go, for any text, piece size and chunking (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[ab,;"\r\n é]{0,60}$/),
        fc.constantFrom(',', ';'),
        fc.integer({ min: 1, max: 12 }),
        fc.array(fc.nat(80), { maxLength: 5 }),
        async (source, delimiter, pieceBytes, cuts) => {
          const pieces = await cut(source, delimiter, pieceBytes, cuts);
          expect(Buffer.concat(pieces.map((p) => p.bytes)).toString('utf8')).toBe(source);
          expect(tokenizePieces(pieces, delimiter)).toEqual(tokenizeCsv(source, delimiter));
        },
      ),
      { numRuns: 3000, seed: 9 },
    );
  });
});
