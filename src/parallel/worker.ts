// Entry point of a worker thread: receives its setup once, then pieces of
// input, and answers each with its rendered output and statistics.

import { parentPort, workerData } from 'node:worker_threads';
import { type Piece, type PieceSetup, pieceProcessor } from './piece.js';

const port = parentPort;
if (port === null) throw new Error('worker.js runs as a worker thread');
const processPiece = pieceProcessor(workerData as PieceSetup);
port.on('message', (piece: Piece) => {
  const result = processPiece(piece);
  // The output's bytes move to the main thread without a copy; the input's buffer (and an unused spare) go back.
  const transfer = [result.input];
  if (result.spare !== undefined) transfer.push(result.spare);
  if (result.output.length > 0) transfer.push(result.output.buffer as ArrayBuffer);
  port.postMessage(result, transfer);
});
