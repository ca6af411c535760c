import { ErrorCode, ParseError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import type { Codec } from './codec.js';

export type ProgressListener = (inBytes: number, outBytes: number) => void;

/**
 * Counts what a decoder has produced and consumed, and stops it the moment the output would
 * pass `maxOutputBytes`. Every decoder calls `produce` before it hands out a chunk, and the
 * chunks are small (at most a block of the format), so a bomb is stopped promptly and memory
 * never grows past the cap plus one chunk.
 */
export class OutputMeter {
  readonly codec: Codec;
  readonly maxOutputBytes: number;
  private readonly onProgress: ProgressListener | undefined;
  outBytes = 0;
  inBytes = 0;

  constructor(codec: Codec, maxOutputBytes: number, onProgress?: ProgressListener) {
    this.codec = codec;
    this.maxOutputBytes = maxOutputBytes;
    this.onProgress = onProgress;
  }

  /** Bytes still allowed out; decoders size their buffers with it. */
  get remainingBytes(): number {
    return this.maxOutputBytes - this.outBytes;
  }

  /** Records `count` more output bytes (input consumed up to `inputOffset`, when known). */
  produce(count: number, inputOffset?: number): void {
    if (inputOffset !== undefined) this.inBytes = inputOffset;
    if (count > this.remainingBytes) throw limitExceeded(this.codec, this.maxOutputBytes, this.inBytes);
    this.outBytes += count;
    this.onProgress?.(this.inBytes, this.outBytes);
  }

  /** The decoder is done: one last progress report with where the compressed data ended. */
  finish(inputOffset: number): void {
    this.inBytes = inputOffset;
    this.onProgress?.(this.inBytes, this.outBytes);
  }
}

/**
 * The output passed the cap. The message says what the cap is and why it exists, never how to
 * lift it: the library's caps (LIMITS.kernelPayloadBytes, CRASH_ARM_LIMITS.initrdUnpackedBytes)
 * sit far above any real kernel, module or initrd, so passing one is the data's fault, and a
 * person at the command line has no option to change it anyway. Only a cap below ours, which
 * just a library caller can set, is worth pointing back at.
 */
export function limitExceeded(codec: Codec, maxOutputBytes: number, offset?: number): ParseError {
  const isOurCap = maxOutputBytes >= LIMITS.kernelPayloadBytes;
  return new ParseError(
    ErrorCode.FORMAT_LIMIT_EXCEEDED,
    codec,
    `more than ${describeBytes(maxOutputBytes)} decompressed${isOurCap ? ': larger than any real kernel, module or initrd' : ", the caller's cap"}`,
    offset !== undefined ? { offset } : {},
    {
      remedy: isOurCap
        ? 'The compressed data is a decompression bomb or a corrupt stream; use an intact copy of the file.'
        : 'The data is larger than the cap this caller chose for it, or it is a decompression bomb.',
    },
  );
}

function describeBytes(bytes: number): string {
  const mib = bytes / 2 ** 20;
  if (mib >= 1024 && Number.isInteger(mib / 1024)) return `${mib / 1024} GiB`;
  return Number.isInteger(mib) && mib > 0 ? `${mib} MiB` : `${bytes} bytes`;
}

/** The compressed data is wrong: a bad code, a checksum mismatch, an impossible length. */
export function corrupt(codec: Codec, message: string, where: { offset?: number; field?: string } = {}, cause?: unknown): ParseError {
  return new ParseError(ErrorCode.DECOMPRESSION_FAILED, codec, message, where, cause === undefined ? {} : { cause });
}

/** The input ends before the compressed data does. */
export function truncated(codec: Codec, message: string, where: { offset?: number; field?: string } = {}): ParseError {
  return new ParseError(ErrorCode.FORMAT_TRUNCATED, codec, message, where);
}
