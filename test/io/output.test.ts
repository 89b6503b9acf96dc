// The output sinks' `written` contract, on which the worker-thread path's
// buffer reuse rests: once `written` is called, the bytes have left the sink,
// so overwriting their buffer must not change what ends up in the file.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openOutput } from '../../src/io/output.js';
import { slowlyRead } from '../support/fifo.js';
import { tempDir } from '../support/temp.js';

const { dir } = tempDir();

/** Blocks of distinct bytes; each is overwritten with 'X' as soon as the sink says it is written. */
async function writeAndOverwrite(path: string, blocks: number, blockBytes: number): Promise<{ expected: Buffer; calls: number }> {
  const sink = await openOutput(path);
  const expected: Buffer[] = [];
  let calls = 0;
  for (let b = 0; b < blocks; b++) {
    const bytes = new Uint8Array(blockBytes).fill(65 + (b % 26));
    expected.push(Buffer.from(bytes));
    await sink.write(bytes, () => {
      calls++;
      bytes.fill(88);
    });
  }
  await sink.commit();
  return { expected: Buffer.concat(expected), calls };
}

describe('output sinks call `written` only once the bytes are no longer needed', () => {
  it('a regular file (written atomically)', async () => {
    const path = `${dir}/out.bin`;
    const { expected, calls } = await writeAndOverwrite(path, 40, 5000);
    expect(calls).toBe(40);
    expect(readFileSync(path).equals(expected)).toBe(true);
  });

  it('a named pipe read slowly (written in place, writes wait for the reader)', async () => {
    const fifo = `${dir}/pipe`;
    execFileSync('mkfifo', [fifo]);
    const read = slowlyRead(fifo);
    const { expected, calls } = await writeAndOverwrite(fifo, 60, 5000);
    expect(calls).toBe(60);
    expect((await read).equals(expected)).toBe(true);
  });
});
