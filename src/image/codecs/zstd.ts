import { Decompress } from 'fzstd';
import { ZSTDDecoder } from 'zstddec';
import { ZSTDDecoder as ZSTDStreamDecoder } from 'zstddec/stream';
import { ParseError } from '../../errors.js';
import type { StreamDecoder } from './codec.js';
import { corrupt, limitExceeded, OutputMeter, truncated } from './output-meter.js';

/**
 * Zstandard (CONFIG_KERNEL_ZSTD: `zstd -22 --ultra`, scripts/Makefile.lib cmd_zstd22).
 *
 * Two libraries, for two reasons. zstddec runs the reference libzstd (WASM): fast (a 50 MB
 * kernel in ~0.2 s) and it verifies the content checksum. We use its streaming build
 * (ZSTD_decompressStream): output leaves in pieces of a block (128 KiB), so memory is the
 * frame's window and one piece, whatever the frame expands to. (Its one-call build needs an
 * output buffer of the whole frame inside the WASM heap, which never shrinks: without a declared
 * size that was a buffer of the whole cap, written full by a bomb before it failed, then copied
 * out.) The streaming build reports no errors: a bad block leaves its input where it was, and a
 * stalled stream is how we see one (LibzstdStream). fzstd (pure JavaScript) then decodes the
 * frame again, to say what went wrong. It does not lead because without a declared content size
 * it shifts its whole window per block, which for the kernel's 128 MiB window costs ~25x more
 * time, and it does not check the content checksum.
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
/**
 * Input handed to libzstd at a time. Once the cap is passed (or the consumer stops reading) we
 * hand it no more and let it run out the piece it has, because only a stream that ends frees
 * its context inside the WASM heap; small pieces bound that last run: a 4-byte RLE block
 * expands to at most 128 KiB, so 4 KiB of input to at most 128 MiB of discarded output.
 */
const LIBZSTD_PIECE_BYTES = 4096;
/**
 * WASM heap given up to streams libzstd stopped on (a bad block, a wrong checksum): their
 * context and window are never freed, as zstddec's stream frees them only at its end. Past this
 * much (four bad frames with the kernel's 128 MiB window) the streaming build is left alone for
 * the rest of the process and frames go to the one-call build (decodeFrameInOneCall): the heap
 * is 32-bit and its malloc result unchecked, so it must not be allowed to run out.
 */
const LIBZSTD_ABANDONED_BYTES_LIMIT = 512 * 1024 * 1024;
/** What one abandoned stream holds besides its window: ZSTD_DCtx, its input and block buffers. */
const LIBZSTD_STREAM_OVERHEAD_BYTES = 512 * 1024;

/** Largest buffer handed to the one-call build: its WASM heap is 32-bit and its malloc result is
 * unchecked (a 2 GiB request returns garbage). */
const LIBZSTD_ONE_CALL_MAX_OUTPUT_BYTES = 1 << 30;

let libzstd: Promise<ZSTDStreamDecoder> | undefined;
let libzstdOneCall: Promise<ZSTDDecoder> | undefined;
let libzstdAbandonedBytes = 0;
function loadLibzstd(): Promise<ZSTDStreamDecoder> {
  libzstd ??= (async () => {
    const decoder = new ZSTDStreamDecoder();
    await decoder.init();
    return decoder;
  })();
  return libzstd;
}
function loadLibzstdOneCall(): Promise<ZSTDDecoder> {
  libzstdOneCall ??= (async () => {
    const decoder = new ZSTDDecoder();
    await decoder.init();
    return decoder;
  })();
  return libzstdOneCall;
}

interface FrameExtent {
  end: number;
  isSkippable: boolean;
  windowBytes: number;
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
    const extent = walkFrame(input, offset, meter);
    if (!extent.isSkippable) yield* decodeFrame(input.subarray(offset, extent.end), offset, extent.windowBytes, meter);
    offset = extent.end;
    frames++;
  }
  if (frames === 0) throw truncated('zstd', `magic needs 4 bytes, the input has ${input.length}`, { offset: 0, field: 'Magic_Number' });
  return offset;
};

async function* decodeFrame(frame: Uint8Array, frameOffset: number, windowBytes: number, meter: OutputMeter): AsyncGenerator<Uint8Array, void, void> {
  const allowance = meter.remainingBytes;
  if (libzstdAbandonedBytes > LIBZSTD_ABANDONED_BYTES_LIMIT) {
    yield* decodeFrameInOneCall(frame, frameOffset, meter);
    return;
  }
  const stream = new LibzstdStream(await loadLibzstd(), frame);
  try {
    for (;;) {
      const chunk = stream.next();
      if (chunk === undefined) break;
      meter.produce(chunk.length, frameOffset + stream.fedBytes);
      yield chunk;
    }
  } finally {
    // The cap was passed, the consumer stopped, or the stream failed: let it end, to free it.
    stream.close(windowBytes);
  }
  if (stream.failure === undefined) return;
  // libzstd stopped on the frame: fzstd decodes it to say why, counting (within the same
  // allowance) but not keeping the output. If fzstd finds nothing wrong, what libzstd refused is
  // its own check.
  for await (const chunk of decodeFrameWithFzstd(frame, frameOffset, new OutputMeter('zstd', allowance))) {
    if (chunk.length > 0) throw corrupt('zstd', 'frame fails libzstd\'s checks (content checksum or block limits)', { offset: frameOffset });
  }
  throw corrupt('zstd', 'frame fails libzstd\'s checks (content checksum or block limits)', { offset: frameOffset }, stream.failure);
}

/**
 * One frame through zstddec's ZSTD_decompressStream, fed LIBZSTD_PIECE_BYTES at a time. Its
 * generator loops on a piece until the piece is consumed, yielding what each call produced; a
 * call that produced nothing has consumed its whole piece, so a second empty result without a
 * new piece being asked for is a call that failed, and would fail again for ever.
 */
class LibzstdStream {
  /** Bytes of the frame handed to libzstd so far. */
  fedBytes = 0;
  /** Why the stream stopped early, when it did. */
  failure: unknown;
  private readonly outputs: Generator<Uint8Array>;
  private isFeeding = true;
  private isDone = false;
  private piecesAtLastEmpty = -1;
  private pieces = 0;

  constructor(decoder: ZSTDStreamDecoder, frame: Uint8Array) {
    const feed = (function* (this: LibzstdStream): Generator<Uint8Array> {
      for (let start = 0; start < frame.length && this.isFeeding; start += LIBZSTD_PIECE_BYTES) {
        this.fedBytes = Math.min(frame.length, start + LIBZSTD_PIECE_BYTES);
        this.pieces++;
        yield frame.subarray(start, this.fedBytes);
      }
    }).call(this);
    this.outputs = decoder.decodeStreaming(feed);
  }

  /** The next non-empty piece of output, or undefined at the end (or on failure). */
  next(): Uint8Array | undefined {
    while (!this.isDone) {
      let step: IteratorResult<Uint8Array>;
      try {
        step = this.outputs.next();
      } catch (error) {
        // "Incomplete stream": the frame's blocks ended before its last one said so.
        this.isDone = true;
        if (this.isFeeding) this.failure = error;
        return undefined;
      }
      if (step.done) {
        this.isDone = true;
        return undefined;
      }
      if (step.value.length > 0) return step.value;
      if (this.piecesAtLastEmpty === this.pieces) {
        this.failure = new Error('ZSTD_decompressStream made no progress');
        return undefined;
      }
      this.piecesAtLastEmpty = this.pieces;
    }
    return undefined;
  }

  /** Runs out the piece libzstd has, discarding its output, so that the stream frees itself. */
  close(windowBytes: number): void {
    this.isFeeding = false;
    while (this.failure === undefined && this.next() !== undefined);
    if (!this.isDone) libzstdAbandonedBytes += windowBytes + LIBZSTD_STREAM_OVERHEAD_BYTES;
  }
}

/**
 * The fallback once libzstd's streaming heap has given up too much: zstddec's one-call build,
 * a separate WASM instance that frees what it allocates, with the remaining allowance as its
 * output buffer. Memory is that allowance (twice, with the copy out), as it was before frames
 * were streamed; beyond what its 32-bit heap can hold, fzstd decodes the frame unchecked.
 */
async function* decodeFrameInOneCall(frame: Uint8Array, frameOffset: number, meter: OutputMeter): AsyncGenerator<Uint8Array, void, void> {
  const allowance = meter.remainingBytes;
  if (allowance > LIBZSTD_ONE_CALL_MAX_OUTPUT_BYTES) {
    yield* decodeFrameWithFzstd(frame, frameOffset, meter);
    return;
  }
  if (allowance > 0) {
    const output = (await loadLibzstdOneCall()).decode(frame, allowance);
    if (output.length > 0) {
      meter.produce(output.length, frameOffset + frame.length);
      for (let start = 0; start < output.length; start += MAX_BLOCK_BYTES) yield output.subarray(start, start + MAX_BLOCK_BYTES);
      return;
    }
  }
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
function walkFrame(input: Uint8Array, start: number, meter: OutputMeter): FrameExtent {
  const need = (offset: number, length: number, field: string): void => {
    if (offset + length > input.length) throw truncated('zstd', `${field} needs ${length} bytes at ${offset}, the input has ${input.length}`, { offset, field });
  };
  const magic = readU32(input, start);
  if (magic !== FRAME_MAGIC) {
    need(start + 4, 4, 'Frame_Size');
    const end = start + 8 + readU32(input, start + 4);
    need(start + 8, end - start - 8, 'skippable frame data');
    return { end, isSkippable: true, windowBytes: 0 };
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
  if (contentSizeBytes > 0 && contentSize > meter.remainingBytes) throw limitExceeded('zstd', meter.maxOutputBytes, start);
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
  return { end: offset, isSkippable: false, windowBytes };
}

function readU32(input: Uint8Array, offset: number): number {
  return (input[offset]! | (input[offset + 1]! << 8) | (input[offset + 2]! << 16) | (input[offset + 3]! << 24)) >>> 0;
}
