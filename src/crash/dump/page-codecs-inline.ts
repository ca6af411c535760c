import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import type { PageCodec } from '../vmcore/kdump-layout.js';
import { Lzo1xCompressor } from './lzo1x-compress.js';

// One page at a time, as makedumpfile's write_kdump_pages_cyclic() compresses: zlib at level 1
// (Z_BEST_SPEED), LZO1X, snappy, zstd at level 1; undefined where the result is not smaller
// than the page (it is then stored raw). Runs on the main thread or in a compression thread.

export type WorkerCompression = PageCodec;

const require = createRequire(import.meta.url);
type SnappyModule = { compressSync(data: Buffer): Buffer };
type ZstdModule = { compress(data: Buffer, level?: number): Promise<Buffer> };

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
const smaller = (compressed: Uint8Array, page: Uint8Array): Uint8Array | undefined => (compressed.length < page.length ? compressed : undefined);

let lzo: Lzo1xCompressor | undefined;
let snappy: SnappyModule | undefined;
let zstd: ZstdModule | undefined;
let zlibOptions: zlib.ZlibOptions | undefined;

export async function compressPagesInline(compression: WorkerCompression, pages: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
  switch (compression) {
    case 'zlib': {
      // Each call allocates its output chunk: one just larger than what deflate can make of a
      // page (stored blocks add 5 bytes per 64 KiB, the zlib wrapper 6) instead of the default
      // 16 KiB keeps the garbage, and so the memory held between collections, small.
      const pageBytes = pages[0]?.length ?? 0;
      if (zlibOptions?.chunkSize !== pageBytes + 64) zlibOptions = { level: zlib.constants.Z_BEST_SPEED, chunkSize: pageBytes + 64 };
      const options = zlibOptions;
      return pages.map((page) => smaller(zlib.deflateSync(page, options), page));
    }
    case 'lzo':
      lzo ??= new Lzo1xCompressor();
      return pages.map((page) => lzo!.compress(page, page.length));
    case 'snappy':
      // Native modules load on first use: a dump without them never needs them.
      snappy ??= require('snappy') as SnappyModule;
      return pages.map((page) => smaller(snappy!.compressSync(asBuffer(page)), page));
    case 'zstd': {
      zstd ??= require('@mongodb-js/zstd') as ZstdModule;
      // Only asynchronous: the pages of a batch are compressed in parallel on libuv's pool.
      const compressed = await Promise.all(pages.map((page) => zstd!.compress(asBuffer(page), 1)));
      return compressed.map((bytes, index) => smaller(bytes, pages[index]!));
    }
  }
}
