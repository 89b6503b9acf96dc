// Properties of the whole CLI on random tables (the tokenizers alone are
// checked against csv-parse and JSON.parse in test/io and invariants.test.ts):
// text columns full of quotes, delimiters, CRLF and line breaks pass through
// `finorm layer` cell for cell, as csv-parse (or JSON.parse) reads input and
// output; and each row's features come out with mean ≈ 0 and population
// variance ≈ σ²/(σ² + ε), σ² computed here from the input values.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runFinorm } from '../support/cli.js';
import { referenceCsv } from '../support/tokenize.js';

const EPSILON = 1e-5;

/** Text for pass-through columns: the characters that make CSV hard, and some others. */
const awkwardText = fc
  .array(fc.constantFrom('a', 'Z', ' ', ',', '"', '""', '\n', '\r\n', ';', '\t', 'é', '€', '{', '}', 'NA', '0x1'), { maxLength: 6 })
  .map((parts) => parts.join(''));

/** Feature values: decimals of every sign and scale that print exactly as finorm reads them. */
const featureValue = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map((n) => n / 1000),
  fc.double({ min: -1e9, max: 1e9, noNaN: true, noDefaultInfinity: true }),
);

interface Row {
  text: [string, string];
  features: [number, number, number];
}

const rows = fc.array(
  fc.record({
    text: fc.tuple(awkwardText, awkwardText),
    features: fc.tuple(featureValue, featureValue, featureValue),
  }),
  { minLength: 1, maxLength: 25 },
);

/** A CSV field as RFC 4180 writes it: quoted (quotes doubled) whenever it needs to be. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) || text === '' ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The table as CSV, text columns around the features, with the given line ending. */
function csvOf(table: Row[], lineEnd: string): string {
  const lines = ['note,x,y,label,z'];
  for (const { text, features } of table) {
    lines.push([csvField(text[0]), String(features[0]), String(features[1]), csvField(text[1]), String(features[2])].join(','));
  }
  return lines.join(lineEnd) + lineEnd;
}

/** Checks one row's normalized features against its input features. */
function expectLayerNormalized(input: readonly number[], output: readonly number[]): void {
  const n = input.length;
  const mean = input.reduce((s, v) => s + v, 0) / n;
  const variance = input.reduce((s, v) => s + (v - mean) ** 2, 0) / n;
  const outMean = output.reduce((s, v) => s + v, 0) / n;
  const outVariance = output.reduce((s, v) => s + (v - outMean) ** 2, 0) / n;
  expect(Math.abs(outMean)).toBeLessThan(1e-9);
  const want = variance / (variance + EPSILON);
  expect(Math.abs(outVariance - want)).toBeLessThanOrEqual(1e-9 * Math.max(want, 1e-12));
}

describe('the CLI on random tables', () => {
  it('CSV: text cells pass through unchanged, features are layer-normalized', async () => {
    await fc.assert(
      fc.asyncProperty(rows, fc.constantFrom('\n', '\r\n'), async (table, lineEnd) => {
        const input = csvOf(table, lineEnd);
        const r = await runFinorm(['layer', '-c', 'x,y,z'], { input });
        expect(r.code, r.stderr).toBe(0);
        const got = referenceCsv(r.stdout);
        const want = referenceCsv(input);
        expect(got).toHaveLength(want.length);
        expect(got[0]).toEqual(want[0]);
        for (let i = 1; i < want.length; i++) {
          expect([got[i][0], got[i][3]]).toEqual([want[i][0], want[i][3]]);
          const inputs = [1, 2, 4].map((j) => Number(want[i][j]));
          const outputs = [1, 2, 4].map((j) => Number(got[i][j]));
          expectLayerNormalized(inputs, outputs);
        }
      }),
      { seed: 41, numRuns: 25, endOnFailure: true },
    );
  }, 60_000);

  it('NDJSON: string keys pass through unchanged, features are layer-normalized', async () => {
    await fc.assert(
      fc.asyncProperty(rows, async (table) => {
        const objects = table.map(({ text, features }) => ({ note: text[0], x: features[0], y: features[1], label: text[1], z: features[2] }));
        const input = objects.map((o) => JSON.stringify(o)).join('\n') + '\n';
        const r = await runFinorm(['layer', '-c', 'x,y,z'], { input });
        expect(r.code, r.stderr).toBe(0);
        const got = r.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(got).toHaveLength(objects.length);
        got.forEach((out, i) => {
          expect(Object.keys(out)).toEqual(['note', 'x', 'y', 'label', 'z']);
          expect([out.note, out.label]).toEqual([objects[i].note, objects[i].label]);
          expectLayerNormalized([objects[i].x, objects[i].y, objects[i].z], [out.x, out.y, out.z] as number[]);
        });
      }),
      { seed: 42, numRuns: 15, endOnFailure: true },
    );
  }, 60_000);
});
