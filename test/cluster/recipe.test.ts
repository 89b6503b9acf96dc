// The README's "Beyond one machine" recipe, as it is written there, run by
// GNU parallel on two hosts reached over ssh (a real sshd on the loopback
// address, see loopback-cluster.ts), on a generated file of 300,000 rows.
// The results must be those of one machine: the merged fit byte for byte
// `finorm fit`'s (counts exact, moments within 4 ulps at worst), the output
// byte for byte one `finorm batch`'s (one header, rows in order); and again
// when a job on one host is killed mid-run, which --retries runs again on
// the other host. Run by `npm run test:cluster`, not by `npm test`.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, REPO, runFinorm } from '../support/cli.js';
import { ulpDistance } from '../support/exact.js';
import { seededRandom } from '../support/random.js';
import { type LoopbackCluster, missingTools, startLoopbackCluster } from './loopback-cluster.js';

const ROWS = 450_000;
const HOSTS = ['host1', 'host2'];

/** The README's recipe blocks, by the name of the marker before each: `<!-- cluster-test: NAME -->` then a sh block. */
function readmeBlocks(): Map<string, string> {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const blocks = new Map<string, string>();
  for (const match of readme.matchAll(/<!-- cluster-test: ([\w-]+) -->\n```sh\n([\s\S]*?)```\n/g)) blocks.set(match[1], match[2]);
  return blocks;
}

/**
 * A table as quants have them: dates, tickers (some quoted, with a comma and
 * a line break: records are not lines), prices, volumes, returns, market caps,
 * a column with missing values.
 */
function generateTable(rows: number): string {
  const next = seededRandom(2026);
  const out = ['date,ticker,close,volume,ret_1d,ret_20d,mcap,pe,spread,beta'];
  const day0 = Date.UTC(2001, 0, 1);
  for (let i = 0; i < rows; i++) {
    const date = new Date(day0 + Math.floor(i / 500) * 86_400_000).toISOString().slice(0, 10);
    const t = i % 500;
    const ticker = t % 7 === 0 ? `"T${t}, Inc.\nClass A"` : `T${t}`;
    const pe = next() < 0.05 ? '' : (5 + next() * 60).toFixed(3);
    out.push(
      `${date},${ticker},${(10 + next() * 990).toFixed(2)},${Math.floor(next() * 5e7)},${((next() - 0.5) / 10).toPrecision(6)},` +
        `${((next() - 0.5) * 0.4).toPrecision(6)},${(1e9 + next() * 5e12).toFixed(0)},${pe},${(next() * 1e-3).toPrecision(4)},${(0.5 + next()).toFixed(4)}`,
    );
  }
  return out.join('\n') + '\n';
}

/** Runs a shell script in `cwd` with the cluster's environment; resolves with its exit code and stderr. */
function runScript(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script], { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/**
 * Watches for finorm processes running `commands` (in `hostDir`, a host's
 * folder, or on any host) and acts on the first of each command that has run
 * for `after` ms and matches `seq` (GNU parallel's job number) if given:
 * kills it (SIGKILL, a job killed mid-run, as a host that goes down leaves
 * it), or pauses it for `pause` ms (SIGSTOP, then SIGCONT), so that later
 * blocks finish first.
 */
class JobWatcher {
  readonly hits: { command: string; pid: number; seq: string; host: string }[] = [];
  private readonly seen = new Map<number, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(options: { commands: string[]; hostDir?: string; seq?: string; after: number; pause?: number }) {
    this.timer = setInterval(() => {
      for (const entry of readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const pid = Number(entry);
        let argv: string[];
        let cwd: string;
        let seq: string;
        try {
          argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
          if (!argv.includes(BIN)) continue;
          cwd = readlinkSync(`/proc/${pid}/cwd`);
          const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
          seq = environ.find((v) => v.startsWith('PARALLEL_SEQ='))?.slice('PARALLEL_SEQ='.length) ?? '?';
        } catch {
          continue; // gone already
        }
        const command = argv[argv.indexOf(BIN) + 1];
        if (!options.commands.includes(command) || this.hits.some((hit) => hit.command === command)) continue;
        if ((options.hostDir !== undefined && cwd !== options.hostDir) || (options.seq !== undefined && seq !== options.seq)) continue;
        const first = this.seen.get(pid) ?? Date.now();
        this.seen.set(pid, first);
        if (Date.now() - first < options.after) continue;
        try {
          process.kill(pid, options.pause === undefined ? 'SIGKILL' : 'SIGSTOP');
        } catch {
          continue; // it ended first: the next one
        }
        if (options.pause !== undefined) setTimeout(() => process.kill(pid, 'SIGCONT'), options.pause);
        this.hits.push({ command, pid, seq, host: cwd.split('/').pop() as string });
      }
    }, 10);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

interface FitColumn {
  name: string;
  count: number;
  [key: string]: unknown;
}

/** The merged fit against one fit: same columns, counts, min and max exactly; moments within 4 ulps; and then the same bytes. */
function expectSameFit(merged: string, single: string): void {
  const a = JSON.parse(merged) as { columns: FitColumn[] };
  const b = JSON.parse(single) as { columns: FitColumn[] };
  expect(a.columns.map((c) => c.name)).toEqual(b.columns.map((c) => c.name));
  a.columns.forEach((column, j) => {
    const other = b.columns[j];
    for (const key of ['count', 'min', 'max']) expect(column[key], `${column.name}.${key}`).toBe(other[key]);
    for (const key of ['mean', 'variance', 'm2']) expect(ulpDistance(column[key] as number, other[key] as number), `${column.name}.${key}`).toBeLessThanOrEqual(4);
  });
  expect(merged === single, 'the merged fit is byte for byte one fit').toBe(true);
}

/** Exactly one header, and every row's date and ticker in the input's order (records read by csv-parse). */
function expectOneTableInOrder(output: string, input: string): void {
  const keys = (text: string) => (parse(text, { relax_column_count: true }) as string[][]).map((record) => `${record[0]},${record[1]}`);
  const outKeys = keys(output);
  const inKeys = keys(input);
  expect(outKeys.filter((key) => key === inKeys[0])).toHaveLength(1);
  expect(outKeys.length).toBe(inKeys.length);
  const firstOutOfOrder = outKeys.findIndex((key, i) => key !== inKeys[i]);
  expect(firstOutOfOrder, `record ${firstOutOfOrder}: ${outKeys[firstOutOfOrder]} where the input has ${inKeys[firstOutOfOrder]}`).toBe(-1);
}

/** The joblog: one line per block, with its host, exit status and the time it ended. */
function joblog(path: string): { seq: string; host: string; exit: string; end: number }[] {
  const lines = readFileSync(path, 'utf8').trim().split('\n').slice(1);
  return lines.map((line) => {
    const [seq, host, start, runtime, , , exit] = line.split('\t');
    return { seq, host, exit, end: Number(start) + Number(runtime) };
  });
}

const missing = missingTools();

describe('the README recipe on a cluster of loopback hosts (GNU parallel over ssh)', () => {
  let cluster: LoopbackCluster;
  let work: string;
  let input: string;
  const blocks = readmeBlocks();
  const reference: Record<string, string> = {};

  beforeAll(async () => {
    if (missing !== undefined) throw new Error(`the cluster test needs ${missing}`);
    cluster = await startLoopbackCluster(HOSTS);
    work = join(cluster.dir, 'work');
    input = generateTable(ROWS);
    mkdirSync(work);
    writeFileSync(join(work, 'big.csv'), input);
    // Two job slots on each host.
    writeFileSync(join(work, 'hosts.txt'), HOSTS.map((host) => `2/${host}\n`).join(''));
    // One machine, one process each: what the cluster must reproduce.
    const big = join(work, 'big.csv');
    const [fit, batch, fitGroups, batchGroups] = await Promise.all([
      runFinorm(['fit', '-q', '-c', '3-', big]),
      runFinorm(['batch', '-q', '-c', '3-', big]),
      runFinorm(['fit', '-q', '-g', 'ticker', '-c', '3-', big]),
      runFinorm(['batch', '-q', '-g', 'ticker', '-c', '3-', big]),
    ]);
    for (const r of [fit, batch, fitGroups, batchGroups]) expect(r.code, r.stderr).toBe(0);
    Object.assign(reference, { fit: fit.stdout, batch: batch.stdout, fitGroups: fitGroups.stdout, batchGroups: batchGroups.stdout });
  }, 300_000);

  afterAll(async () => {
    await cluster?.stop();
    if (cluster) expect(existsSync(cluster.dir)).toBe(false);
  });

  /** Runs README blocks one after the other under set -euo pipefail, `watcher` watching; they must succeed. */
  async function runRecipe(names: string[], watcher?: JobWatcher): Promise<void> {
    let r;
    try {
      r = await runScript(['set -euo pipefail', ...names.map((name) => blocks.get(name))].join('\n'), work, cluster.env);
    } finally {
      watcher?.stop();
    }
    expect(r.code, `${r.stderr}\nsshd: ${cluster.log()}`).toBe(0);
  }

  /** The recipe's files against one machine's: the merged fit, and the output as one table in order. */
  function expectOneMachine(fit: string, batch: string): void {
    expectSameFit(readFileSync(join(work, 'all.fit.json'), 'utf8'), fit);
    const output = readFileSync(join(work, 'big.z.csv'), 'utf8');
    expectOneTableInOrder(output, input);
    expect(output === batch, 'big.z.csv is byte for byte one finorm batch').toBe(true);
  }

  it('finds the recipe in the README: fit, normalize, and the per-group fit', () => {
    expect([...blocks.keys()]).toEqual(['fit', 'normalize', 'fit-per-group']);
    for (const block of blocks.values()) {
      expect(block).toMatch(/^finorm split -b 10M big\.csv \|\n {4}parallel --slf hosts\.txt --pipe -N1 --block 10M --recend '\\0' --rrs --keep-order --retries 3 /m);
    }
  });

  it('runs it end to end on two hosts: the merged fit is one fit, the output one batch, in order under one header', async () => {
    // Block 1's batch job waits 8 s, so that later blocks end first: only --keep-order keeps the rows in order.
    const pauser = new JobWatcher({ commands: ['batch'], seq: '1', after: 100, pause: 8000 });
    await runRecipe(['fit', 'normalize'], pauser);
    expect(pauser.hits.map((hit) => [hit.command, hit.seq])).toEqual([['batch', '1']]);
    const normalized = joblog(join(work, 'normalize.log'));
    const ended = (seq: string) => normalized.find((j) => j.seq === seq)?.end ?? NaN;
    expect(normalized.some((j) => j.end < ended('1')), 'a later block ended before block 1').toBe(true);
    expectOneMachine(reference.fit, reference.batch);
    // Both hosts worked, every block once, and the files sent to the hosts were removed after.
    for (const log of ['fit.log', 'normalize.log']) {
      const jobs = joblog(join(work, log));
      // Blocks of 10 MiB (to the next record's end) of a table of about 44 MB.
      expect(jobs.length).toBeGreaterThanOrEqual(4);
      expect(new Set(jobs.map((j) => j.seq)).size).toBe(jobs.length);
      expect(jobs.every((j) => j.exit === '0')).toBe(true);
      expect(new Set(jobs.map((j) => j.host))).toEqual(new Set(HOSTS));
    }
    for (const host of HOSTS) expect(readdirSync(cluster.hostDir(host))).toEqual([]);
  }, 600_000);

  it('a job killed mid-run on one host is run again on the other (--retries), with the same results', async () => {
    const killer = new JobWatcher({ commands: ['fit', 'batch'], hostDir: cluster.hostDir('host1'), after: 150 });
    await runRecipe(['fit', 'normalize'], killer);
    // One fit job and one batch job were killed on host1...
    expect(killer.hits.map((k) => k.command).sort()).toEqual(['batch', 'fit']);
    // ...and their blocks ran again, on host2, to the end.
    for (const { command, seq } of killer.hits) {
      const jobs = joblog(join(work, command === 'fit' ? 'fit.log' : 'normalize.log'));
      expect(jobs.find((j) => j.seq === seq)).toMatchObject({ seq, host: 'host2', exit: '0' });
    }
    expectOneMachine(reference.fit, reference.batch);
  }, 600_000);

  it('per group (-g ticker): the merged fit is one per-group fit, and the same second step applies it', async () => {
    await runRecipe(['fit-per-group', 'normalize']);
    expectOneMachine(reference.fitGroups, reference.batchGroups);
  }, 600_000);
});
