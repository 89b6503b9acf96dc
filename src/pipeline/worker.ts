// Entry point of a worker thread: receives its setup once, then pieces,
// answering each with its result; at the end 'totals', answered with what it
// gathered over all its pieces.

import { parentPort, workerData } from 'node:worker_threads';
import type { Piece, PieceSetup } from './job.js';
import { pieceProcessor } from './processor.js';
import { ColumnMoments } from '../core/moments.js';

const port = parentPort;
if (port === null) throw new Error('worker.js runs as a worker thread');
const processor = pieceProcessor(workerData as PieceSetup);
port.on('message', (message: Piece | 'totals') => {
  if (message === 'totals') {
    const totals = processor.totals();
    port.postMessage(totals, (totals.groups?.moments ?? []).flatMap(ColumnMoments.buffersOf));
    return;
  }
  const result = processor.process(message);
  // The output's bytes move to the main thread without a copy; the piece's buffer (and an unused spare) go back,
  // and so does a table of groups handed over (the thread has started another).
  const transfer = [result.input];
  if (result.spare !== undefined) transfer.push(result.spare);
  if (result.output.length > 0) transfer.push(result.output.buffer as ArrayBuffer);
  for (const column of result.block?.columns ?? []) {
    for (const array of [column.valid, column.values, column.offsets, column.data]) if (array !== undefined) transfer.push(array.buffer as ArrayBuffer);
  }
  if (result.groups?.moments) transfer.push(...result.groups.moments.flatMap(ColumnMoments.buffersOf));
  if (result.groupOfRow) transfer.push(result.groupOfRow.buffer as ArrayBuffer);
  port.postMessage(result, transfer);
});
