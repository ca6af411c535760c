import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { PAGE_CODEC_FLAGS, type PageCodec } from '../vmcore/kdump-layout.js';
import { Lzo1xCompressor } from './lzo1x-compress.js';

// Page-wise compression as makedumpfile's write_kdump_pages_cyclic() does it: each page on its
// own (zlib at level 1, Z_BEST_SPEED; LZO1X; snappy; zstd at level 1), and a page whose
// compressed form is not smaller than the page is stored raw (flags 0).

export type Compression = 'none' | PageCodec;
export const COMPRESSIONS: readonly Compression[] = ['none', 'zlib', 'lzo', 'snappy', 'zstd'];

export interface PageCompressor {
  readonly compression: Compression;
  /** The disk_dump_header status bit (0 for none). */
  readonly flag: number;
  /** Each page compressed, or undefined where that would not save space (stored raw). */
  compressBatch(pages: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
}

const require = createRequire(import.meta.url);
type SnappyModule = { compressSync(data: Buffer): Buffer };
type ZstdModule = { compress(data: Buffer, level?: number): Promise<Buffer> };

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const smaller = (compressed: Uint8Array, page: Uint8Array): Uint8Array | undefined => (compressed.length < page.length ? compressed : undefined);

export function createPageCompressor(compression: Compression): PageCompressor {
  switch (compression) {
    case 'none':
      return { compression, flag: 0, compressBatch: async (pages) => pages.map(() => undefined) };
    case 'zlib': {
      // Each call allocates its output chunk: one just larger than what deflate can make of a
      // page (stored blocks add 5 bytes per 64 KiB, the zlib wrapper 6) instead of the default
      // 16 KiB keeps the garbage, and so the memory held between collections, small.
      let options: zlib.ZlibOptions = { level: zlib.constants.Z_BEST_SPEED };
      return {
        compression,
        flag: PAGE_CODEC_FLAGS.zlib,
        compressBatch: async (pages) => {
          const pageBytes = pages[0]?.length ?? 0;
          if (options.chunkSize !== pageBytes + 64 && pageBytes > 0) options = { level: zlib.constants.Z_BEST_SPEED, chunkSize: pageBytes + 64 };
          return pages.map((page) => smaller(zlib.deflateSync(page, options), page));
        },
      };
    }
    case 'lzo': {
      const lzo = new Lzo1xCompressor();
      return { compression, flag: PAGE_CODEC_FLAGS.lzo, compressBatch: async (pages) => pages.map((page) => lzo.compress(page, page.length)) };
    }
    case 'snappy': {
      // Native modules load on first use: a dump without them never needs them.
      const snappy = require('snappy') as SnappyModule;
      return { compression, flag: PAGE_CODEC_FLAGS.snappy, compressBatch: async (pages) => pages.map((page) => smaller(snappy.compressSync(asBuffer(page)), page)) };
    }
    case 'zstd': {
      const zstd = require('@mongodb-js/zstd') as ZstdModule;
      // Only asynchronous: the pages of a batch are compressed in parallel on libuv's pool.
      return {
        compression,
        flag: PAGE_CODEC_FLAGS.zstd,
        compressBatch: async (pages) => (await Promise.all(pages.map((page) => zstd.compress(asBuffer(page), 1)))).map((compressed, index) => smaller(compressed, pages[index]!)),
      };
    }
  }
}
