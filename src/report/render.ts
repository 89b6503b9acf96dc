// The summary as a table for people, on stderr: columns as rows, input and
// output statistics side by side, numbers to 5 significant digits, warnings in
// yellow, labelled `warning:`. Colours come from the style the caller chose
// (terminal.ts); the layout from layout.ts.

import type { Histogram } from './histogram.js';
import { type Cell, type ColumnGroup, countText, counted, fitTable, printable, wrapText } from './layout.js';
import { type BadPlace, type ColumnSummary, EPSILON_SHARE_WARNED, type RunSummary, delimiterName } from './summary.js';
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

const num = (x: number | null, style?: (s: string) => string): Cell => ({ text: humanNumber(x), align: 'right', style });
const count = (n: number, style?: (s: string) => string): Cell => ({ text: countText(n), align: 'right', style });

/** Where the summary goes: `width` for its tables; `wrap`: prose is wrapped to it too (on a terminal, or with $COLUMNS). */
export interface SummaryLayout {
  width: number;
  wrap: boolean;
}

/** A line of the summary: a table, a fact, or a warning (labelled, so that it reads as one without colour). */
type Block = { table: string } | { note: string } | { warning: string };

const WARNING = 'warning: ';

/** The whole end-of-run summary, fitted to the layout's width. */
export function renderSummary(summary: RunSummary, style: Style, layout: SummaryLayout = { width: 80, wrap: true }): string {
  const { width } = layout;
  const blocks: Block[] = [];
  const note = (text: string): void => void blocks.push({ note: text });
  const warning = (text: string): void => void blocks.push({ warning: text });
  let skipped = summary.rowsSkipped > 0 ? `, ${style.yellow(`${countText(summary.rowsSkipped)} skipped`)}` : '';
  if (summary.valuesMadeMissing) skipped += `, ${style.yellow(`${counted(summary.valuesMadeMissing, 'value')} made missing`)}`;
  // fit reads only: "0 written" would suggest that something went wrong.
  const writes = summary.rowsWritten > 0 || summary.columns.some((c) => c.output !== undefined);
  const headline = `${style.bold(`finorm ${summary.command}`)}: ${counted(summary.rowsRead, 'row')} read${writes ? `, ${countText(summary.rowsWritten)} written` : ''}${skipped}`;
  if (summary.columns.length > 0) {
    const withOutput = summary.columns.some((c) => c.output);
    const withClipped = summary.columns.some((c) => c.clipped !== undefined);
    const header = ['column', 'count', 'missing', 'mean', 'std', 'min', 'max'];
    // The input's counts, its moments, the output's moments and clipped counts: each kept together where it fits.
    const groups: ColumnGroup[] = [{ start: 1 }, { start: 3 }];
    if (withOutput) {
      groups.push({ start: header.length, marker: '→ ' });
      header.push('mean', 'std', 'min', 'max');
    }
    if (withClipped) header.push('clipped');
    const warn = (s: string): string => style.yellow(s);
    const rows = summary.columns.map((c) => {
      const constant = c.input.count > 1 && c.input.std === 0;
      const mostlyMissing = c.input.missing > c.input.count;
      const cells: Cell[] = [
        { text: c.name, align: 'left', style: constant || mostlyMissing ? warn : undefined },
        count(c.input.count),
        count(c.input.missing, mostlyMissing ? warn : undefined),
        ...stats(c.input, constant ? warn : undefined),
      ];
      if (c.output) cells.push(...stats(c.output));
      if (withClipped) cells.push(count(c.clipped ?? 0, c.clipped ? warn : undefined));
      return cells;
    });
    blocks.push({ table: fitTable({ header, rows, groups }, style, width) });
  }
  const histograms = histogramTable(summary, style, width);
  if (histograms !== undefined) blocks.push({ table: histograms });
  if (summary.delimiterSniffed !== undefined) note(sniffedText(summary.delimiterSniffed));
  if (summary.leftOut !== undefined) {
    note(`numeric columns left out: ${summary.leftOut.map((c) => `${c.name} (${c.reason})`).join(', ')}; name them with -c to normalize them`);
  }
  if (summary.orderChecked !== undefined) note(`time order checked: ${summary.orderChecked} never goes backwards within a group`);
  if (summary.groups) {
    const { count: groupCount, smallest } = summary.groups;
    note(`${counted(groupCount, 'group')}; the smallest, ${smallest.name}, has ${counted(smallest.rows, 'row')}`);
    if (smallest.rows < 2) warning('groups with one row are written as β (no spread to normalize by)');
  }
  if (summary.rows) {
    const r = summary.rows;
    note(`per-row σ: min ${humanNumber(r.sigma.min)}, mean ${humanNumber(r.sigma.mean)}, max ${humanNumber(r.sigma.max)}`);
    if (r.zeroVariance > 0) warning(`${counted(r.zeroVariance, 'row')} with zero variance (written as β)`);
    if (r.noFeatures > 0) warning(`${counted(r.noFeatures, 'row')} with no feature value (passed through)`);
    if (r.dominatedBy) {
      warning(
        `column ${JSON.stringify(r.dominatedBy.column)} alone makes the spread of ${countText(r.dominatedBy.rows)} of ${counted(summary.rowsWritten, 'row')}: their normalized values say little but which side of the others it is on; normalize comparable columns (-c), or batch-normalize first`,
      );
    }
  }
  for (const c of summary.columns) {
    if (c.input.count > 1 && c.input.std === 0) warning(`column ${JSON.stringify(c.name)} is constant`);
    const variance = c.input.std === null ? 0 : c.input.std * c.input.std;
    const epsilon = summary.epsilon ?? 0;
    const outputStd = c.output?.std === undefined || c.output.std === null ? undefined : humanNumber(c.output.std);
    if (c.epsilonLarge !== undefined) {
      const { groups, of } = c.epsilonLarge;
      warning(
        `ε = ${humanNumber(epsilon)} is large next to the variance of ${JSON.stringify(c.name)} in ${countText(groups)} of ${counted(of, 'group')}: their output std shrinks by 0.5% or more${outputStd === undefined ? '' : ` (output std ${outputStd})`}; scale the column or lower -e`,
      );
    } else if (summary.command !== 'layer' && !summary.epsilonCheckedPerGroup && variance > 0 && epsilon >= EPSILON_SHARE_WARNED * variance) {
      // Without per-group variances (no groups, or causal windows), the column's own variance stands for them.
      const expected = humanNumber(Math.sqrt(variance / (variance + epsilon)));
      const measured = outputStd === undefined || outputStd === expected ? '' : ` (output std ${outputStd})`;
      warning(
        `ε = ${humanNumber(epsilon)} is large next to the variance of ${JSON.stringify(c.name)} (${humanNumber(variance)}): its output std shrinks to about ${expected}${measured}; scale the column or lower -e`,
      );
    }
    if (c.input.missing > c.input.count) {
      warning(`column ${JSON.stringify(c.name)} is mostly missing (${countText(c.input.missing)} of ${countText(c.input.count + c.input.missing)})`);
    }
  }
  for (const s of summary.skipped) warning(`skipped ${placeText(s)}`);
  if (summary.rowsSkipped > summary.skipped.length) warning(`${counted(summary.rowsSkipped - summary.skipped.length, 'more row')} skipped`);
  for (const s of summary.madeMissing ?? []) warning(`made missing ${placeText(s)}`);
  const missingListed = summary.madeMissing?.length ?? 0;
  if ((summary.valuesMadeMissing ?? 0) > missingListed) {
    warning(`${counted((summary.valuesMadeMissing ?? 0) - missingListed, 'more value')} made missing`);
  }

  const lineWidth = layout.wrap ? width : Infinity;
  const out = wrapText(headline, lineWidth);
  for (const block of blocks) {
    if ('table' in block) out.push(block.table);
    else if ('note' in block) out.push(...wrapText(printable(block.note), lineWidth));
    else out.push(...wrapText(WARNING + printable(block.warning), lineWidth, WARNING.length).map((line) => style.yellow(line)));
  }
  return out.join('\n') + '\n';
}

function placeText(s: BadPlace): string {
  return `${s.file}:${s.line}${s.column !== undefined ? `: column ${JSON.stringify(s.column)}` : ''}: ${s.reason}`;
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
  return fitTable({ header, rows }, style, width);
}

/** The summary's line on a sniffed delimiter. */
export function sniffedText({ source, delimiter }: { source: string; delimiter: string }): string {
  return printable(`fields separated by ${delimiterName(delimiter)}: sniffed from the header line of ${source} (-d or -f to say otherwise)`);
}
