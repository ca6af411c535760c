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
