// The compression codecs of Parquet pages: gzip and brotli by Node's zlib;
// snappy by finorm (snappy.ts), into a buffer the caller keeps from page to
// page (a fresh buffer per page would be garbage that outlives a row group);
// zstd, LZ4 and LZ4_RAW by hyparquet-compressors (fzstd and its own LZ4).
// Writing uses snappy.

import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { decompressLz4, decompressLz4Raw, decompressZstd } from 'hyparquet-compressors';
import { CODEC_NAMES, Codec } from './metadata.js';
import { snappyUncompress } from './snappy.js';

/** Thrown for a codec finorm does not have (LZO). */
export class UnsupportedCodec extends Error {}

/**
 * Undoes `codec` on a page's bytes, which must come out `size` bytes long.
 * Snappy writes into `into` (at least `size` bytes), whose start it returns;
 * uncompressed bytes are copied there.
 */
export function decompress(codec: number, input: Uint8Array, size: number, into: Uint8Array): Uint8Array {
  let output: Uint8Array;
  switch (codec) {
    case Codec.UNCOMPRESSED:
      output = input;
      if (input.length === size) {
        output = into.subarray(0, size);
        output.set(input);
      }
      break;
    case Codec.SNAPPY:
      output = into.subarray(0, snappyUncompress(input, into.subarray(0, size)));
      break;
    case Codec.GZIP:
      output = gunzipSync(input);
      break;
    case Codec.BROTLI:
      output = brotliDecompressSync(input);
      break;
    case Codec.ZSTD:
      output = decompressZstd(input, new Uint8Array(size));
      break;
    case Codec.LZ4:
      output = decompressLz4(input, size);
      break;
    case Codec.LZ4_RAW:
      output = decompressLz4Raw(input, size);
      break;
    default:
      throw new UnsupportedCodec(`${CODEC_NAMES[codec] ?? `codec ${codec}`} compression is not supported`);
  }
  if (output.length !== size) throw new Error(`a page decompresses to ${output.length} bytes, its header says ${size}`);
  return output;
}
