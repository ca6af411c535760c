import type { StreamDecoder } from './codec.js';
import { corrupt, truncated } from './output-meter.js';

/**
 * LZ4's legacy frame, the one `lz4 -l` writes for CONFIG_KERNEL_LZ4 (scripts/Makefile.lib
 * cmd_lz4: `lz4 -l -c1`, -c1 being the old spelling of -9) and lib/decompress_unlz4.c reads:
 * the magic 0x184C2102 (LE), then blocks of {u32 LE compressed size, LZ4 block}, each block
 * decompressing to exactly 8 MiB except the last. A magic where a block size is expected starts
 * another frame (the kernel skips it; `cat a.lz4 b.lz4` makes such streams).
 *
 * There is no end marker: the frame ends with its input. In a bzImage the build appends the
 * uncompressed size (size_append), and the kernel's boot decompressor passes in_len - 4 to
 * unlz4 so it never reads those bytes as a block. We stop where a block header cannot be one:
 * fewer than 4 bytes left, exactly 4 (a block header with no block), or a size above
 * LZ4_compressBound(8 MiB), as the lz4 tool does; the registry then judges what is left.
 *
 * The LZ4 blocks themselves are decoded by lz4-napi (lz4_flex, memory-safe Rust), loaded on
 * first use so that importing this library never loads a native module.
 */

const LEGACY_MAGIC = 0x184c2102;
const LEGACY_BLOCK_BYTES = 8 * 1024 * 1024;
/** LZ4_COMPRESSBOUND(LEGACY_BLOCK_BYTES): n + n/255 + 16 (lz4.h). */
const MAX_COMPRESSED_BLOCK_BYTES = LEGACY_BLOCK_BYTES + Math.floor(LEGACY_BLOCK_BYTES / 255) + 16;

type UncompressBlock = (data: Uint8Array) => Uint8Array;
let uncompressBlock: UncompressBlock | undefined;

async function loadBlockDecoder(): Promise<UncompressBlock> {
  if (uncompressBlock) return uncompressBlock;
  let lz4: typeof import('lz4-napi');
  try {
    lz4 = await import('lz4-napi');
  } catch (error) {
    throw corrupt('lz4', 'the LZ4 block decoder (lz4-napi) has no build for this platform', {}, error);
  }
  uncompressBlock = (data) => lz4.uncompressSync(data);
  return uncompressBlock;
}

export const decodeLz4Legacy: StreamDecoder = async function* (input, meter) {
  const decodeBlock = await loadBlockDecoder();
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  if (input.length < 4) throw truncated('lz4', `magic needs 4 bytes, the input has ${input.length}`, { offset: 0, field: 'magic' });
  if (view.getUint32(0, true) !== LEGACY_MAGIC) throw corrupt('lz4', 'no LZ4 legacy frame magic (0x184C2102)', { offset: 0, field: 'magic' });
  let offset = 4;
  let previousBlockBytes = LEGACY_BLOCK_BYTES;
  while (input.length - offset >= 4) {
    const word = view.getUint32(offset, true);
    if (word === LEGACY_MAGIC) {
      offset += 4;
      previousBlockBytes = LEGACY_BLOCK_BYTES;
      continue;
    }
    // Exactly 4 bytes left cannot be a block (it would have no data): the build's size_append.
    if (input.length - offset === 4) break;
    if (word > MAX_COMPRESSED_BLOCK_BYTES) break;
    if (previousBlockBytes !== LEGACY_BLOCK_BYTES) {
      throw corrupt('lz4', `a block of ${previousBlockBytes} bytes is followed by another; only the last may be shorter than 8 MiB`, { offset, field: 'block size' });
    }
    if (word === 0) throw corrupt('lz4', 'block of 0 compressed bytes', { offset, field: 'block size' });
    const dataStart = offset + 4;
    if (dataStart + word > input.length) {
      throw truncated('lz4', `block of ${word} bytes runs past the input (${input.length - dataStart} left)`, { offset, field: 'block size' });
    }
    // Every block decodes to at most 8 MiB, so one block past the cap costs at most that much
    // memory before meter.produce refuses it.
    const block = decodeOneBlock(decodeBlock, input.subarray(dataStart, dataStart + word), offset);
    offset = dataStart + word;
    meter.produce(block.length, offset);
    previousBlockBytes = block.length;
    yield block;
  }
  return offset;
};

function decodeOneBlock(decodeBlock: UncompressBlock, data: Uint8Array, offset: number): Uint8Array {
  // lz4-napi takes lz4_flex's size-prepended layout: u32 LE capacity, then the block.
  const framed = new Uint8Array(4 + data.length);
  new DataView(framed.buffer).setUint32(0, LEGACY_BLOCK_BYTES, true);
  framed.set(data, 4);
  try {
    return decodeBlock(framed);
  } catch (error) {
    throw corrupt('lz4', `block does not decode: ${error instanceof Error ? error.message : String(error)}`, { offset }, error);
  }
}
