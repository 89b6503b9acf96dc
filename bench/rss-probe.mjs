// Loaded with `node --import` into each benchmarked child: on exit, writes
// the process's peak resident set size (kilobytes, from getrusage) to the file
// named by FINORM_BENCH_RSS_FILE. No external `time` command needed.
import { writeFileSync } from 'node:fs';

const file = process.env.FINORM_BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
