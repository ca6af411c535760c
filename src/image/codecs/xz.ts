import { createHash } from 'node:crypto';
import { BcjX86Decoder } from './bcj-x86.js';
import type { StreamDecoder } from './codec.js';
import { Crc64, crc32 } from './checksums.js';
import { LzmaDataError, LzmaDecoder, LzmaStop, decodeLzmaProperties } from './lzma-decoder.js';
import { corrupt, limitExceeded, truncated, type OutputMeter } from './output-meter.js';

/**
 * The .xz container (The .xz File Format 1.2.x, tukaani.org; section numbers below are its),
 * with LZMA2 inside, as scripts/xz_wrap.sh writes it for CONFIG_KERNEL_XZ:
 * `xz --check=crc32 --x86 --lzma2=,dict=32MiB` on x86.
 *
 * Why our own decoder: the kernel's x86 payload carries the x86 BCJ filter, and no maintained
 * npm package decodes that without a compiler or a newer Node: xz-decompress (xz-embedded as
 * WASM) is built without BCJ filters (XZ_OPTIONS_ERROR on a real kernel), @napi-rs/lzma for
 * Node 20 (1.4, lzma-rs) rejects filter 0x04 and 1.5 needs Node >= 22.20, lzma-native and
 * node-liblzma build liblzma at install, and xz-compat may run npm at run time to fetch a
 * native module. Checks (CRC32, CRC64, SHA-256), the index and the footer are all verified.
 */

const STREAM_HEADER_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const STREAM_FOOTER_MAGIC = [0x59, 0x5a];
const STREAM_HEADER_BYTES = 12;
const FILTER_LZMA2 = 0x21;
const FILTER_X86 = 0x04;
const CHECK_NONE = 0x00;
const CHECK_CRC32 = 0x01;
const CHECK_CRC64 = 0x04;
const CHECK_SHA256 = 0x0a;
const CHECK_SIZES: Record<number, number> = { [CHECK_NONE]: 0, [CHECK_CRC32]: 4, [CHECK_CRC64]: 8, [CHECK_SHA256]: 32 };
const MIN_WINDOW_BYTES = 4096;

export const decodeXz: StreamDecoder = async function* (input, meter) {
  let offset = 0;
  for (;;) {
    offset = yield* decodeStream(input, offset, meter);
    // 2.2 Stream Padding: null bytes in multiples of four, then possibly another stream.
    let next = offset;
    while (next + 4 <= input.length && input[next] === 0 && input[next + 1] === 0 && input[next + 2] === 0 && input[next + 3] === 0) next += 4;
    if (!startsWith(input, next, STREAM_HEADER_MAGIC)) return next;
    offset = next;
  }
};

interface BlockRecord {
  unpaddedSize: number;
  uncompressedSize: number;
}

async function* decodeStream(input: Uint8Array, start: number, meter: OutputMeter): AsyncGenerator<Uint8Array, number, void> {
  // 2.1.1 Stream Header: magic, two flag bytes, CRC32 of the flags.
  need(input, start, STREAM_HEADER_BYTES, 'stream header');
  if (!startsWith(input, start, STREAM_HEADER_MAGIC)) throw corrupt('xz', 'no xz stream header magic', { offset: start, field: 'Header Magic Bytes' });
  const flags = input.subarray(start + 6, start + 8);
  if (crc32(flags) !== readU32(input, start + 8)) throw corrupt('xz', 'stream header CRC32 mismatch', { offset: start + 8, field: 'CRC32' });
  if (flags[0] !== 0 || (flags[1]! & 0xf0) !== 0) throw corrupt('xz', 'reserved stream flag bits are set', { offset: start + 6, field: 'Stream Flags' });
  const checkType = flags[1]! & 0x0f;
  const checkSize = CHECK_SIZES[checkType];
  if (checkSize === undefined) throw corrupt('xz', `check type 0x${checkType.toString(16)} is not supported`, { offset: start + 7, field: 'Stream Flags' });

  const records: BlockRecord[] = [];
  let offset = start + STREAM_HEADER_BYTES;
  for (;;) {
    need(input, offset, 1, 'block header size');
    if (input[offset] === 0) break; // 3.1.1: a zero here is the Index Indicator.
    const blockStart = offset;
    const record = yield* decodeBlock(input, blockStart, checkType, checkSize, meter);
    records.push(record);
    offset = blockStart + alignUp(record.unpaddedSize - checkSize, 4) + checkSize;
  }
  const indexStart = offset;
  offset = readIndex(input, indexStart, records);
  return readFooter(input, offset, flags, offset - indexStart);
}

async function* decodeBlock(input: Uint8Array, blockStart: number, checkType: number, checkSize: number, meter: OutputMeter): AsyncGenerator<Uint8Array, BlockRecord, void> {
  // 3.1 Block Header.
  const headerSize = (input[blockStart]! + 1) * 4;
  need(input, blockStart, headerSize, 'block header');
  if (crc32(input.subarray(blockStart, blockStart + headerSize - 4)) !== readU32(input, blockStart + headerSize - 4)) {
    throw corrupt('xz', 'block header CRC32 mismatch', { offset: blockStart + headerSize - 4, field: 'Block Header CRC32' });
  }
  const blockFlags = input[blockStart + 1]!;
  if (blockFlags & 0x3c) throw corrupt('xz', 'reserved block flag bits are set', { offset: blockStart + 1, field: 'Block Flags' });
  const headerEnd = blockStart + headerSize - 4;
  const cursor = { offset: blockStart + 2 };
  const declaredCompressed = blockFlags & 0x40 ? readVarint(input, cursor, headerEnd) : undefined;
  const declaredUncompressed = blockFlags & 0x80 ? readVarint(input, cursor, headerEnd) : undefined;
  let x86StartOffset: number | undefined;
  let dictionaryBytes = 0;
  const filterCount = (blockFlags & 0x03) + 1;
  for (let index = 0; index < filterCount; index++) {
    const filterOffset = cursor.offset;
    const id = readVarint(input, cursor, headerEnd);
    const propertiesSize = readVarint(input, cursor, headerEnd);
    if (cursor.offset + propertiesSize > headerEnd) throw corrupt('xz', 'filter properties run past the block header', { offset: filterOffset, field: 'Filter Flags' });
    const properties = input.subarray(cursor.offset, cursor.offset + propertiesSize);
    cursor.offset += propertiesSize;
    const isLast = index === filterCount - 1;
    if (isLast && id === FILTER_LZMA2 && propertiesSize === 1) {
      // 5.3.1 LZMA2 dictionary size: (2 | (bits & 1)) << (bits / 2 + 11), 40 meaning 4 GiB - 1.
      const bits = properties[0]! & 0x3f;
      if (bits > 40 || properties[0]! & 0xc0) throw corrupt('xz', 'LZMA2 dictionary size is invalid', { offset: filterOffset, field: 'Filter Properties' });
      dictionaryBytes = bits === 40 ? 0xffffffff : (2 | (bits & 1)) * 2 ** (Math.floor(bits / 2) + 11);
    } else if (!isLast && id === FILTER_X86 && x86StartOffset === undefined && (propertiesSize === 0 || propertiesSize === 4)) {
      x86StartOffset = propertiesSize === 4 ? readU32(properties, 0) : 0;
    } else {
      throw corrupt('xz', `filter 0x${id.toString(16)} ${isLast ? 'as the last filter' : 'before LZMA2'} is not supported (only x86 BCJ + LZMA2)`, { offset: filterOffset, field: 'Filter ID' });
    }
  }
  for (let index = cursor.offset; index < headerEnd; index++) {
    if (input[index] !== 0) throw corrupt('xz', 'block header padding is not zero', { offset: index, field: 'Header Padding' });
  }

  // 3.1.4: a block that declares more output than the cap allows is refused before it is decoded.
  if (declaredUncompressed !== undefined && declaredUncompressed > meter.remainingBytes) throw limitExceeded('xz', meter.maxOutputBytes, blockStart);
  const windowBytes = Math.max(MIN_WINDOW_BYTES, Math.min(dictionaryBytes, meter.remainingBytes, declaredUncompressed ?? Number.POSITIVE_INFINITY));
  const decoder = new LzmaDecoder(windowBytes);
  const bcj = x86StartOffset === undefined ? undefined : new BcjX86Decoder(x86StartOffset);
  const check = newCheck(checkType);
  let uncompressedSize = 0;
  const emit = (chunk: Uint8Array, inputOffset: number): Uint8Array | undefined => {
    const filtered = bcj ? bcj.update(chunk) : chunk;
    if (filtered.length === 0) return undefined;
    check.update(filtered);
    uncompressedSize += filtered.length;
    meter.produce(filtered.length, inputOffset);
    return filtered;
  };

  const dataStart = blockStart + headerSize;
  let dataEnd: number;
  const lzma2 = decodeLzma2(input, dataStart, decoder);
  for (;;) {
    const step = lzma2.next();
    if (step.done) {
      dataEnd = step.value;
      break;
    }
    const out = emit(step.value, decoder.inputOffset);
    if (out) yield out;
  }
  if (bcj) {
    const rest = bcj.finish();
    if (rest.length > 0) {
      check.update(rest);
      uncompressedSize += rest.length;
      meter.produce(rest.length, dataEnd);
      yield rest;
    }
  }

  const compressedSize = dataEnd - dataStart;
  if (declaredCompressed !== undefined && declaredCompressed !== compressedSize) {
    throw corrupt('xz', `block holds ${compressedSize} compressed bytes, its header says ${declaredCompressed}`, { offset: blockStart, field: 'Compressed Size' });
  }
  if (declaredUncompressed !== undefined && declaredUncompressed !== uncompressedSize) {
    throw corrupt('xz', `block decompressed to ${uncompressedSize} bytes, its header says ${declaredUncompressed}`, { offset: blockStart, field: 'Uncompressed Size' });
  }
  // 3.2 Block Padding (to a multiple of four from the block's start), then 3.3 Check.
  const paddedEnd = blockStart + alignUp(dataEnd - blockStart, 4);
  need(input, dataEnd, paddedEnd - dataEnd + checkSize, 'block padding and check');
  for (let index = dataEnd; index < paddedEnd; index++) {
    if (input[index] !== 0) throw corrupt('xz', 'block padding is not zero', { offset: index, field: 'Block Padding' });
  }
  const expected = input.subarray(paddedEnd, paddedEnd + checkSize);
  const actual = check.digest();
  if (!equalBytes(expected, actual)) throw corrupt('xz', 'check of the decompressed data does not match', { offset: paddedEnd, field: 'Check' });
  return { unpaddedSize: headerSize + compressedSize + checkSize, uncompressedSize };
}

/** 5.3.1 LZMA2: chunks of uncompressed or LZMA data; yields output, returns the end offset. */
function* decodeLzma2(input: Uint8Array, start: number, decoder: LzmaDecoder): Generator<Uint8Array, number, void> {
  let offset = start;
  let needDictionaryReset = true;
  let needProperties = true;
  try {
    for (;;) {
      need(input, offset, 1, 'LZMA2 control byte');
      const control = input[offset]!;
      if (control === 0x00) return offset + 1;
      if (control >= 0xe0 || control === 0x01) {
        needProperties = true;
        needDictionaryReset = false;
        decoder.resetDictionary();
      } else if (needDictionaryReset) {
        throw corrupt('xz', 'first LZMA2 chunk does not reset the dictionary', { offset, field: 'LZMA2 control' });
      }
      if (control < 0x80) {
        if (control > 0x02) throw corrupt('xz', `LZMA2 control byte 0x${control.toString(16)} is invalid`, { offset, field: 'LZMA2 control' });
        need(input, offset, 3, 'LZMA2 uncompressed chunk header');
        const size = ((input[offset + 1]! << 8) | input[offset + 2]!) + 1;
        need(input, offset + 3, size, 'LZMA2 uncompressed chunk');
        decoder.appendUncompressed(input, offset + 3, size);
        offset += 3 + size;
        yield* decoder.takeOutput();
        continue;
      }
      need(input, offset, 5, 'LZMA2 chunk header');
      const unpackedSize = (control & 0x1f) * 65536 + ((input[offset + 1]! << 8) | input[offset + 2]!) + 1;
      const packedSize = ((input[offset + 3]! << 8) | input[offset + 4]!) + 1;
      offset += 5;
      if (control >= 0xc0) {
        need(input, offset, 1, 'LZMA2 properties');
        const properties = decodeLzmaProperties(input[offset]!);
        if (!properties || properties.lc + properties.lp > 4) throw corrupt('xz', 'LZMA2 properties are invalid', { offset, field: 'LZMA2 properties' });
        decoder.setProperties(properties);
        needProperties = false;
        offset++;
      } else if (needProperties) {
        throw corrupt('xz', 'LZMA2 chunk without properties after a dictionary reset', { offset: offset - 5, field: 'LZMA2 control' });
      } else if (control >= 0xa0) {
        decoder.resetState();
      }
      need(input, offset, packedSize, 'LZMA2 compressed chunk');
      decoder.startRangeCoder(input, offset, offset + packedSize);
      let remaining = unpackedSize;
      while (remaining > 0) {
        const { stop, produced } = decoder.decode(remaining, false);
        remaining -= produced;
        yield* decoder.takeOutput();
        if (stop === LzmaStop.END_MARKER) break;
      }
      if (!decoder.rangeCoderFinished || decoder.inputOffset !== offset + packedSize) {
        throw corrupt('xz', 'LZMA2 chunk does not end where its header says', { offset, field: 'LZMA2 compressed size' });
      }
      offset += packedSize;
    }
  } catch (error) {
    if (error instanceof LzmaDataError) {
      throw error.isTruncation ? truncated('xz', error.message, { offset: error.offset }) : corrupt('xz', error.message, { offset: error.offset });
    }
    throw error;
  }
}

/** 4. Index: one record per block, which must agree with what was decoded; returns its end. */
function readIndex(input: Uint8Array, start: number, records: readonly BlockRecord[]): number {
  const cursor = { offset: start + 1 };
  const count = readVarint(input, cursor, input.length);
  if (count !== records.length) throw corrupt('xz', `index lists ${count} blocks, the stream has ${records.length}`, { offset: start, field: 'Number of Records' });
  for (const record of records) {
    const recordOffset = cursor.offset;
    const unpaddedSize = readVarint(input, cursor, input.length);
    const uncompressedSize = readVarint(input, cursor, input.length);
    if (unpaddedSize !== record.unpaddedSize || uncompressedSize !== record.uncompressedSize) {
      throw corrupt('xz', 'index record does not match its block', { offset: recordOffset, field: 'Index Record' });
    }
  }
  const paddedEnd = start + alignUp(cursor.offset - start, 4);
  need(input, cursor.offset, paddedEnd - cursor.offset + 4, 'index padding and CRC32');
  for (let index = cursor.offset; index < paddedEnd; index++) {
    if (input[index] !== 0) throw corrupt('xz', 'index padding is not zero', { offset: index, field: 'Index Padding' });
  }
  if (crc32(input.subarray(start, paddedEnd)) !== readU32(input, paddedEnd)) throw corrupt('xz', 'index CRC32 mismatch', { offset: paddedEnd, field: 'CRC32' });
  return paddedEnd + 4;
}

/** 2.1.2 Stream Footer: CRC32, Backward Size, the header's flags again, "YZ". */
function readFooter(input: Uint8Array, start: number, headerFlags: Uint8Array, indexBytes: number): number {
  need(input, start, STREAM_HEADER_BYTES, 'stream footer');
  if (crc32(input.subarray(start + 4, start + 10)) !== readU32(input, start)) throw corrupt('xz', 'stream footer CRC32 mismatch', { offset: start, field: 'CRC32' });
  if ((readU32(input, start + 4) + 1) * 4 !== indexBytes) throw corrupt('xz', 'backward size does not match the index', { offset: start + 4, field: 'Backward Size' });
  if (input[start + 8] !== headerFlags[0] || input[start + 9] !== headerFlags[1]) throw corrupt('xz', 'footer flags differ from the header', { offset: start + 8, field: 'Stream Flags' });
  if (!startsWith(input, start + 10, STREAM_FOOTER_MAGIC)) throw corrupt('xz', 'no stream footer magic', { offset: start + 10, field: 'Footer Magic Bytes' });
  return start + STREAM_HEADER_BYTES;
}

interface RunningCheck {
  update(bytes: Uint8Array): void;
  digest(): Uint8Array;
}

function newCheck(checkType: number): RunningCheck {
  switch (checkType) {
    case CHECK_CRC32: {
      let value = 0;
      return {
        update: (bytes) => (value = crc32(bytes, value)),
        digest: () => {
          const out = new Uint8Array(4);
          new DataView(out.buffer).setUint32(0, value, true);
          return out;
        },
      };
    }
    case CHECK_CRC64:
      return new Crc64();
    case CHECK_SHA256: {
      const hash = createHash('sha256');
      return { update: (bytes) => hash.update(bytes), digest: () => new Uint8Array(hash.digest()) };
    }
    default:
      return { update: () => undefined, digest: () => new Uint8Array(0) };
  }
}

/** 1.2 Multibyte Integers: 7 bits a byte, least significant first, at most 9 bytes. */
function readVarint(input: Uint8Array, cursor: { offset: number }, end: number): number {
  let value = 0;
  for (let index = 0; index < 9; index++) {
    if (cursor.offset >= end) throw truncated('xz', 'multibyte integer runs past its field', { offset: cursor.offset });
    const byte = input[cursor.offset++]!;
    if (index > 0 && byte === 0) throw corrupt('xz', 'multibyte integer has a redundant zero byte', { offset: cursor.offset - 1 });
    value += (byte & 0x7f) * 2 ** (7 * index);
    if ((byte & 0x80) === 0) {
      if (!Number.isSafeInteger(value)) throw corrupt('xz', 'multibyte integer is larger than any real file', { offset: cursor.offset - 1 });
      return value;
    }
  }
  throw corrupt('xz', 'multibyte integer is longer than 9 bytes', { offset: cursor.offset });
}

function need(input: Uint8Array, offset: number, length: number, field: string): void {
  if (offset + length > input.length) throw truncated('xz', `${field} needs ${length} bytes at ${offset}, the input has ${input.length}`, { offset, field });
}

function readU32(bytes: Uint8Array, offset: number): number {
  return (bytes[offset]! | (bytes[offset + 1]! << 8) | (bytes[offset + 2]! << 16) | (bytes[offset + 3]! << 24)) >>> 0;
}

function startsWith(input: Uint8Array, offset: number, magic: readonly number[]): boolean {
  return offset + magic.length <= input.length && magic.every((byte, index) => input[offset + index] === byte);
}

function equalBytes(left: Uint8Array, right: Uint8Array): boolean {
  return left.length === right.length && left.every((byte, index) => byte === right[index]);
}

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}
