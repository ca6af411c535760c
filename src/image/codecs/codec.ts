import type { OutputMeter } from './output-meter.js';

/** The seven payload compressions the kernel's build can choose (CONFIG_KERNEL_GZIP ... _ZSTD). */
export type Codec = 'gzip' | 'bzip2' | 'lzma' | 'xz' | 'lzo' | 'lz4' | 'zstd';

export const CODECS: readonly Codec[] = ['gzip', 'bzip2', 'lzma', 'xz', 'lzo', 'lz4', 'zstd'];

/**
 * One codec's decoder: reads the compressed stream(s) at the start of `input`, yields the output
 * in chunks (each one already counted by `meter.produce`), and returns the offset where the
 * compressed data ended, so the caller can judge what follows it.
 */
export type StreamDecoder = (input: Uint8Array, meter: OutputMeter) => AsyncGenerator<Uint8Array, number, void>;

/**
 * Why one of our own block decoders (LZMA, LZO1X) stopped, and at which input offset; the
 * container around it turns this into its ParseError. Each decoder has a named subclass so a
 * container catches only its own decoder's errors.
 */
export class CodecDataError extends Error {
  readonly offset: number;
  readonly isTruncation: boolean;
  constructor(message: string, offset: number, isTruncation = false) {
    super(message);
    this.name = new.target.name;
    this.offset = offset;
    this.isTruncation = isTruncation;
  }
}
