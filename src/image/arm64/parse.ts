import { ByteView } from '../../binary/byte-view.js';
import { defineLayout } from '../../binary/layout.js';
import { ErrorCode, ParseError } from '../../errors.js';

const FORMAT = 'arm64 Image';

/** The 64-byte arm64 Image header, Documentation/arch/arm64/booting.rst ("Call the kernel image"). */
export const arm64ImageHeaderLayout = defineLayout('arm64_image_header', 64, {
  code0: { offset: 0, type: 'u32' },
  code1: { offset: 4, type: 'u32' },
  text_offset: { offset: 8, type: 'u64' },
  image_size: { offset: 16, type: 'u64' },
  flags: { offset: 24, type: 'u64' },
  res2: { offset: 32, type: 'u64' },
  res3: { offset: 40, type: 'u64' },
  res4: { offset: 48, type: 'u64' },
  magic: { offset: 56, type: 'u32' },
  res5: { offset: 60, type: 'u32' },
});

/** "ARM\x64", little-endian u32 at 0x38. */
export const ARM64_IMAGE_MAGIC = 0x644d5241;

const PAGE_SIZES: Readonly<Record<number, number | undefined>> = { 0: undefined, 1: 4096, 2: 16384, 3: 65536 };

export interface Arm64Image {
  readonly format: 'arm64-image';
  readonly textOffset: bigint;
  /** Effective image size in bytes; 0 means a kernel older than 3.17 (booting.rst). */
  readonly imageSize: bigint;
  readonly bigEndian: boolean;
  /** Kernel page size from flags bits 1-2; undefined when "unspecified". */
  readonly pageSizeBytes: number | undefined;
  /** flags bit 3: 0 = 2 MiB aligned base close to the start of DRAM, 1 = anywhere in memory. */
  readonly physicalPlacementAnywhere: boolean;
  /** The PE header offset in res5: an EFI stub makes the Image also a PE file. */
  readonly peHeaderOffset: number | undefined;
}

export function probeArm64Image(head: Uint8Array): boolean {
  const view = new ByteView(head, FORMAT);
  return view.has(56, 4) && view.u32(56, 'magic') === ARM64_IMAGE_MAGIC;
}

export function parseArm64Image(bytes: Uint8Array): Arm64Image {
  const view = new ByteView(bytes, FORMAT);
  const header = arm64ImageHeaderLayout.read(view);
  if (header.magic !== ARM64_IMAGE_MAGIC) {
    throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, FORMAT, 'no "ARM\\x64" magic', { offset: 56, field: 'magic' });
  }
  const flags = header.flags;
  return {
    format: 'arm64-image',
    textOffset: header.text_offset,
    imageSize: header.image_size,
    bigEndian: (flags & 1n) === 1n,
    pageSizeBytes: PAGE_SIZES[Number((flags >> 1n) & 3n)],
    physicalPlacementAnywhere: ((flags >> 3n) & 1n) === 1n,
    peHeaderOffset: view.matches(0, 'MZ') && header.res5 !== 0 ? header.res5 : undefined,
  };
}
