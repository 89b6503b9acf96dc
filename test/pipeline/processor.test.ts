// The piece processor, the one row loop every thread runs: a piece's records
// read, decoded, transformed or summed, and rendered. Whatever the pieces a
// text is cut into, the rows, errors, output bytes and statistics are the
// same: that is what lets any number of threads produce one thread's output.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { columnScaling } from '../../src/core/batch.js';
import { ColumnMoments } from '../../src/core/moments.js';
import { QuantileSketch } from '../../src/core/quantiles.js';
import type { JobSpec, Piece, PieceResult, PieceSetup, TransformSpec } from '../../src/pipeline/job.js';
import { pieceProcessor } from '../../src/pipeline/processor.js';
import { PieceBuffers, PieceReader } from '../../src/io/pieces.js';
import { chunked } from '../support/chunks.js';

// Columns: date, ticker, then three features.
const COLUMNS = ['date', 'ticker', 'open', 'ret', 'cap'];
const FEATURES = [2, 3, 4];
const SLOT_OF = Int32Array.from([-1, -1, 0, 1, 2]);

function transformJob(transform: TransformSpec, summarize = true, format: 'csv' | 'ndjson' = 'csv', precision?: number): JobSpec {
  const output = { format, delimiter: 44, header: true, columns: COLUMNS, slotOf: SLOT_OF, fieldOf: Int32Array.from([0, 1, -1, -1, -1]), features: 3, numbersAsNumbers: true, precision };
  return { kind: 'transform', transform, output, summarize, histogram: false };
}

function setupFor(job: JobSpec, onError: 'stop' | 'skip' = 'skip'): PieceSetup {
  return {
    table: { format: 'csv', delimiter: 44, columns: COLUMNS, features: FEATURES, names: FEATURES.map((i) => COLUMNS[i]), na: FEATURES.map(() => ['', 'NA']), onError },
    job,
  };
}

const layer: TransformSpec = { kind: 'layer', gamma: Float64Array.of(1, 2, 0.5), beta: Float64Array.of(0, 1, -1), epsilon: 1e-5, clip: 3 };
const batch: TransformSpec = {
  kind: 'batch',
  scaling: columnScaling([100, 0, 5e9], [0, 0, 0], [400, 1e-4, 1e18], [1, 1, 1], [0, 0, 0], 1e-5),
  clip: Infinity,
};

function pieceOf(text: string, firstLine = 7): Piece {
  return { id: 0, source: 'in.csv', bytes: new Uint8Array(Buffer.from(text, 'utf8')), firstLine };
}

/** What the pieces of a text came to, put together: output, rows, skipped rows, the first failure, merged statistics. */
function combined(results: PieceResult[]) {
  const moments = new ColumnMoments(FEATURES.length);
  const output = new ColumnMoments(FEATURES.length);
  const clipped = new Float64Array(FEATURES.length);
  let text = '';
  let rows = 0;
  const skipped: unknown[] = [];
  let failure: unknown;
  for (const result of results) {
    if (failure !== undefined) break;
    text += Buffer.from(result.output).toString('utf8');
    rows += result.rows;
    skipped.push(...result.skippedExamples);
    if (result.moments) moments.merge(ColumnMoments.fromState(result.moments));
    if (result.outputMoments) output.merge(ColumnMoments.fromState(result.outputMoments));
    result.clipped?.forEach((c, j) => (clipped[j] += c));
    failure = result.failure;
  }
  const statistics = (m: ColumnMoments) => FEATURES.map((_, j) => [m.count[j], m.missing[j], ...m.meanParts(j), m.m2(j), m.min[j], m.max[j]]);
  return { text, rows, skipped, failure, moments: statistics(moments), output: statistics(output), clipped: [...clipped] };
}

/** The text cut into pieces by the reader (small pieces, bytes arriving in chunks cut at `cuts`). */
async function piecesOf(text: string, cuts: number[], pieceBytes: number): Promise<Piece[]> {
  const bytes = new TextEncoder().encode(text);
  const reader = new PieceReader('test', chunked(bytes, cuts), 'csv', 44, new PieceBuffers(0, 0), pieceBytes);
  const pieces: Piece[] = [];
  for (let piece = await reader.next(); piece; piece = await reader.next()) pieces.push({ id: pieces.length, source: 'in.csv', ...piece });
  return pieces;
}

// Plain values most of the time, and now and then anything odd.
const number = fc.oneof(
  { weight: 8, arbitrary: fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((x) => x.toFixed(4)) },
  { weight: 2, arbitrary: fc.integer({ min: -1e9, max: 1e9 }).map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('', 'NA', '1e-7', ' 42 ', '+3', '-0', '.5', '5.', '12345678901234567890', '1.2.3', 'abc', '0x1F', '1e400', '-', '"7"'),
  },
);
const text = fc.oneof(
  { weight: 8, arbitrary: fc.stringMatching(/^[A-Z]{1,5}$/) },
  { weight: 1, arbitrary: fc.constantFrom('', 'Société', '"Tesla, Inc."', 'a\rb', 'BRK.B', 'back\\slash', 'tab\there', 'A&B <c>') },
);
const row = fc.tuple(text, text, number, number, number).map((cells) => cells.join(','));
const document = fc.tuple(
  fc.array(fc.tuple(row, fc.constantFrom('\n', '\n', '\n', '\r\n', '\n\n')), { minLength: 1, maxLength: 12 }),
  fc.boolean(),
).map(([rows, finalBreak]) => {
  const text = rows.map(([r, end]) => r + end).join('');
  return finalBreak ? text : text.replace(/\r?\n+$/, '');
});

describe('the piece processor', () => {
  it('gives the same output, rows, errors and statistics however the text is cut into pieces (property)', async () => {
    const jobs: JobSpec[] = [
      transformJob(layer),
      transformJob(batch),
      transformJob(layer, false, 'ndjson'),
      transformJob(batch, true, 'csv', 4),
      { kind: 'statistics', sketches: true },
    ];
    for (const job of jobs) {
      for (const onError of ['skip', 'stop'] as const) {
        await fc.assert(
          fc.asyncProperty(document, fc.array(fc.nat(2000), { maxLength: 5 }), fc.integer({ min: 1, max: 200 }), async (text, cuts, pieceBytes) => {
            // Fresh processors: the totals (sketches) gather every piece a processor handles.
            const whole = pieceProcessor(setupFor(job, onError));
            const parts = pieceProcessor(setupFor(job, onError));
            const pieces = await piecesOf(text, cuts, pieceBytes);
            const got = combined(pieces.map((piece) => parts.process(piece)));
            const want = combined([whole.process({ ...pieceOf(text), firstLine: 1 })]);
            expect(got).toEqual(want);
            // A run that failed uses no totals (and pieces after the failure were still processed).
            if (want.failure !== undefined) return;
            const quantiles = (totals: { sketches?: unknown }) =>
              (totals.sketches as Parameters<typeof QuantileSketch.fromState>[0][] | undefined)?.map((state) => [0, 0.1, 0.5, 0.9, 1].map((q) => QuantileSketch.fromState(state).quantile(q)));
            expect(quantiles(parts.totals())).toEqual(quantiles(whole.totals()));
          }),
          { numRuns: 300, seed: 4 },
        );
      }
    }
  });

  it('reads a piece into the expected text', () => {
    const processPiece = pieceProcessor(setupFor(transformJob(batch, false))).process;
    // (x − mean)/√(var + ε): 110 → 10/√400.00001, 0.01 → 0.01/√0.00011, 5e9 → 0
    const result = processPiece(pieceOf('2024-01-02,AAPL,110,0.01,5000000000\n'));
    const [date, ticker, a, b, c] = Buffer.from(result.output).toString('utf8').trimEnd().split(',');
    expect([date, ticker, c]).toEqual(['2024-01-02', 'AAPL', '0']);
    expect(Number(a)).toBe(10 / Math.sqrt(400 + 1e-5));
    expect(Number(b)).toBe(0.01 / Math.sqrt(1e-4 + 1e-5));
    expect(result.rows).toBe(1);
  });

  it('locates bad rows on the source line where the piece says it starts', () => {
    const processPiece = pieceProcessor(setupFor(transformJob(layer), 'skip')).process;
    const result = processPiece(pieceOf('2024-01-02,A,1,2,3\n\n2024-01-03,B,1,x,3\n2024-01-04,C,1,2\n', 40));
    expect(result.rows).toBe(1);
    expect(result.skippedCount).toBe(2);
    expect(result.skippedExamples.map((e) => [e.location.line, e.location.column ?? null])).toEqual([
      [42, 'ret'],
      [43, null],
    ]);
  });

  it('names the source line and byte of text that is not UTF-8', () => {
    const processPiece = pieceProcessor(setupFor(transformJob(layer))).process;
    const bytes = Buffer.concat([Buffer.from('2024-01-02,A,1,2,3\n2024-01-03,"B\nC",1,2,3\n2024-01-04,'), Buffer.from([0xe9]), Buffer.from(',1,2,3\n')]);
    const result = processPiece({ ...pieceOf(''), bytes: new Uint8Array(bytes), firstLine: 40 });
    expect(result.failure).toEqual({
      kind: 'data',
      message: 'in.csv:43: not valid UTF-8 text (byte 0xE9); if it is Latin-1, convert it first: iconv -f latin1 -t utf-8',
    });
  });

  it('gathers quantile sketches over all the pieces it handles, given once at the end', () => {
    const processor = pieceProcessor(setupFor({ kind: 'statistics', sketches: true }));
    const first = processor.process(pieceOf('2024-01-02,A,1,2,3\n2024-01-03,B,4,5,6\n'));
    processor.process(pieceOf('2024-01-04,C,7,,9\n', 9));
    expect(first).not.toHaveProperty('sketches');
    const sketches = (processor.totals().sketches ?? []).map((state) => QuantileSketch.fromState(state));
    expect(sketches.map((sketch) => sketch.count)).toEqual([3, 2, 3]);
    expect(sketches[2].quantile(0)).toBe(3);
    expect(sketches[2].quantile(1)).toBe(9);
  });
});
