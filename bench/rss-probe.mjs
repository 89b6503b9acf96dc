// Loaded with `node --import` into each benchmarked child: on exit, writes
// the process's peak resident set size (kilobytes) to the file named by
// FINORM_BENCH_RSS_FILE. No external `time` command needed.
// On Linux it is VmHWM from /proc/self/status, the peak of this program's
// own memory: getrusage's maxRSS also keeps the peak of the process before
// exec, which is the bench's own (it forks the child), hundreds of megabytes
// once DuckDB has written the Parquet table in it.
import { readFileSync, writeFileSync } from 'node:fs';

function peakKilobytes() {
  try {
    const hwm = /^VmHWM:\s*(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (hwm) return Number(hwm[1]);
  } catch {
    // Not Linux: getrusage's figure.
  }
  return process.resourceUsage().maxRSS;
}

const file = process.env.FINORM_BENCH_RSS_FILE;
if (file) process.on('exit', () => writeFileSync(file, String(peakKilobytes())));
