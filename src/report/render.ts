// The summary as a table for people, on stderr: columns as rows, input and
// output statistics side by side, numbers to 5 significant digits, warnings in
// yellow. Colours come from the chalk instance the caller chose (terminal.ts).

import type { ChalkInstance } from 'chalk';
import type { ColumnSummary, RunSummary } from './summary.js';

/** A number for people: 5 significant digits, exponent form outside [1e-3, 1e6). */
export function humanNumber(x: number | null): string {
  if (x === null) return '–';
  if (x === 0) return '0';
  const magnitude = Math.abs(x);
  if (magnitude >= 1e6 || magnitude < 1e-3) {
    const [mantissa, exponent] = x.toExponential(4).split('e');
    return `${trimZeros(mantissa)}e${exponent}`;
  }
  return trimZeros(x.toPrecision(5));
}

function trimZeros(text: string): string {
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

type Cell = { text: string; align: 'left' | 'right'; style?: (s: string) => string };

/** Lays out rows of cells with aligned columns; names wider than `nameWidth` are cut. */
export function renderTable(header: string[], rows: Cell[][], chalk: ChalkInstance, nameWidth = 24): string {
  const cut = (text: string): string => (text.length > nameWidth ? `${text.slice(0, nameWidth - 1)}…` : text);
  const texts = rows.map((row) => row.map((cell, i) => (i === 0 ? cut(cell.text) : cell.text)));
  const widths = header.map((h, i) => Math.max(h.length, ...texts.map((row) => row[i]?.length ?? 0)));
  const pad = (text: string, i: number, align: 'left' | 'right'): string =>
    align === 'left' ? text.padEnd(widths[i]) : text.padStart(widths[i]);
  const lines = [chalk.bold(header.map((h, i) => pad(h, i, i === 0 ? 'left' : 'right')).join('  '))];
  rows.forEach((row, r) => {
    lines.push(
      row
        .map((cell, i) => {
          const text = pad(texts[r][i], i, cell.align);
          return cell.style ? cell.style(text) : text;
        })
        .join('  '),
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
function fittedTable(header: string[], rows: Cell[][], chalk: ChalkInstance, width: number, split: number): string {
  for (const nameWidth of [24, 12]) {
    const table = renderTable(header, rows, chalk, nameWidth);
    if (Math.max(...table.split('\n').map(visibleWidth)) <= width) return table;
  }
  if (split >= header.length) return renderTable(header, rows, chalk, 12);
  const first = renderTable(header.slice(0, split), rows.map((r) => r.slice(0, split)), chalk, 12);
  const second = renderTable(['column', ...header.slice(split)], rows.map((r) => [r[0], ...r.slice(split)]), chalk, 12);
  return `${first}\n${second}`;
}

/** The whole end-of-run summary, fitted to `width` columns. */
export function renderSummary(summary: RunSummary, chalk: ChalkInstance, width = 80): string {
  const out: string[] = [];
  const skipped = summary.rowsSkipped > 0 ? `, ${chalk.yellow(`${summary.rowsSkipped} skipped`)}` : '';
  out.push(
    `${chalk.bold(`finorm ${summary.command}`)}: ${summary.rowsRead} rows read, ${summary.rowsWritten} written${skipped}`,
  );
  if (summary.columns.length > 0) {
    const withOutput = summary.columns.some((c) => c.output);
    const withClipped = summary.columns.some((c) => c.clipped !== undefined);
    const header = ['column', 'count', 'missing', 'mean', 'std', 'min', 'max'];
    if (withOutput) header.push('→ mean', 'std', 'min', 'max');
    if (withClipped) header.push('clipped');
    const warn = (s: string): string => chalk.yellow(s);
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
    out.push(fittedTable(header, rows, chalk, width, 7));
  }
  if (summary.groups) {
    const { count, smallest } = summary.groups;
    out.push(`${count} groups; the smallest, ${smallest.name}, has ${smallest.rows} row${smallest.rows === 1 ? '' : 's'}`);
    if (smallest.rows < 2) out.push(chalk.yellow('groups with one row are written as β (no spread to normalize by)'));
  }
  if (summary.rows) {
    const r = summary.rows;
    out.push(
      `per-row σ: min ${humanNumber(r.sigma.min)}, mean ${humanNumber(r.sigma.mean)}, max ${humanNumber(r.sigma.max)}`,
    );
    if (r.zeroVariance > 0) out.push(chalk.yellow(`${r.zeroVariance} rows with zero variance (written as β)`));
    if (r.noFeatures > 0) out.push(chalk.yellow(`${r.noFeatures} rows with no feature value (passed through)`));
  }
  for (const c of summary.columns) {
    if (c.input.count > 1 && c.input.std === 0) out.push(chalk.yellow(`column ${JSON.stringify(c.name)} is constant`));
    const variance = c.input.std === null ? 0 : c.input.std * c.input.std;
    const epsilon = summary.epsilon ?? 0;
    if (summary.command !== 'layer' && !summary.groups && variance > 0 && epsilon >= 0.01 * variance) {
      out.push(
        chalk.yellow(
          `ε = ${humanNumber(epsilon)} is large next to the variance of ${JSON.stringify(c.name)} (${humanNumber(variance)}): its output std shrinks to ${humanNumber(Math.sqrt(variance / (variance + epsilon)))}; scale the column or lower -e`,
        ),
      );
    }
    if (c.input.missing > c.input.count) {
      out.push(chalk.yellow(`column ${JSON.stringify(c.name)} is mostly missing (${c.input.missing} of ${c.input.count + c.input.missing})`));
    }
  }
  for (const s of summary.skipped) {
    const column = s.column !== undefined ? `: column ${JSON.stringify(s.column)}` : '';
    out.push(chalk.yellow(`skipped ${s.file}:${s.line}${column}: ${s.reason}`));
  }
  if (summary.rowsSkipped > summary.skipped.length) {
    out.push(chalk.yellow(`... and ${summary.rowsSkipped - summary.skipped.length} more skipped rows`));
  }
  return out.join('\n') + '\n';
}

function stats(s: ColumnSummary, style?: (text: string) => string): Cell[] {
  return [num(s.mean, style), num(s.std, style), num(s.min), num(s.max)];
}
