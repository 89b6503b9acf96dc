// finorm split: a CSV/TSV file's records, each followed by a NUL byte where
// the CSV engine says it ends, so that GNU parallel (--pipe --recend '\0'
// --rrs) cuts it into blocks of whole records, line breaks inside quotes and
// all; the header apart, for every block. See README: Beyond one machine.

import { z } from 'zod';
import { ExitCode, UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic-file.js';
import { openOutput } from '../io/output.js';
import { markedRecords } from '../io/record-marks.js';
import { inputOptions, outputOptions, schemaOf } from '../options.js';
import { type CommandSpec, parseOptions } from './command.js';
import { prepareFiles } from './shared.js';

const options = {
  format: { ...inputOptions.format, choices: ['csv', 'tsv'] as const, schema: z.enum(['csv', 'tsv']).optional(), description: 'input format (default: from the file extension, else CSV)' },
  delimiter: inputOptions.delimiter,
  headerFile: {
    flags: '--header-file <file>',
    description: 'write the header (the first record) to this file, before any record goes out, instead of to the output',
    group: 'Output',
    complete: 'file',
    schema: z.string().min(1).optional(),
  },
  output: { ...outputOptions.output, description: 'write the marked records to this file (atomically) instead of stdout' },
} as const;

const Options = schemaOf(options);

export const splitCommand: CommandSpec = {
  name: 'split',
  summary: 'mark where each CSV record ends (a NUL byte), for GNU parallel to cut whole records',
  description:
    'Writes the records of a CSV or TSV file as they are, each followed by a NUL byte where the CSV engine says it ends, ' +
    'so that a splitter that cuts at a separator cuts only between records, even where quoted fields hold line breaks: ' +
    "GNU parallel --pipe --recend '\\0' --rrs (which removes the NUL bytes). With --header-file the header goes to that " +
    'file instead, for every block to put in front of its records.',
  arguments: { name: '[file...]', description: 'the CSV or TSV file (optionally .gz); none or - reads stdin' },
  options,
  examples: [
    {
      command: "finorm split --header-file header.csv fixtures/sp500-financials.csv | parallel --pipe --recend '\\0' --rrs --block 20k 'cat header.csv - | finorm fit -q --partial -c Price -' | finorm merge -",
      explanation: 'fit blocks of whole records in parallel, each under the header, and merge the fits',
    },
    { command: 'finorm split --header-file header.csv fixtures/sp500-sample.csv > records', explanation: 'the header to header.csv, the marked records to the file records' },
    { command: 'finorm split fixtures/sp500-sample.csv | tr "\\0" "\\n" | head', explanation: 'see where the records end' },
  ],
  async run(files, raw) {
    const o = parseOptions(Options, raw, options);
    if (files.length > 1) throw new UsageError('give one file to split (or none, or -, for stdin)');
    const [source] = await prepareFiles(files, [
      { option: '--output', path: o.output },
      { option: '--header-file', path: o.headerFile },
    ]);
    const { headerFile } = o;
    const header = headerFile === undefined ? undefined : (bytes: Uint8Array) => writeFileAtomic(headerFile, bytes);
    const sink = await openOutput(o.output);
    try {
      for await (const marked of markedRecords(source, o, header)) await sink.write(marked);
      await sink.commit();
    } catch (error) {
      await sink.abort();
      throw error;
    }
    return ExitCode.ok;
  },
};
