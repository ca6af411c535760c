import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { decompress as zstdDecompressPure } from 'fzstd';
import { ErrorCode, ParseError } from '../../errors.js';
import { decompressLzo1x } from '../../image/codecs/lzo1x.js';
import type { PageCodec } from './kdump-layout.js';

// Decoding one compressed page of a kdump-compressed dump: each page is its own zlib stream,
// LZO1X block, snappy block or zstd frame (makedumpfile's write_kdump_pages_cyclic). The
// result must be exactly one page, as crash's diskdump.c requires.

const require = createRequire(import.meta.url);
let snappyModule: { uncompressSync(data: Buffer, options?: { asBuffer?: boolean }): Buffer | string } | undefined;

function snappy(): NonNullable<typeof snappyModule> {
  // Loaded on first use: a native module, needed only for snappy dumps.
  snappyModule ??= require('snappy') as NonNullable<typeof snappyModule>;
  return snappyModule;
}

export function decompressPage(codec: PageCodec, data: Uint8Array, pageSize: number, format: string, pfn: number): Uint8Array {
  const fail = (cause: unknown, detail = ''): ParseError =>
    new ParseError(ErrorCode.DECOMPRESSION_FAILED, format, `page frame ${pfn} does not decompress with ${codec}${detail}`, { field: 'page data' }, { cause });
  let page: Uint8Array;
  try {
    switch (codec) {
      case 'zlib':
        page = zlib.inflateSync(data, { maxOutputLength: pageSize });
        break;
      case 'lzo':
        page = decompressLzo1x(data, pageSize);
        break;
      case 'snappy': {
        const buffer = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
        page = snappy().uncompressSync(buffer, { asBuffer: true }) as Buffer;
        break;
      }
      case 'zstd':
        page = zstdDecompressPure(data, new Uint8Array(pageSize));
        break;
    }
  } catch (error) {
    throw fail(error);
  }
  if (page.length !== pageSize) throw fail(undefined, `: ${page.length} bytes instead of ${pageSize}`);
  return page;
}
