// Worker heaps: finorm sizes each worker's heap for what it holds, and a
// user's NODE_OPTIONS=--max-old-space-size (meant for the main thread) must
// not replace those limits; a worker that runs out of memory anyway is named
// with what it held.

import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { PieceSetup } from '../../src/pipeline/job.js';
import { workerLoad } from '../../src/pipeline/worker-pool.js';

const MEMORY = new URL('../../dist/memory.js', import.meta.url).href;

/** The heap limit (MB) of a worker made with a 24 MB old generation, in a process started with NODE_OPTIONS. */
function workerHeapLimit(nodeOptions: string, reset: boolean): number {
  const script = `
    import { Worker } from 'node:worker_threads';
    import { resetHeapFlagsForWorkers } from ${JSON.stringify(MEMORY)};
    if (${reset}) resetHeapFlagsForWorkers();
    const code = "Promise.all([import('node:worker_threads'), import('node:v8')]).then(([w, v8]) => w.parentPort.postMessage(v8.getHeapStatistics().heap_size_limit))";
    const worker = new Worker(code, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 } });
    worker.on('message', (limit) => { console.log(limit); worker.terminate(); });
  `;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, NODE_OPTIONS: nodeOptions } });
  return Number(out.toString()) / 2 ** 20;
}

const table = { format: 'csv' as const, delimiter: 44, columns: ['key', 'x'], features: [1], names: ['x'], na: [['']], onError: 'stop' as const };

describe('worker heaps', () => {
  it("keep finorm's limits whatever NODE_OPTIONS=--max-old-space-size says", () => {
    // What V8 does unasked: the flag, process-wide, replaces the worker's limit.
    expect(workerHeapLimit('--max-old-space-size=4096', false)).toBeGreaterThan(4000);
    expect(workerHeapLimit('--max-old-space-size=4096', true)).toBeLessThan(64);
    expect(workerHeapLimit('--max-old-space-size=16 --max-semi-space-size=64', true)).toBeLessThan(64);
  });

  it('name what a worker held, for the out-of-memory message', () => {
    const statistics = (groups: boolean, sketches: boolean): PieceSetup => ({
      table: { ...table, features: Array.from({ length: 20_000 }, (_, i) => i + 1) },
      job: { kind: 'statistics', sketches, ...(groups ? { groups: { indexes: [0], names: ['key'] } } : {}) },
    });
    expect(workerLoad(statistics(true, false)).holds).toBe('a table of the groups it met');
    expect(workerLoad(statistics(false, true)).holds).toBe('quantile sketches of 20,000 columns');
    expect(workerLoad(statistics(false, false)).holds).toBe('a piece of the input');
  });
});
