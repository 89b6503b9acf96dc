// finorm split: a CSV/TSV file cut into blocks of whole records, where the
// CSV engine says records end (line breaks inside quotes and all), each the
// header and then records, ended by a NUL byte: GNU parallel --pipe -N1
// --recend '\0' --rrs then gives each job one block, a table of its own.
// See README: Beyond one machine.

import { z } from 'zod';
import { ExitCode, UsageError } from '../errors.js';
import { parseSize, recordBlocks } from '../io/blocks.js';
import { openOutput } from '../io/output.js';
import { inputOptions, outputOptions, schemaOf } from '../options.js';
import { type CommandSpec, parseOptions } from './command.js';
import { prepareFiles } from './shared.js';

const options = {
  format: {
    ...inputOptions.format,
    description: 'input format (default: from the file extension, else CSV)',
    choices: ['csv', 'tsv'],
    schema: z.enum(['csv', 'tsv']).optional(),
  },
  delimiter: inputOptions.delimiter,
  header: { ...inputOptions.header, description: 'the first CSV/TSV record is data: blocks hold records only' },
  blockSize: {
    flags: '-b, --block-size <size>',
    description: 'at most this many bytes a block, its header and NUL included (K, M, G: 1024, 1024², 1024³; give GNU parallel the same --block)',
    group: 'Output',
    default: '64M',
    complete: 'none',
    schema: z.string().transform((text, ctx) => {
      const size = parseSize(text);
      if (!(size >= 2 && size <= 2 ** 31 - 1)) {
        ctx.addIssue({ code: 'custom', message: `expected a size from 2 bytes to 2G (64M, 512K, 1048576), got ${JSON.stringify(text)}` });
        return z.NEVER;
      }
      return size;
    }),
  },
  output: { ...outputOptions.output, description: 'write the blocks to this file (atomically) instead of stdout' },
} as const;

const Options = schemaOf(options);

export const splitCommand: CommandSpec = {
  name: 'split',
  summary: 'cut a CSV file into blocks of whole records, each under the header, for GNU parallel',
  description:
    'Cuts a CSV or TSV file into blocks of at most --block-size bytes, where the CSV engine says records end (so a quoted ' +
    'field with a line break stays whole), each block the header and then records, ended by a NUL byte. GNU parallel ' +
    "--pipe -N1 --block SIZE --recend '\\0' --rrs then gives each job one block, NUL removed: a table of its own, for " +
    '`finorm fit --partial -` or `finorm batch --params FILE -`. The records pass on byte for byte; blank lines are left out.',
  arguments: { name: '[file...]', description: 'the CSV or TSV file (optionally .gz); none or - reads stdin' },
  options,
  examples: [
    { command: "printf 'name,x\\n\"Hotels,\\nResorts\",1\\nAA,2\\nBB,3\\n' | finorm split -b 30 | tr '\\0' '~'", explanation: 'see the blocks: each the header and whole records, ended by a NUL (shown as ~)' },
    {
      command: "(echo px; seq 1 100) | finorm split -b 100 | xargs -0 -n1 sh -c 'printf %s \"$0\" | finorm fit -q --partial -' | finorm merge -",
      explanation: "each block fitted apart (xargs -0 standing in for GNU parallel --pipe -N1 --recend '\\0' --rrs), merged: the fit of all 100 rows",
    },
    { command: "printf 'a,b\\n1,2\\n3,4\\n' | finorm split -b 12 -o blocks && tr '\\0' '~' < blocks", explanation: 'write the blocks to a file (atomically)' },
  ],
  async run(files, raw, given) {
    const o = parseOptions(Options, raw, options, given);
    if (files.length > 1) throw new UsageError('give one file to split (or none, or -, for stdin)');
    const [source] = await prepareFiles(files, [{ option: '--output', path: o.output }]);
    const sink = await openOutput(o.output);
    try {
      for await (const bytes of recordBlocks(source, o, o.blockSize)) await sink.write(bytes);
      await sink.commit();
    } catch (error) {
      await sink.abort();
      throw error;
    }
    return ExitCode.ok;
  },
};
