// The "no math at all" reference: csv-parse → csv-stringify over a
// file, written to stdout. Run by bench.mjs next to finorm, so figures can be
// compared with the ones measured elsewhere for the same pipeline.
import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';

await pipeline(createReadStream(process.argv[2]), parse(), stringify(), process.stdout);
