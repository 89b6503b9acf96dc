// The JSON reader that walks a parameter file one value at a time: whatever
// chunks the bytes arrive in (cut inside strings, escapes, multi-byte
// characters and numbers), it reads what JSON.parse reads.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonValues } from '../../src/io/json-values.js';

/** The bytes of `text`, handed over in pieces cut at `cuts`. */
async function* chunks(text: string, cuts: number[]): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text);
  let start = 0;
  for (const cut of [...cuts.map((c) => c % (bytes.length + 1))].sort((a, b) => a - b)) {
    yield bytes.subarray(start, Math.max(start, cut));
    start = Math.max(start, cut);
  }
  yield bytes.subarray(start);
}

/** Reads `{ "a": v, "list": [e, …], … }` member by member, elements one by one. */
async function walk(json: JsonValues): Promise<unknown> {
  await json.expect('{', '{');
  const result: Record<string, unknown> = {};
  if ((await json.peek()) === 0x7d) {
    await json.expect('}', '}');
    return result;
  }
  do {
    const key = (await json.value()) as string;
    await json.expect(':', ':');
    if ((await json.peek()) === 0x5b) {
      await json.expect('[', '[');
      const list: unknown[] = [];
      if ((await json.peek()) !== 0x5d) {
        do list.push(await json.value());
        while (await json.separator(']'));
      } else await json.expect(']', ']');
      result[key] = list;
    } else result[key] = await json.value();
  } while (await json.separator('}'));
  return result;
}

const leaf = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ unit: 'grapheme' }), fc.boolean(), fc.constant(null), fc.integer());
const value = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value'), { maxLength: 3 }), fc.dictionary(fc.string(), tie('value'), { maxKeys: 3 })),
})).value;

describe('JsonValues', () => {
  it('reads what JSON.parse reads, however the bytes are cut (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 5 }), value, { maxKeys: 6 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.boolean(),
        async (object, cuts, pretty) => {
          const text = JSON.stringify(object, null, pretty ? 2 : undefined);
          const json = new JsonValues(chunks(text, cuts));
          expect(await walk(json)).toEqual(JSON.parse(text));
          expect(await json.peek()).toBe(-1);
        },
      ),
      { seed: 3, numRuns: 400 },
    );
  });

  it('reads values one after another (NDJSON), and counts lines', async () => {
    const text = '{"a": 1}\n{"b": "x\\ny"}\n\n[1, 2]\n7\n';
    const json = new JsonValues(chunks(text, [3, 9, 14]));
    expect(await json.value()).toEqual({ a: 1 });
    expect(await json.value()).toEqual({ b: 'x\ny' });
    expect(json.line).toBe(2);
    expect(await json.value()).toEqual([1, 2]);
    expect(json.line).toBe(4);
    expect(await json.value()).toBe(7);
    expect(await json.peek()).toBe(-1);
  });
});
