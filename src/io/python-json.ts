// JSON as Python's json module writes it. json.dump writes a float NaN or
// infinity as the bare words NaN, Infinity and -Infinity, which are not JSON;
// a scaler fitted on a column with no values has NaN in var_. They are read
// here as the numbers they stand for, so that the file's validation can name
// the value instead of failing to parse.

const MARK = '\u0000finorm:';
const WORDS: Record<string, number> = { NaN, Infinity, '-Infinity': -Infinity };

export function parsePythonJson(text: string): unknown {
  const marked = text.replace(/"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g, (token) => (token.startsWith('"') ? token : JSON.stringify(MARK + token)));
  return JSON.parse(marked, (_key, value: unknown) =>
    typeof value === 'string' && value.startsWith(MARK) ? WORDS[value.slice(MARK.length)] : value,
  );
}
