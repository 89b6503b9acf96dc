import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { columnScaling } from '../../src/core/batch.js';
import { QuantileSketch } from '../../src/core/quantiles.js';
import { type Piece, type PieceJob, type PieceResult, type PieceSetup, type ProcessorTotals, pieceProcessor } from '../../src/parallel/piece.js';
import type { RowTransformSpec } from '../../src/parallel/row-transform.js';

// Columns: date, ticker, then three features.
const COLUMNS = ['date', 'ticker', 'open', 'ret', 'cap'];
const FEATURES = [2, 3, 4];

const SLOT_OF = Int32Array.from([-1, -1, 0, 1, 2]);

function transformJob(transform: RowTransformSpec, summarize = true, format: 'csv' | 'ndjson' = 'csv', precision?: number): PieceJob {
  const writer = { format, delimiter: ',', header: true, columns: COLUMNS, slotOf: SLOT_OF, precision };
  return { kind: 'transform', transform, writer, summarize };
}

function setupFor(job: PieceJob, overrides: Partial<PieceSetup> = {}): PieceSetup {
  return {
    format: 'csv',
    delimiter: ',',
    header: true,
    width: COLUMNS.length,
    features: FEATURES,
    names: FEATURES.map((i) => COLUMNS[i]),
    slotOf: SLOT_OF,
    na: ['', 'NA'],
    onError: 'skip',
    job,
    ...overrides,
  };
}

const layer: RowTransformSpec = { kind: 'layer', gamma: Float64Array.of(1, 2, 0.5), beta: Float64Array.of(0, 1, -1), epsilon: 1e-5, clip: 3 };
const batch: RowTransformSpec = {
  kind: 'batch',
  scaling: columnScaling([100, 0, 5e9], [0, 0, 0], [400, 1e-4, 1e18], [1, 1, 1], [0, 0, 0], 1e-5),
  clip: Infinity,
};

function pieceOf(text: string, firstLine = 7): Piece {
  return { id: 0, source: 'in.csv', bytes: new Uint8Array(Buffer.from(text, 'utf8')), firstLine, atStart: false, expectHeader: false };
}

/** The parts of a result, and of the totals after it, that must not depend on the lane. */
function comparable(result: PieceResult, totals: ProcessorTotals): unknown {
  const { input: _input, output, ...rest } = result;
  // A sketch by what it answers (its bucket arrays may be allocated differently).
  const quantiles = totals.sketches?.map((state) => [0, 0.1, 0.5, 0.9, 1].map((q) => QuantileSketch.fromState(state).quantile(q)));
  return { ...rest, quantiles, output: Buffer.from(output).toString('utf8') };
}

// Plain values most of the time, and now and then anything the fast lane must hand over.
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

describe('worker pieces', () => {
  it('the fast lane writes the same bytes, rows, errors and statistics as the general path', () => {
    const jobs: PieceJob[] = [
      transformJob(layer),
      transformJob(batch),
      transformJob(layer, false, 'ndjson'),
      transformJob(batch, true, 'csv', 4),
      { kind: 'statistics', sketches: true },
    ];
    for (const job of jobs) {
      for (const onError of ['skip', 'stop'] as const) {
        fc.assert(
          fc.property(document, (text) => {
            // Fresh processors: the totals (sketches) gather every piece a processor handles.
            const fast = pieceProcessor(setupFor(job, { onError }));
            const general = pieceProcessor(setupFor(job, { onError }), { fastLane: false });
            expect(comparable(fast.process(pieceOf(text)), fast.totals())).toEqual(comparable(general.process(pieceOf(text)), general.totals()));
          }),
          { numRuns: 500 },
        );
      }
    }
  });

  it('reads a plain piece through the fast lane into the expected text', () => {
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
    const processPiece = pieceProcessor(setupFor(transformJob(layer), { onError: 'skip' })).process;
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
