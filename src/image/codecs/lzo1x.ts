/**
 * LZO1X block decompression, as the kernel's lib/lzo/lzo1x_decompress_safe.c does it and as
 * Documentation/staging/lzo.rst describes the instructions (the comments name them the same
 * way: state = literals copied by the previous instruction, D/H distance bits, S trailing
 * literals). Only the original bitstream (version 0); lzop never writes LZO-RLE.
 *
 * Why our own: npm has no maintained LZO decoder that runs without a compiler. `lzo` is a
 * node-gyp binding, `lzo-wasm` is a browser-only build of FFmpeg's decoder last changed years
 * ago, and `lzo-decompress` is a small unmaintained port. The format is small enough to check
 * every read and write: each block's output size is known up front (lzop stores it), so the
 * decoder writes into a buffer of exactly that size and refuses anything that would not fit.
 */

import { CodecDataError } from './codec.js';

/** Why LZO1X decoding stopped; lzop.ts turns it into its ParseError. */
export class LzoDataError extends CodecDataError {}

/**
 * Decompresses one LZO1X block `input` into exactly `outputBytes` bytes; throws LzoDataError
 * (with the offset inside `input`) on anything the safe decoder would reject, including input
 * left over after the end-of-stream instruction.
 */
export function decompressLzo1x(input: Uint8Array, outputBytes: number): Uint8Array {
  const output = new Uint8Array(outputBytes);
  let ip = 0;
  let op = 0;
  let state = 0;

  const need = (count: number): void => {
    if (ip + count > input.length) throw new LzoDataError('block ends in the middle of an instruction', ip, true);
  };
  const copyLiterals = (count: number): void => {
    need(count);
    if (op + count > outputBytes) throw new LzoDataError('literals run past the block size', ip);
    output.set(input.subarray(ip, ip + count), op);
    ip += count;
    op += count;
  };
  const copyMatch = (distance: number, length: number): void => {
    if (distance > op) throw new LzoDataError(`match distance ${distance} reaches before the block`, ip);
    if (op + length > outputBytes) throw new LzoDataError('match runs past the block size', ip);
    let source = op - distance;
    for (let index = 0; index < length; index++) output[op++] = output[source++]!;
  };
  /** A length that did not fit its bits: zero bytes add 255 each, then one non-zero byte. */
  const extendedLength = (base: number): number => {
    let length = base;
    for (;;) {
      need(1);
      const byte = input[ip++]!;
      if (byte !== 0) return length + byte;
      length += 255;
      if (length > outputBytes) throw new LzoDataError('length is longer than the block', ip);
    }
  };

  need(1);
  // The first byte: above 17 it is a literal run of (byte - 17) with no dictionary yet.
  if (input[0]! > 17) {
    const count = input[ip++]! - 17;
    copyLiterals(count);
    state = count < 4 ? count : 4;
  }

  for (;;) {
    need(1);
    const instruction = input[ip++]!;
    let trailingLiterals: number;
    if (instruction < 16) {
      if (state === 0) {
        // 0000LLLL with no literals before: a run of 4 or more literals.
        const length = 3 + (instruction === 0 ? extendedLength(15) : instruction);
        copyLiterals(length);
        state = 4;
        continue;
      }
      // 0000DDSS after 1..3 literals: 2 bytes within 1 KiB; after 4+: 3 bytes at 2..3 KiB.
      need(1);
      const high = input[ip++]!;
      const distance = (high << 2) + ((instruction >>> 2) & 3) + (state === 4 ? 2049 : 1);
      copyMatch(distance, state === 4 ? 3 : 2);
      trailingLiterals = instruction & 3;
    } else if (instruction < 32) {
      // 0001HLLL + LE16: 16..48 KiB back; distance 16384 exactly is the end of the stream.
      const length = 2 + ((instruction & 7) === 0 ? extendedLength(7) : instruction & 7);
      need(2);
      const le16 = input[ip]! | (input[ip + 1]! << 8);
      ip += 2;
      const distance = 16384 + ((instruction & 8) << 11) + (le16 >>> 2);
      if (distance === 16384) {
        if (length !== 3) throw new LzoDataError('end-of-stream instruction has the wrong length', ip - 3);
        if (ip !== input.length) throw new LzoDataError(`${input.length - ip} bytes follow the end of the block`, ip);
        if (op !== outputBytes) throw new LzoDataError(`block decompressed to ${op} bytes, lzop says ${outputBytes}`, ip);
        return output;
      }
      copyMatch(distance, length);
      trailingLiterals = le16 & 3;
    } else if (instruction < 64) {
      // 001LLLLL + LE16: within 16 KiB.
      const length = 2 + ((instruction & 31) === 0 ? extendedLength(31) : instruction & 31);
      need(2);
      const le16 = input[ip]! | (input[ip + 1]! << 8);
      ip += 2;
      copyMatch((le16 >>> 2) + 1, length);
      trailingLiterals = le16 & 3;
    } else {
      // 01LDDDSS (3-4 bytes) and 1LLDDDSS (5-8 bytes) + one byte: within 2 KiB.
      need(1);
      const high = input[ip++]!;
      const length = instruction < 128 ? 3 + ((instruction >>> 5) & 1) : 5 + ((instruction >>> 5) & 3);
      copyMatch((high << 3) + ((instruction >>> 2) & 7) + 1, length);
      trailingLiterals = instruction & 3;
    }
    copyLiterals(trailingLiterals);
    state = trailingLiterals;
  }
}
