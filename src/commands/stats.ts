// finorm stats: summary statistics of the numeric columns, in one pass.

import { z } from 'zod';
import { RELATIVE_ACCURACY } from '../core/quantiles.js';
import { ExitCode } from '../errors.js';
import { formatNumber } from '../io/format-number.js';
import { openOutput } from '../io/output.js';
import { columnOptions, inputOptions, outputOptions, reportOptions, schemaOf, type OptionSpec, inputFilesArgument, threadsOption } from '../options.js';
import { Input } from '../pipeline/input.js';
import { gatherStatistics } from '../pipeline/passes.js';
import { countText, counted, fitTable, printable, wrapText } from '../report/layout.js';
import { histogramText, humanNumber, sniffedText } from '../report/render.js';
import { columnSummary, histogramJson, inputFacts } from '../report/summary.js';
import { layoutFor, styleFor, styleOf } from '../report/terminal.js';
import { histogram } from '../report/histogram.js';
import { progress } from '../report/progress.js';
import { type CommandSpec, parseOptions } from './command.js';
import { ddofOption, executionOf, prepareFiles } from './shared.js';

const quantileList = z.string().transform((text, ctx) => {
  const values = text.split(',').map((t) => Number(t.trim()));
  if (values.length === 0 || values.some((q) => !(q >= 0 && q <= 1) || Number.isNaN(q))) {
    ctx.addIssue({ code: 'custom', message: `expected numbers from 0 to 1 separated by commas, got ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return values;
});

const options = {
  ...inputOptions,
  ...threadsOption,
  ...columnOptions,
  ddof: { ...ddofOption.ddof, description: 'std divisor n − ddof: 0 = population (default), 1 = sample (as pandas describe)' },
  quantiles: {
    flags: '--quantiles <list>',
    description: `quantiles to estimate, each within ${RELATIVE_ACCURACY * 100}% (relative) of the exact value`,
    group: 'Output',
    default: '0.01,0.25,0.5,0.75,0.99',
    schema: quantileList,
  },
  json: {
    flags: '--json',
    description: 'write JSON instead of a table',
    group: 'Output',
    schema: z.boolean().optional().transform(Boolean),
    conflicts: { csv: 'choose one output format' },
  },
  csv: { flags: '--csv', description: 'write CSV (one row per column) instead of a table', group: 'Output', schema: z.boolean().optional().transform(Boolean) },
  histogram: {
    flags: '--histogram',
    description: 'add a one-line histogram of each column (20 bins from min to max; logarithmic for positive columns spanning ≥ 3 decades)',
    group: 'Output',
    schema: z.boolean().optional().transform(Boolean),
  },
  output: { ...outputOptions.output, description: 'write to this file (atomically) instead of stdout' },
  progress: reportOptions.progress,
  quiet: { ...reportOptions.quiet, description: 'show no progress line' },
  color: { ...reportOptions.color, description: 'colour the table\'s headings: `auto` (when stdout is a terminal, unless NO_COLOR is set), `always`, `never`' },
} satisfies Record<string, OptionSpec>;

const Options = schemaOf(options);

export const statsCommand: CommandSpec = {
  name: 'stats',
  summary: 'summary statistics of the numeric columns: count, missing, mean, std, min, quantiles, max',
  description:
    'Reads the input once, in constant memory, and reports per feature column its count, missing count, mean, ' +
    `standard deviation, min, max and quantiles. Quantiles are estimated with a relative-error sketch: each is within ` +
    `${RELATIVE_ACCURACY * 100}% of the exact value at rank ⌊q·(n − 1)⌋ (numpy's method="lower"). ` +
    'A table by default; --json or --csv for machines.',
  arguments: inputFilesArgument,
  options,
  examples: [
    { command: '(echo px; seq 100) | finorm stats', explanation: 'a table: count, missing, mean, std, min, quantiles, max' },
    { command: "printf 'px,pe\\n10,12\\n20,30\\n60,18\\n' | finorm stats --json -c px", explanation: 'one column, as JSON' },
    { command: '(echo px; seq 100) | finorm stats --csv --quantiles 0.05,0.5,0.95', explanation: 'chosen quantiles, as CSV' },
    { command: '(echo ret; seq -5 5; echo 40) | finorm stats --histogram', explanation: 'see skew and outliers at a glance' },
  ],
  async run(files, raw, given) {
    const o = parseOptions(Options, raw, options, given);
    const sources = await prepareFiles(files, [{ option: '--output', path: o.output }]);
    const input = await Input.open(sources, o);
    const sink = await openOutput(o.output);
    try {
      const text = await statsText(input, o);
      // The table may go to the terminal the progress line is on.
      progress.clear();
      await sink.write(text);
      await sink.commit();
    } catch (error) {
      await sink.abort();
      throw error;
    }
    return input.badRows.any && o.failOnSkip ? ExitCode.skippedRows : ExitCode.ok;
  },
};

/**
 * Beyond this many feature columns, `stats` stays on one thread unless
 * --threads says otherwise: each thread keeps a quantile sketch per column,
 * and on 2,000 columns of prices, volumes and caps the sketches outweigh the
 * work (18 s and 2.8 GB with workers against 6 s and 0.7 GB on one thread).
 */
const MAX_DEFAULT_PARALLEL_COLUMNS = 256;

/** Reads the input and renders its statistics as JSON, CSV or a table. */
async function statsText(input: Input, o: z.infer<typeof Options>): Promise<string> {
  const { names } = input.selection;
  const wide = o.threads === undefined && input.selection.features.length > MAX_DEFAULT_PARALLEL_COLUMNS;
  const { moments, sketches, execution } = await gatherStatistics(input, { threads: wide ? 1 : o.threads, sketches: true });
  const columns = names.map((name, j) => ({
    name,
    ...columnSummary(moments, j, o.ddof),
    quantiles: o.quantiles.map((q) => ({ q, value: sketches[j].quantile(q) })),
    histogram: o.histogram ? histogram(sketches[j], moments.min[j], moments.max[j]) : undefined,
  }));

  let text: string;
  if (o.json) {
    text =
      JSON.stringify(
        {
          rows: input.rowsRead,
          rowsSkipped: input.rowsSkipped,
          ...(input.badRows.madeMissing > 0 ? { valuesMadeMissing: input.badRows.madeMissing } : {}),
          ...inputFacts(input),
          ddof: o.ddof,
          quantileRelativeAccuracy: RELATIVE_ACCURACY,
          columns: columns.map((c) => ({
            ...c,
            quantiles: Object.fromEntries(c.quantiles.map(({ q, value }) => [String(q), Number.isNaN(value) ? null : value])),
            histogram: c.histogram === undefined ? undefined : histogramJson(c.histogram),
          })),
          execution: executionOf(execution),
        },
        null,
        2,
      ) + '\n';
  } else if (o.csv) {
    const header = ['column', 'count', 'missing', 'mean', 'std', 'min', ...o.quantiles.map(quantileLabel), 'max'];
    const lines = columns.map((c) =>
      [csvText(c.name), c.count, c.missing, c.mean, c.std, c.min, ...c.quantiles.map((x) => x.value), c.max]
        .map((v) => (typeof v === 'string' ? v : v === null || Number.isNaN(v) ? '' : formatNumber(v)))
        .join(','),
    );
    text = [header.join(','), ...lines].join('\n') + '\n';
  } else {
    // The table goes to stdout, or to -o FILE (no terminal there: no colour unless asked, one line per column).
    const toFile = o.output !== undefined;
    const style = toFile ? styleOf(o.color === 'always') : styleFor(process.stdout, o.color);
    const layout = toFile ? { width: Infinity, wrap: false } : layoutFor(process.stdout, Infinity);
    const header = ['column', 'count', 'missing', 'mean', 'std', 'min', ...o.quantiles.map(quantileLabel), 'max'];
    // Kept together where they fit: the counts, the moments, the distribution (min, quantiles, max), the histogram.
    const groups = [{ start: 1 }, { start: 3 }, { start: 5 }];
    if (o.histogram) {
      groups.push({ start: header.length });
      header.push('histogram (min → max)');
    }
    const rows = columns.map((c) => [
      { text: c.name, align: 'left' as const },
      ...[c.count, c.missing].map((n) => ({ text: countText(n), align: 'right' as const })),
      ...[c.mean, c.std, c.min, ...c.quantiles.map((x) => (Number.isNaN(x.value) ? null : x.value)), c.max].map((v) => ({
        text: humanNumber(v),
        align: 'right' as const,
      })),
      ...(o.histogram ? [{ text: histogramText(c.histogram), align: 'left' as const }] : []),
    ]);
    const lineWidth = layout.wrap ? layout.width : Infinity;
    const facts = [counted(input.rowsRead, 'row')];
    if (input.rowsSkipped > 0) facts.push(`${countText(input.rowsSkipped)} skipped`);
    if (input.badRows.madeMissing > 0) facts.push(`${counted(input.badRows.madeMissing, 'value')} made missing`);
    const lines = [fitTable({ header, rows, groups }, style, layout.width), ...wrapText(`${facts.join(', ')}; quantiles within ${RELATIVE_ACCURACY * 100}% (relative)`, lineWidth)];
    if (input.sniffed !== undefined) lines.push(...wrapText(sniffedText(input.sniffed), lineWidth));
    const { leftOut } = input.selection;
    if (leftOut.length > 0) {
      lines.push(...wrapText(printable(`numeric columns left out: ${leftOut.map((c) => `${c.name} (${c.reason})`).join(', ')}; name them with -c`), lineWidth));
    }
    text = lines.join('\n') + '\n';
  }
  return text;
}

/** 0.01 → p1, 0.5 → p50, 0.999 → p99.9. */
function quantileLabel(q: number): string {
  return `p${Number((q * 100).toPrecision(10))}`;
}

function csvText(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
