// Text laid out for a terminal of a given width: names from the input made
// safe to print, widths as a terminal counts them, prose wrapped at spaces,
// counts with thousands separators, and tables that wrap their columns into
// several parts rather than run past the edge. Pure functions of text and
// width: the summary (render.ts) and `stats` use them; what the width is,
// terminal.ts decides.

// ---- text from the input, made safe --------------------------------------

/**
 * Characters a terminal acts on instead of showing: C0 controls (ESC starts
 * escape sequences that retitle windows or rewrite the screen, CR and LF
 * break lines), DEL, C1 controls (0x9B is CSI to some terminals), the
 * Unicode line and paragraph separators, and the bidirectional controls that
 * reorder what is shown.
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text from the input (a column name, an NDJSON key, a group value) as it may
 * be printed: every character in UNPRINTABLE escaped as JSON escapes it
 * (`\n`, `\u001b`), so a name can neither drive the terminal nor split a
 * message over lines.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// ---- widths ----------------------------------------------------------------

// eslint-disable-next-line no-control-regex
const SGR = /\x1b\[[0-9;]*m/g;

/** East Asian wide and fullwidth characters, and emoji: two columns each. */
const WIDE: [number, number][] = [
  [0x1100, 0x115f], [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff],
  [0xa000, 0xa4cf], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe30, 0xfe4f], [0xff00, 0xff60],
  [0xffe0, 0xffe6], [0x1f300, 0x1f64f], [0x1f900, 0x1f9ff], [0x20000, 0x3fffd],
];
/** Combining marks and zero-width characters: no column. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\u200b-\u200d\ufeff]$/u;

function charWidth(c: string): number {
  const code = c.codePointAt(0) ?? 0;
  if (code < 0x300) return 1;
  if (ZERO_WIDTH.test(c)) return 0;
  return WIDE.some(([low, high]) => code >= low && code <= high) ? 2 : 1;
}

/** The columns `text` takes on a terminal: colour codes none, wide (CJK) characters two, combining marks none. */
export function displayWidth(text: string): number {
  const plain = text.replace(SGR, '');
  // eslint-disable-next-line no-control-regex
  if (/^[\x20-\x7e]*$/.test(plain)) return plain.length;
  let width = 0;
  for (const c of plain) width += charWidth(c);
  return width;
}

function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - displayWidth(text)));
}

function padStart(text: string, width: number): string {
  return ' '.repeat(Math.max(0, width - displayWidth(text))) + text;
}

/** The first characters of `text` that fit in `width` columns. */
function headOf(text: string, width: number): string {
  let used = 0;
  let out = '';
  for (const c of text) {
    const w = charWidth(c);
    if (used + w > width) break;
    used += w;
    out += c;
  }
  return out;
}

/**
 * A name cut to `width` columns, keeping its start and its end around an
 * ellipsis: names that differ only at the end (`ret_2023`, `ret_2024`,
 * `mom_1m`, `mom_12m`) stay told apart.
 */
export function cutName(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 1) return '…'.slice(0, width);
  const tailWidth = Math.floor((width - 1) / 2);
  const head = headOf(text, width - 1 - tailWidth);
  const tail = [...headOf([...text].reverse().join(''), tailWidth)].reverse().join('');
  return `${head}…${tail}`;
}

// ---- prose -------------------------------------------------------------------

/**
 * `text` wrapped at spaces to lines of at most `width` columns, lines after
 * the first indented by `indent` spaces. A word longer than a line is cut
 * (a path, say); nothing else is.
 */
export function wrapText(text: string, width: number, indent = 2): string[] {
  if (displayWidth(text) <= width) return [text];
  const lines: string[] = [];
  let line = '';
  const room = (): number => width - (lines.length === 0 ? 0 : indent);
  const flush = (): void => {
    lines.push((lines.length === 0 ? '' : ' '.repeat(indent)) + line);
    line = '';
  };
  for (const word of text.split(' ')) {
    let rest = word;
    if (line !== '' && displayWidth(line) + 1 + displayWidth(rest) > room()) flush();
    else if (line !== '') line += ' ';
    while (displayWidth(line) + displayWidth(rest) > room() && room() > 0) {
      // A word that does not fit a line of its own.
      const head = headOf(rest, room() - displayWidth(line));
      if (head === '') {
        flush();
        continue;
      }
      line += head;
      rest = rest.slice(head.length);
      flush();
    }
    line += rest;
  }
  if (line !== '' || lines.length === 0) flush();
  return lines;
}

/** 1234567 → `1,234,567`. */
export function countText(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** `1 row`, `2,000 rows`: a count and its noun, singular for one. */
export function counted(n: number, singular: string, plural = `${singular}s`): string {
  return `${countText(n)} ${n === 1 ? singular : plural}`;
}

// ---- tables ------------------------------------------------------------------

export type Cell = { text: string; align: 'left' | 'right'; style?: (s: string) => string };

/** Columns that belong together (the input's statistics, the output's): kept in one part when they fit. */
export interface ColumnGroup {
  /** Index of the group's first column. */
  start: number;
  /** Put before the heading of the group's first column in each part, so a part shows where the group starts (`→ mean`). */
  marker?: string;
}

export interface Table {
  /** Headings; the first column names each row (a feature column) and is repeated in every part. */
  header: string[];
  rows: Cell[][];
  groups?: ColumnGroup[];
}

/** Space between columns. */
const GAP = 2;
/** Names are cut only when in full they would leave room for fewer statistics than this beside them. */
const COLUMNS_BESIDE_NAME = 2;
/** On a terminal too narrow even for that, names keep this many columns (if one statistic still fits beside them). */
const NAME_FLOOR = 8;

/**
 * The table laid out in at most `width` columns: in one piece when it fits;
 * otherwise its columns wrap into parts, one under the other, each repeating
 * the name column, breaking between groups where a group fits in a part. Names
 * (the first column) are cut only when, in full, they would leave room for
 * fewer than two statistics beside them.
 */
export function fitTable(table: Table, style: { bold(text: string): string }, width: number): string {
  const { header, rows } = table;
  const columns = header.length;
  const texts = rows.map((row) => row.map((cell, i) => (i === 0 ? printable(cell.text) : cell.text)));
  const groupOf = new Array<number>(columns).fill(-1);
  const groups = [...(table.groups ?? [])].sort((a, b) => a.start - b.start);
  groups.forEach((g, k) => {
    for (let i = Math.max(1, g.start); i < columns; i++) groupOf[i] = k;
  });
  const headingOf = (i: number, first: boolean): string => {
    const group = groups[groupOf[i]];
    return first && group?.marker !== undefined ? `${group.marker}${header[i]}` : header[i];
  };
  const widthOf = (i: number, heading = headingOf(i, i === groups[groupOf[i]]?.start)): number =>
    Math.max(displayWidth(heading), ...texts.map((row) => displayWidth(row[i] ?? '')));
  // Room a statistic takes beside the others, its marker included (it may start a part).
  const room = Array.from({ length: columns }, (_, i) => GAP + Math.max(widthOf(i, headingOf(i, true)), widthOf(i, headingOf(i, false))));

  const fullName = widthOf(0);
  const widest = [...room.slice(1)].sort((a, b) => b - a);
  const besideName = widest.slice(0, COLUMNS_BESIDE_NAME).reduce((sum, w) => sum + w, 0);
  const nameWidth = Math.max(1, Math.min(fullName, Math.max(width - besideName, Math.min(NAME_FLOOR, width - (widest[0] ?? 0)))));

  const parts = wrapColumns(room, groupOf, width - nameWidth);
  const lines: string[] = [];
  for (const part of parts) {
    const shown = [0, ...part];
    const isFirstOfGroup = (i: number, k: number): boolean => k === 1 || groupOf[i] !== groupOf[shown[k - 1]] || i === groups[groupOf[i]]?.start;
    const headings = shown.map((i, k) => (k === 0 ? header[0] : headingOf(i, isFirstOfGroup(i, k))));
    const widths = shown.map((i, k) => (k === 0 ? nameWidth : Math.max(displayWidth(headings[k]), ...texts.map((row) => displayWidth(row[i] ?? '')))));
    const aligns = shown.map((i) => rows[0]?.[i]?.align ?? (i === 0 ? 'left' : 'right'));
    const pad = (text: string, k: number, align: 'left' | 'right'): string => (align === 'left' ? padEnd(text, widths[k]) : padStart(text, widths[k]));
    lines.push(style.bold(headings.map((h, k) => pad(k === 0 ? cutName(h, nameWidth) : h, k, aligns[k])).join(' '.repeat(GAP)).trimEnd()));
    rows.forEach((row, r) => {
      const cells = shown.map((i, k) => {
        const cell = row[i];
        const text = pad(k === 0 ? cutName(texts[r][0], nameWidth) : (texts[r][i] ?? ''), k, cell?.align ?? aligns[k]);
        return cell?.style ? cell.style(text) : text;
      });
      lines.push(cells.join(' '.repeat(GAP)).trimEnd());
    });
  }
  return lines.join('\n');
}

/**
 * The columns after the first, in parts that each take at most `room`: a
 * group goes whole into the current part if it fits there, else into a new
 * part if it fits in one, else column by column.
 */
function wrapColumns(widths: readonly number[], groupOf: readonly number[], room: number): number[][] {
  const parts: number[][] = [];
  let part: number[] = [];
  let used = 0;
  const startPart = (): void => {
    if (part.length > 0) parts.push(part);
    part = [];
    used = 0;
  };
  for (let i = 1; i < widths.length; ) {
    let end = i + 1;
    while (end < widths.length && groupOf[end] === groupOf[i]) end++;
    const group = Array.from({ length: end - i }, (_, k) => i + k);
    const total = group.reduce((sum, c) => sum + widths[c], 0);
    if (used + total > room && total <= room) startPart();
    for (const c of group) {
      if (part.length > 0 && used + widths[c] > room) startPart();
      part.push(c);
      used += widths[c];
    }
    i = end;
  }
  startPart();
  return parts;
}
