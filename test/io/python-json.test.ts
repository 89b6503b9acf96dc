// JSON as Python's json.dump writes it: bare NaN and infinities are numbers,
// the same words inside strings stay text.

import { describe, expect, it } from 'vitest';
import { parsePythonJson } from '../../src/io/python-json.js';

describe('parsePythonJson', () => {
  it('reads NaN, Infinity and -Infinity as numbers, and leaves them alone inside strings', () => {
    const json = parsePythonJson('{"var_": [1.5, NaN, Infinity, -Infinity, -0.0], "feature_names_in_": ["NaN", "x \\"NaN\\" Infinity", "-Infinity"]}') as { var_: number[]; feature_names_in_: string[] };
    expect(json.var_.slice(0, 1)).toEqual([1.5]);
    expect(json.var_[1]).toBeNaN();
    expect(json.var_.slice(2)).toEqual([Infinity, -Infinity, -0]);
    expect(json.feature_names_in_).toEqual(['NaN', 'x "NaN" Infinity', '-Infinity']);
  });

  it('still refuses what is not JSON', () => {
    expect(() => parsePythonJson('{"a": nan}')).toThrow(SyntaxError);
    expect(() => parsePythonJson('{"a": [1, 2}')).toThrow(SyntaxError);
  });
});
