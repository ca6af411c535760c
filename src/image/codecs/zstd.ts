import { Decompress } from 'fzstd';
import { ZSTDDecoder } from 'zstddec';
import { ParseError } from '../../errors.js';
import type { StreamDecoder } from './codec.js';
import { corrupt, limitExceeded, truncated, type OutputMeter } from './output-meter.js';

/**
 * Zstandard (CONFIG_KERNEL_ZSTD: `zstd -22 --ultra`, scripts/Makefile.lib cmd_zstd22).
 *
 * Two libraries, for two reasons. zstddec runs the reference libzstd (WASM): fast (a 50 MB
 * kernel in ~0.2 s) and it verifies the content checksum, but it decodes a frame in one call
 * into a buffer of the size we give it, and reports failure only as an empty result. fzstd
 * (pure JavaScript) streams and says what went wrong, but without a declared content size it
 * shifts its whole window per block, which for the kernel's 128 MiB window costs ~25x more time.
 * So each frame goes to libzstd with the remaining output allowance as its buffer; only when
 * that fails (or the allowance is beyond what its 32-bit heap can hold) does fzstd decode it,
 * to name the error or to stream the output.
 *
 * Before a frame reaches either, we walk its structure ourselves (RFC 8878, 3.1.1): the header,
 * every block header and the checksum must lie inside the input, the window must be one a real
 * decoder accepts, and a declared content size must fit the cap, so a lying header allocates
 * nothing and a short input is never read past its end. Skippable frames (3.1.2) are stepped
 * over; what follows the last frame is left to the registry (a bzImage has the kernel's 4-byte
 * size there).
 */

const FRAME_MAGIC = 0xfd2fb528;
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
/** ZSTD_WINDOWLOG_LIMIT_DEFAULT (zstd.h): the reference decoder refuses larger windows unless
 * told otherwise. The kernel's zstd22 uses exactly this (128 MiB). */
const MAX_WINDOW_BYTES = 1 << 27;
/** Block_Maximum_Size (RFC 8878, 3.1.1.2.3). */
const MAX_BLOCK_BYTES = 128 * 1024;
/** Input handed to fzstd at a time, so output leaves in pieces. */
const PUSH_BYTES = 64 * 1024;
/** Largest buffer handed to libzstd: zstddec's WASM heap is 32-bit and its malloc result is
 * unchecked (a 2 GiB request returns garbage), so above this only fzstd is used. */
const LIBZSTD_MAX_OUTPUT_BYTES = 1 << 30;
/** Pieces the one-call result is handed out in. */
const OUTPUT_SLICE_BYTES = 1 << 20;

let libzstd: Promise<ZSTDDecoder> | undefined;
function loadLibzstd(): Promise<ZSTDDecoder> {
  libzstd ??= (async () => {
    const decoder = new ZSTDDecoder();
    await decoder.init();
    return decoder;
  })();
  return libzstd;
}

interface FrameExtent {
  end: number;
  isSkippable: boolean;
}

export const decodeZstd: StreamDecoder = async function* (input, meter) {
  let offset = 0;
  let frames = 0;
  while (input.length - offset >= 4) {
    const magic = readU32(input, offset);
    const isFrame = magic === FRAME_MAGIC;
    if (!isFrame && (magic & SKIPPABLE_MAGIC_MASK) >>> 0 !== SKIPPABLE_MAGIC) {
      if (frames === 0) throw corrupt('zstd', 'no Zstandard frame magic', { offset, field: 'Magic_Number' });
      break;
    }
    const extent = walkFrame(input, offset, meter.remainingBytes);
    if (!extent.isSkippable) yield* decodeFrame(input.subarray(offset, extent.end), offset, meter);
    offset = extent.end;
    frames++;
  }
  if (frames === 0) throw truncated('zstd', `magic needs 4 bytes, the input has ${input.length}`, { offset: 0, field: 'Magic_Number' });
  return offset;
};

async function* decodeFrame(frame: Uint8Array, frameOffset: number, meter: OutputMeter): AsyncGenerator<Uint8Array, void, void> {
  const allowance = meter.remainingBytes;
  if (allowance > LIBZSTD_MAX_OUTPUT_BYTES) {
    yield* decodeFrameWithFzstd(frame, frameOffset, meter);
    return;
  }
  if (allowance > 0) {
    const output = (await loadLibzstd()).decode(frame, allowance);
    if (output.length > 0) {
      meter.produce(output.length, frameOffset + frame.length);
      for (let start = 0; start < output.length; start += OUTPUT_SLICE_BYTES) yield output.subarray(start, start + OUTPUT_SLICE_BYTES);
      return;
    }
  }
  // libzstd refused the frame (or it is empty): fzstd decodes it to say why, counting but not
  // keeping the output. If fzstd finds nothing wrong, what libzstd refused is its own check.
  for await (const chunk of decodeFrameWithFzstd(frame, frameOffset, meter)) {
    if (chunk.length > 0) throw corrupt('zstd', 'frame fails libzstd\'s checks (content checksum or block limits)', { offset: frameOffset });
  }
}

async function* decodeFrameWithFzstd(frame: Uint8Array, frameOffset: number, meter: OutputMeter): AsyncGenerator<Uint8Array, void, void> {
  const ready: Uint8Array[] = [];
  let pushed = 0;
  const decompressor = new Decompress((chunk) => {
    meter.produce(chunk.length, frameOffset + pushed);
    // fzstd reuses its buffers between blocks: keep a copy.
    ready.push(chunk.slice());
  });
  for (let start = 0; start < frame.length; start += PUSH_BYTES) {
    const end = Math.min(frame.length, start + PUSH_BYTES);
    pushed = end;
    try {
      decompressor.push(frame.subarray(start, end), end === frame.length);
    } catch (error) {
      if (error instanceof ParseError) throw error;
      throw corrupt('zstd', `frame does not decode: ${error instanceof Error ? error.message : String(error)}`, { offset: frameOffset + start }, error);
    }
    yield* ready.splice(0);
  }
}

/** Checks one frame's layout without decoding it; returns where it ends. */
function walkFrame(input: Uint8Array, start: number, remainingBytes: number): FrameExtent {
  const need = (offset: number, length: number, field: string): void => {
    if (offset + length > input.length) throw truncated('zstd', `${field} needs ${length} bytes at ${offset}, the input has ${input.length}`, { offset, field });
  };
  const magic = readU32(input, start);
  if (magic !== FRAME_MAGIC) {
    need(start + 4, 4, 'Frame_Size');
    const end = start + 8 + readU32(input, start + 4);
    need(start + 8, end - start - 8, 'skippable frame data');
    return { end, isSkippable: true };
  }
  need(start + 4, 1, 'Frame_Header_Descriptor');
  const descriptor = input[start + 4]!;
  const contentSizeFlag = descriptor >>> 6;
  const isSingleSegment = (descriptor & 0x20) !== 0;
  const hasChecksum = (descriptor & 0x04) !== 0;
  const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 3]!;
  if (descriptor & 0x08) throw corrupt('zstd', 'reserved bit of the frame header is set', { offset: start + 4, field: 'Frame_Header_Descriptor' });
  let offset = start + 5;
  let windowBytes = 0;
  if (!isSingleSegment) {
    need(offset, 1, 'Window_Descriptor');
    const exponent = input[offset]! >>> 3;
    const mantissa = input[offset]! & 7;
    const base = 2 ** (10 + exponent);
    windowBytes = base + (base / 8) * mantissa;
    offset++;
  }
  need(offset, dictionaryIdBytes, 'Dictionary_ID');
  let dictionaryId = 0;
  for (let index = 0; index < dictionaryIdBytes; index++) dictionaryId += input[offset + index]! * 2 ** (8 * index);
  if (dictionaryId !== 0) throw corrupt('zstd', `frame needs dictionary ${dictionaryId}, and none is available`, { offset, field: 'Dictionary_ID' });
  offset += dictionaryIdBytes;
  const contentSizeBytes = [isSingleSegment ? 1 : 0, 2, 4, 8][contentSizeFlag]!;
  need(offset, contentSizeBytes, 'Frame_Content_Size');
  let contentSize = 0;
  for (let index = 0; index < contentSizeBytes; index++) contentSize += input[offset + index]! * 2 ** (8 * index);
  if (contentSizeBytes === 2) contentSize += 256;
  offset += contentSizeBytes;
  if (contentSizeBytes > 0 && contentSize > remainingBytes) throw limitExceeded('zstd', remainingBytes, start);
  if (isSingleSegment) windowBytes = contentSize;
  if (windowBytes > MAX_WINDOW_BYTES) {
    throw corrupt('zstd', `window of ${windowBytes} bytes is larger than decoders accept (${MAX_WINDOW_BYTES})`, { offset: start + 5, field: 'Window_Descriptor' });
  }
  const maxBlockBytes = Math.min(MAX_BLOCK_BYTES, Math.max(windowBytes, 1));
  for (;;) {
    need(offset, 3, 'Block_Header');
    const header = input[offset]! | (input[offset + 1]! << 8) | (input[offset + 2]! << 16);
    const isLast = (header & 1) !== 0;
    const type = (header >>> 1) & 3;
    const size = header >>> 3;
    if (type === 3) throw corrupt('zstd', 'reserved block type', { offset, field: 'Block_Type' });
    if (size > maxBlockBytes) throw corrupt('zstd', `block of ${size} bytes is larger than ${maxBlockBytes}`, { offset, field: 'Block_Size' });
    const dataBytes = type === 1 ? 1 : size;
    need(offset + 3, dataBytes, 'block data');
    offset += 3 + dataBytes;
    if (isLast) break;
  }
  if (hasChecksum) {
    need(offset, 4, 'Content_Checksum');
    offset += 4;
  }
  return { end: offset, isSkippable: false };
}

function readU32(input: Uint8Array, offset: number): number {
  return (input[offset]! | (input[offset + 1]! << 8) | (input[offset + 2]! << 16) | (input[offset + 3]! << 24)) >>> 0;
}
