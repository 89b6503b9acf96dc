// The summary as a table for people, on stderr: columns as rows, input and
// output statistics side by side, numbers to 5 significant digits, warnings in
// yellow. Colours come from the style the caller chose (terminal.ts).

import type { Histogram } from './histogram.js';
import { type ColumnSummary, EPSILON_SHARE_WARNED, type RunSummary, delimiterName } from './summary.js';
import type { Style } from './terminal.js';

/**
 * A number for people: 5 significant digits, exponent form (`6.8313e+11`)
 * from a million up and below 0.001; from 1e5 to 1e6 the whole number
 * (6 digits), which is shorter than its exponent form.
 */
export function humanNumber(x: number | null): string {
  if (x === null) return '–';
  if (x === 0) return '0';
  if (!Number.isFinite(x)) return String(x);
  // Decide the form on the rounded value: 999999.7 is 1e+6, not 1.0000e+6.
  const rounded = Number(x.toPrecision(5));
  const magnitude = Math.abs(rounded);
  if (magnitude >= 1e6 || magnitude < 1e-3) {
    const [mantissa, exponent] = rounded.toExponential(4).split('e');
    return `${trimZeros(mantissa)}e${exponent}`;
  }
  if (magnitude >= 1e5) return String(Math.round(x));
  return trimZeros(rounded.toPrecision(5));
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

export type Cell = { text: string; align: 'left' | 'right'; style?: (s: string) => string };

/** Lays out rows of cells with aligned columns; names wider than `nameWidth` are cut. */
export function renderTable(header: string[], rows: Cell[][], style: Style, nameWidth = 24): string {
  const cut = (text: string): string => (text.length > nameWidth ? `${text.slice(0, nameWidth - 1)}…` : text);
  const texts = rows.map((row) => row.map((cell, i) => (i === 0 ? cut(cell.text) : cell.text)));
  const widths = header.map((h, i) => Math.max(h.length, ...texts.map((row) => row[i]?.length ?? 0)));
  const pad = (text: string, i: number, align: 'left' | 'right'): string =>
    align === 'left' ? text.padEnd(widths[i]) : text.padStart(widths[i]);
  // Headings align as their column's cells do.
  const aligns = header.map((_, i) => rows[0]?.[i]?.align ?? (i === 0 ? 'left' : 'right'));
  const lines = [style.bold(header.map((h, i) => pad(h, i, aligns[i])).join('  ').trimEnd())];
  rows.forEach((row, r) => {
    lines.push(
      row
        .map((cell, i) => {
          const text = pad(texts[r][i], i, cell.align);
          return cell.style ? cell.style(text) : text;
        })
        .join('  ')
        .trimEnd(),
    );
  });
  return lines.join('\n');
}

const num = (x: number | null, style?: (s: string) => string): Cell => ({ text: humanNumber(x), align: 'right', style });

/** Visible width of a rendered line (without colour codes). */
function visibleWidth(text: string): number {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/**
 * The table at the widest layout that fits `width` columns: all statistics
 * side by side with names cut to 24, then to 12, then input and output as
 * two tables one above the other.
 */
function fittedTable(header: string[], rows: Cell[][], style: Style, width: number, split: number): string {
  for (const nameWidth of [24, 12]) {
    const table = renderTable(header, rows, style, nameWidth);
    if (Math.max(...table.split('\n').map(visibleWidth)) <= width) return table;
  }
  if (split >= header.length) return renderTable(header, rows, style, 12);
  const first = renderTable(header.slice(0, split), rows.map((r) => r.slice(0, split)), style, 12);
  const second = renderTable(['column', ...header.slice(split)], rows.map((r) => [r[0], ...r.slice(split)]), style, 12);
  return `${first}\n${second}`;
}

/** The whole end-of-run summary, fitted to `width` columns. */
export function renderSummary(summary: RunSummary, style: Style, width = 80): string {
  const out: string[] = [];
  let skipped = summary.rowsSkipped > 0 ? `, ${style.yellow(`${summary.rowsSkipped} skipped`)}` : '';
  if (summary.valuesMadeMissing) skipped += `, ${style.yellow(`${summary.valuesMadeMissing} values made missing`)}`;
  // fit reads only: "0 written" would suggest that something went wrong.
  const writes = summary.rowsWritten > 0 || summary.columns.some((c) => c.output !== undefined);
  out.push(
    `${style.bold(`finorm ${summary.command}`)}: ${summary.rowsRead} rows read${writes ? `, ${summary.rowsWritten} written` : ''}${skipped}`,
  );
  if (summary.columns.length > 0) {
    const withOutput = summary.columns.some((c) => c.output);
    const withClipped = summary.columns.some((c) => c.clipped !== undefined);
    const header = ['column', 'count', 'missing', 'mean', 'std', 'min', 'max'];
    if (withOutput) header.push('→ mean', 'std', 'min', 'max');
    if (withClipped) header.push('clipped');
    const warn = (s: string): string => style.yellow(s);
    const rows = summary.columns.map((c) => {
      const constant = c.input.count > 1 && c.input.std === 0;
      const mostlyMissing = c.input.missing > c.input.count;
      const cells: Cell[] = [
        { text: c.name, align: 'left', style: constant || mostlyMissing ? warn : undefined },
        { text: String(c.input.count), align: 'right' },
        { text: String(c.input.missing), align: 'right', style: mostlyMissing ? warn : undefined },
        ...stats(c.input, constant ? warn : undefined),
      ];
      if (c.output) cells.push(...stats(c.output));
      if (withClipped) cells.push({ text: String(c.clipped ?? 0), align: 'right', style: c.clipped ? warn : undefined });
      return cells;
    });
    out.push(fittedTable(header, rows, style, width, 7));
  }
  const histograms = histogramTable(summary, style, width);
  if (histograms !== undefined) out.push(histograms);
  if (summary.delimiterSniffed !== undefined) out.push(sniffedText(summary.delimiterSniffed));
  if (summary.leftOut !== undefined) {
    out.push(`numeric columns left out: ${summary.leftOut.map((c) => `${c.name} (${c.reason})`).join(', ')}; name them with -c to normalize them`);
  }
  if (summary.orderChecked !== undefined) out.push(`time order checked: ${summary.orderChecked} never goes backwards within a group`);
  if (summary.groups) {
    const { count, smallest } = summary.groups;
    out.push(`${count} groups; the smallest, ${smallest.name}, has ${smallest.rows} row${smallest.rows === 1 ? '' : 's'}`);
    if (smallest.rows < 2) out.push(style.yellow('groups with one row are written as β (no spread to normalize by)'));
  }
  if (summary.rows) {
    const r = summary.rows;
    out.push(
      `per-row σ: min ${humanNumber(r.sigma.min)}, mean ${humanNumber(r.sigma.mean)}, max ${humanNumber(r.sigma.max)}`,
    );
    if (r.zeroVariance > 0) out.push(style.yellow(`${r.zeroVariance} rows with zero variance (written as β)`));
    if (r.noFeatures > 0) out.push(style.yellow(`${r.noFeatures} rows with no feature value (passed through)`));
    if (r.dominatedBy) {
      out.push(
        style.yellow(
          `column ${JSON.stringify(r.dominatedBy.column)} alone makes the spread of ${r.dominatedBy.rows} of ${summary.rowsWritten} rows: their normalized values say little but which side of the others it is on; normalize comparable columns (-c), or batch-normalize first`,
        ),
      );
    }
  }
  for (const c of summary.columns) {
    if (c.input.count > 1 && c.input.std === 0) out.push(style.yellow(`column ${JSON.stringify(c.name)} is constant`));
    const variance = c.input.std === null ? 0 : c.input.std * c.input.std;
    const epsilon = summary.epsilon ?? 0;
    const outputStd = c.output?.std === undefined || c.output.std === null ? '' : ` (output std ${humanNumber(c.output.std)})`;
    if (c.epsilonLarge !== undefined) {
      const { groups, of } = c.epsilonLarge;
      out.push(
        style.yellow(
          `ε = ${humanNumber(epsilon)} is large next to the variance of ${JSON.stringify(c.name)} in ${groups} of ${of} groups: their output std shrinks by 0.5% or more${outputStd}; scale the column or lower -e`,
        ),
      );
    } else if (summary.command !== 'layer' && !summary.epsilonCheckedPerGroup && variance > 0 && epsilon >= EPSILON_SHARE_WARNED * variance) {
      // Without per-group variances (no groups, or causal windows), the column's own variance stands for them.
      out.push(
        style.yellow(
          `ε = ${humanNumber(epsilon)} is large next to the variance of ${JSON.stringify(c.name)} (${humanNumber(variance)}): its output std shrinks to about ${humanNumber(Math.sqrt(variance / (variance + epsilon)))}${outputStd}; scale the column or lower -e`,
        ),
      );
    }
    if (c.input.missing > c.input.count) {
      out.push(style.yellow(`column ${JSON.stringify(c.name)} is mostly missing (${c.input.missing} of ${c.input.count + c.input.missing})`));
    }
  }
  for (const s of summary.skipped) {
    const column = s.column !== undefined ? `: column ${JSON.stringify(s.column)}` : '';
    out.push(style.yellow(`skipped ${s.file}:${s.line}${column}: ${s.reason}`));
  }
  if (summary.rowsSkipped > summary.skipped.length) {
    out.push(style.yellow(`... and ${summary.rowsSkipped - summary.skipped.length} more skipped rows`));
  }
  for (const s of summary.madeMissing ?? []) {
    const column = s.column !== undefined ? `: column ${JSON.stringify(s.column)}` : '';
    out.push(style.yellow(`made missing ${s.file}:${s.line}${column}: ${s.reason}`));
  }
  const missingListed = summary.madeMissing?.length ?? 0;
  if ((summary.valuesMadeMissing ?? 0) > missingListed) {
    out.push(style.yellow(`... and ${(summary.valuesMadeMissing ?? 0) - missingListed} more values made missing`));
  }
  return out.join('\n') + '\n';
}

function stats(s: ColumnSummary, style?: (text: string) => string): Cell[] {
  return [num(meanForPeople(s), style), num(s.std, style), num(s.min), num(s.max)];
}

/**
 * The mean, or 0 when it is rounding noise next to the column's range: a
 * normalized column's mean is −5.7e-18, not worth reading. (--stats keeps it.)
 */
export function meanForPeople(s: Pick<ColumnSummary, 'mean' | 'min' | 'max'>): number | null {
  if (s.mean === null || s.min === null || s.max === null) return s.mean;
  const range = Math.max(Math.abs(s.min), Math.abs(s.max));
  return Math.abs(s.mean) < range * 1e-12 ? 0 : s.mean;
}

/** A histogram as a cell's text: its bars, then `log` when its bins are logarithmic. */
export function histogramText(h: Histogram | undefined): string {
  if (h === undefined) return '';
  return `${h.bars}${h.log ? ' log' : '    '}`;
}

/**
 * With --histogram: each column's distribution before and after normalizing,
 * each over its own min to max, so a skew, a second mode or an outlier shows,
 * and what normalizing did to it (layer's per-row scaling, clipping).
 */
function histogramTable(summary: RunSummary, style: Style, width: number): string | undefined {
  const columns = summary.columns.filter((c) => c.histogram !== undefined);
  if (columns.length === 0) return undefined;
  const withOutput = columns.some((c) => c.histogram?.output !== undefined);
  const header = ['histogram', 'input (min → max)'];
  if (withOutput) header.push('output (min → max)');
  const rows = columns.map((c): Cell[] => {
    const cells: Cell[] = [
      { text: c.name, align: 'left' },
      { text: histogramText(c.histogram?.input), align: 'left' },
    ];
    if (withOutput) cells.push({ text: histogramText(c.histogram?.output), align: 'left' });
    return cells;
  });
  return fittedTable(header, rows, style, width, header.length);
}

/** The summary's line on a sniffed delimiter. */
export function sniffedText({ source, delimiter }: { source: string; delimiter: string }): string {
  return `fields separated by ${delimiterName(delimiter)}: sniffed from the header line of ${source} (-d or -f to say otherwise)`;
}
