// A byte stream for tests of the piece reader: bytes delivered in chunks cut
// at given offsets, with pauses (nothing ready) after chosen chunks.

import type { PieceSourceBytes } from '../../src/io/pieces.js';

export /** A stream of `bytes` in chunks cut at `cuts`; `pauses` holds the chunk indexes after which it has nothing ready for a while. */
function chunked(bytes: Uint8Array, cuts: number[], pauses = new Set<number>()): PieceSourceBytes {
  const bounds = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const c of [...bounds, bytes.length]) {
    chunks.push(bytes.subarray(start, c));
    start = c;
  }
  let next = 0;
  let offset = 0;
  let waiting = false;
  return {
    async read(into, at) {
      waiting = false;
      if (next >= chunks.length) return 0;
      const chunk = chunks[next];
      const n = Math.min(chunk.length - offset, into.length - at);
      into.set(chunk.subarray(offset, offset + n), at);
      offset += n;
      if (offset === chunk.length) {
        if (pauses.has(next)) waiting = true;
        next++;
        offset = 0;
      }
      return n;
    },
    get ready() {
      return !waiting;
    },
    async waitReady() {
      return !waiting;
    },
    async close() {},
  };
}
