// The compression codecs of Parquet pages: gzip and brotli by Node's zlib;
// snappy decompressed here, into a buffer the caller keeps from page to page
// (the format is a few lines; a fresh buffer per page would be garbage that
// outlives a row group), and compressed by hysnappy (Google's snappy in
// WebAssembly); zstd, LZ4 and LZ4_RAW by hyparquet-compressors (fzstd and its
// own LZ4). Writing uses snappy.

import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { decompressLz4, decompressLz4Raw, decompressZstd } from 'hyparquet-compressors';
import { snappyCompressor } from 'hysnappy';
import { CODEC_NAMES, Codec } from './metadata.js';

let compressSnappy: ((input: Uint8Array) => Uint8Array) | undefined;

/** Thrown for a codec finorm does not have (LZO). */
export class UnsupportedCodec extends Error {}

/**
 * Undoes `codec` on a page's bytes, which must come out `size` bytes long.
 * Snappy writes into `into` (at least `size` bytes), whose start it returns.
 */
export function decompress(codec: number, input: Uint8Array, size: number, into: Uint8Array): Uint8Array {
  let output: Uint8Array;
  switch (codec) {
    case Codec.UNCOMPRESSED:
      output = input;
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

/**
 * Snappy's block format into `output`: a varint length, then literals and
 * copies of earlier output. Returns the length; throws on bytes that are
 * not snappy or do not fit.
 */
function snappyUncompress(input: Uint8Array, output: Uint8Array): number {
  let p = 0;
  let length = 0;
  for (let shift = 0; ; shift += 7) {
    if (p >= input.length || shift > 28) throw new Error('not snappy: bad length');
    const b = input[p++];
    length += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  if (length !== output.length) throw new Error(`snappy length ${length}, the page header says ${output.length}`);
  let o = 0;
  while (p < input.length) {
    const tag = input[p++];
    const type = tag & 3;
    if (type === 0) {
      let n = tag >>> 2;
      if (n >= 60) {
        const bytes = n - 59;
        if (p + bytes > input.length) throw new Error('snappy literal cut short');
        n = 0;
        for (let i = 0; i < bytes; i++) n += input[p++] * 2 ** (8 * i);
      }
      n += 1;
      if (p + n > input.length || o + n > output.length) throw new Error('snappy literal out of bounds');
      if (n < 32) for (let i = 0; i < n; i++) output[o + i] = input[p + i];
      else output.set(input.subarray(p, p + n), o);
      p += n;
      o += n;
      continue;
    }
    let copy: number;
    let offset: number;
    if (type === 1) {
      if (p >= input.length) throw new Error('snappy copy cut short');
      copy = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[p++];
    } else if (type === 2) {
      if (p + 2 > input.length) throw new Error('snappy copy cut short');
      copy = (tag >>> 2) + 1;
      offset = input[p] | (input[p + 1] << 8);
      p += 2;
    } else {
      if (p + 4 > input.length) throw new Error('snappy copy cut short');
      copy = (tag >>> 2) + 1;
      offset = (input[p] | (input[p + 1] << 8) | (input[p + 2] << 16)) + input[p + 3] * 2 ** 24;
      p += 4;
    }
    if (offset === 0 || offset > o || o + copy > output.length) throw new Error('snappy copy out of bounds');
    // Short copies (most are) byte by byte; an overlapping copy must be, as it repeats what it writes.
    if (copy >= 32 && offset >= copy) output.copyWithin(o, o - offset, o - offset + copy);
    else for (let i = 0; i < copy; i++) output[o + i] = output[o - offset + i];
    o += copy;
  }
  return o;
}

/** Snappy-compresses a page's bytes. */
export function snappy(input: Uint8Array): Uint8Array {
  compressSnappy ??= snappyCompressor();
  return compressSnappy(input);
}
