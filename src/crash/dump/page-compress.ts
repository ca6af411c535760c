import { PAGE_CODEC_FLAGS, type PageCodec } from '../vmcore/kdump-layout.js';
import { compressPagesInline } from './page-codecs-inline.js';

// Page-wise compression (page-codecs-inline.ts) behind the one interface the writer uses.
// Compression threads were tried and dropped: on the 2-core test machines a pool of two took
// longer than the calling thread alone (start-up and copies) and each thread added ~50 MiB of
// peak RSS, three times the whole save's budget; a capture kernel usually has one CPU anyway.

export type Compression = 'none' | PageCodec;
export const COMPRESSIONS: readonly Compression[] = ['none', 'zlib', 'lzo', 'snappy', 'zstd'];

export interface CompressedBatch {
  readonly pages: readonly Uint8Array[];
  /** Each page compressed, or undefined where that would not save space (stored raw). */
  readonly compressed: readonly (Uint8Array | undefined)[];
}

export interface PageCompressor {
  readonly compression: Compression;
  /** The disk_dump_header status bit (0 for none). */
  readonly flag: number;
  /** Batches the writer may keep in flight; the pages stay the caller's, so 1: await each. */
  readonly depth: number;
  compress(pages: readonly Uint8Array[]): Promise<CompressedBatch>;
  close(): Promise<void>;
}

export function createPageCompressor(compression: Compression): PageCompressor {
  if (compression === 'none') {
    return { compression, flag: 0, depth: 1, compress: async (pages) => ({ pages, compressed: pages.map(() => undefined) }), close: async () => {} };
  }
  return {
    compression,
    flag: PAGE_CODEC_FLAGS[compression],
    depth: 1,
    compress: async (pages) => ({ pages, compressed: await compressPagesInline(compression, pages) }),
    close: async () => {},
  };
}
