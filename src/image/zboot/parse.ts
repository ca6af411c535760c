import { ByteView } from '../../binary/byte-view.js';
import { defineLayout } from '../../binary/layout.js';
import { ErrorCode, ParseError } from '../../errors.js';

const FORMAT = 'EFI zboot';

/**
 * The header of an EFI zboot image (drivers/firmware/efi/libstub/zboot-header.S): a PE/COFF
 * EFI application whose DOS header carries "zimg", the compressed payload's place and its
 * codec name. The payload decompresses to the arch's plain Image.
 */
export const zbootHeaderLayout = defineLayout('zboot_header', 64, {
  mz_magic: { offset: 0, type: 'u32' },
  image_type: { offset: 4, type: { string: 4 } },
  payload_offset: { offset: 8, type: 'u32' },
  payload_size: { offset: 12, type: 'u32' },
  reserved: { offset: 16, type: { bytes: 8 } },
  compression_type: { offset: 24, type: { string: 32 } },
  linux_pe_magic: { offset: 56, type: 'u32' },
  pe_header_offset: { offset: 60, type: 'u32' },
});

export interface ZbootImage {
  readonly format: 'zboot';
  readonly payloadOffset: number;
  readonly payloadSize: number;
  /** The codec name as the image states it ("gzip", "lz4", "lzma", "lzo", "xz", "zstd"). */
  readonly compressionType: string;
  readonly peHeaderOffset: number;
}

export function probeZboot(head: Uint8Array): boolean {
  const view = new ByteView(head, FORMAT);
  return view.matches(0, 'MZ') && view.matches(4, 'zimg');
}

export function parseZboot(bytes: Uint8Array): ZbootImage {
  const view = new ByteView(bytes, FORMAT);
  const header = zbootHeaderLayout.read(view);
  if (!view.matches(0, 'MZ') || header.image_type !== 'zimg') {
    throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, FORMAT, 'no "MZ" + "zimg" header', { offset: 4, field: 'image_type' });
  }
  if (!view.has(header.payload_offset, header.payload_size)) {
    throw new ParseError(
      ErrorCode.FORMAT_TRUNCATED,
      FORMAT,
      `the payload (${header.payload_size} bytes at ${header.payload_offset}) runs past the end of the file (${view.length})`,
      { offset: 8, field: 'payload_offset' },
    );
  }
  if (header.compression_type === '') throw view.invalid('compression_type is empty', { offset: 24, field: 'compression_type' });
  return {
    format: 'zboot',
    payloadOffset: header.payload_offset,
    payloadSize: header.payload_size,
    compressionType: header.compression_type,
    peHeaderOffset: header.pe_header_offset,
  };
}
