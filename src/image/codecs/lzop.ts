import type { StreamDecoder } from './codec.js';
import { crc32 } from './checksums.js';
import { LzoDataError, decompressLzo1x } from './lzo1x.js';
import { corrupt, truncated } from './output-meter.js';

/**
 * The lzop file format that CONFIG_KERNEL_LZO payloads use (`lzop -9`, scripts/Makefile.lib
 * cmd_lzo) and lib/decompress_unlzo.c reads: a header, then blocks of
 * {u32 BE uncompressed size, u32 BE compressed size, checksums, data}, ended by a zero
 * uncompressed size. All integers are big-endian. The field layout follows lzop's own reader
 * (lzop.c read_header / p_lzo.c); the kernel's reader skips what it does not need, and we check
 * the header and block checksums it skips.
 */

const LZOP_MAGIC = [0x89, 0x4c, 0x5a, 0x4f, 0x00, 0x0d, 0x0a, 0x1a, 0x0a];
/** The kernel refuses blocks larger than lzop's default block size (LZO_BLOCK_SIZE, 256 KiB). */
const MAX_BLOCK_BYTES = 256 * 1024;
// Header flags (lzop's conf.h F_*).
const F_ADLER32_D = 0x0001;
const F_ADLER32_C = 0x0002;
const F_H_EXTRA_FIELD = 0x0040;
const F_CRC32_D = 0x0100;
const F_CRC32_C = 0x0200;
const F_MULTIPART = 0x0400;
const F_H_FILTER = 0x0800;
const F_H_CRC32 = 0x1000;
/** Methods M_LZO1X_1, M_LZO1X_1_15, M_LZO1X_999: all decode with lzo1x_decompress. */
const LZO1X_METHODS = new Set([1, 2, 3]);

export const decodeLzop: StreamDecoder = async function* (input, meter) {
  const reader = new BigEndianReader(input);
  const { flags, end } = readHeader(reader);
  reader.offset = end;
  for (;;) {
    const blockOffset = reader.offset;
    const uncompressedBytes = reader.u32('uncompressed block size');
    if (uncompressedBytes === 0) return reader.offset;
    if (uncompressedBytes > MAX_BLOCK_BYTES) {
      throw corrupt('lzo', `block of ${uncompressedBytes} bytes is larger than the kernel accepts (${MAX_BLOCK_BYTES})`, { offset: blockOffset, field: 'dst_len' });
    }
    const compressedBytes = reader.u32('compressed block size');
    if (compressedBytes === 0 || compressedBytes > uncompressedBytes) {
      throw corrupt('lzo', `compressed size ${compressedBytes} is not in 1..${uncompressedBytes}`, { offset: blockOffset + 4, field: 'src_len' });
    }
    const isStored = compressedBytes === uncompressedBytes;
    const adlerOfData = flags & F_ADLER32_D ? reader.u32('d_adler32') : undefined;
    const crcOfData = flags & F_CRC32_D ? reader.u32('d_crc32') : undefined;
    // Checksums of the compressed bytes exist only for blocks that were compressed.
    if (!isStored && flags & F_ADLER32_C) reader.u32('c_adler32');
    if (!isStored && flags & F_CRC32_C) reader.u32('c_crc32');
    const dataOffset = reader.offset;
    const data = reader.bytes(compressedBytes, 'block data');
    meter.produce(uncompressedBytes, reader.offset);
    let block: Uint8Array;
    if (isStored) {
      block = data.slice();
    } else {
      try {
        block = decompressLzo1x(data, uncompressedBytes);
      } catch (error) {
        if (!(error instanceof LzoDataError)) throw error;
        const at = { offset: dataOffset + error.offset };
        throw error.isTruncation ? truncated('lzo', error.message, at) : corrupt('lzo', error.message, at);
      }
    }
    if (adlerOfData !== undefined && adler32(block) !== adlerOfData) throw corrupt('lzo', 'block Adler-32 mismatch', { offset: blockOffset + 8, field: 'd_adler32' });
    if (crcOfData !== undefined && crc32(block) !== crcOfData) throw corrupt('lzo', 'block CRC32 mismatch', { offset: blockOffset + 8, field: 'd_crc32' });
    yield block;
  }
};

function readHeader(reader: BigEndianReader): { flags: number; end: number } {
  const magic = reader.bytes(LZOP_MAGIC.length, 'magic');
  if (!LZOP_MAGIC.every((byte, index) => magic[index] === byte)) throw corrupt('lzo', 'no lzop magic', { offset: 0, field: 'magic' });
  const headerStart = reader.offset;
  const version = reader.u16('version');
  if (version < 0x0900) throw corrupt('lzo', `lzop version 0x${version.toString(16)} is too old`, { offset: headerStart, field: 'version' });
  reader.u16('lib_version');
  if (version >= 0x0940) reader.u16('version_needed_to_extract');
  const methodOffset = reader.offset;
  const method = reader.u8('method');
  if (!LZO1X_METHODS.has(method)) throw corrupt('lzo', `method ${method} is not LZO1X`, { offset: methodOffset, field: 'method' });
  if (version >= 0x0940) reader.u8('level');
  const flagsOffset = reader.offset;
  const flags = reader.u32('flags');
  if (flags & (F_MULTIPART | F_H_FILTER)) throw corrupt('lzo', 'multipart or filtered lzop files are not supported', { offset: flagsOffset, field: 'flags' });
  reader.u32('mode');
  reader.u32('mtime_low');
  if (version >= 0x0940) reader.u32('mtime_high');
  const nameLength = reader.u8('name length');
  reader.bytes(nameLength, 'name');
  const headerEnd = reader.offset;
  const checksumOffset = reader.offset;
  const expected = reader.u32('header checksum');
  const headerBytes = reader.input.subarray(headerStart, headerEnd);
  const actual = flags & F_H_CRC32 ? crc32(headerBytes) : adler32(headerBytes);
  if (actual !== expected) throw corrupt('lzo', 'header checksum mismatch', { offset: checksumOffset, field: 'header checksum' });
  if (flags & F_H_EXTRA_FIELD) {
    const extraLength = reader.u32('extra field length');
    reader.bytes(extraLength, 'extra field');
    reader.u32('extra field checksum');
  }
  return { flags, end: reader.offset };
}

/** Adler-32 (RFC 1950, 8.2), which lzop uses for its header and by default for block data. */
function adler32(bytes: Uint8Array): number {
  let a = 1;
  let b = 0;
  const NMAX = 5552; // largest run before b can overflow 2^32 (zlib's adler32.c).
  for (let start = 0; start < bytes.length; start += NMAX) {
    const end = Math.min(bytes.length, start + NMAX);
    for (let index = start; index < end; index++) {
      a += bytes[index]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

class BigEndianReader {
  readonly input: Uint8Array;
  offset = 0;
  constructor(input: Uint8Array) {
    this.input = input;
  }
  bytes(length: number, field: string): Uint8Array {
    if (this.offset + length > this.input.length) {
      throw truncated('lzo', `${field} needs ${length} bytes at ${this.offset}, the input has ${this.input.length}`, { offset: this.offset, field });
    }
    const out = this.input.subarray(this.offset, this.offset + length);
    this.offset += length;
    return out;
  }
  u8(field: string): number {
    return this.bytes(1, field)[0]!;
  }
  u16(field: string): number {
    const b = this.bytes(2, field);
    return (b[0]! << 8) | b[1]!;
  }
  u32(field: string): number {
    const b = this.bytes(4, field);
    return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
  }
}
