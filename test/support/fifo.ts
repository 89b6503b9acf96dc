// A reader that takes its time, to keep a writer's writes pending.

import { createReadStream } from 'node:fs';

/** The bytes of a named pipe, read 4 KiB at a time with a pause after each read. */
export function slowlyRead(fifo: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    const stream = createReadStream(fifo, { highWaterMark: 4096 });
    stream.on('data', (part) => {
      parts.push(part as Buffer);
      stream.pause();
      setTimeout(() => stream.resume(), 1);
    });
    stream.on('end', () => resolve(Buffer.concat(parts)));
    stream.on('error', reject);
  });
}
