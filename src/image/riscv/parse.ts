import { ByteView } from '../../binary/byte-view.js';
import { defineLayout } from '../../binary/layout.js';
import { ErrorCode, ParseError } from '../../errors.js';

const FORMAT = 'RISC-V Image';

/** The 64-byte RISC-V Image header, Documentation/arch/riscv/boot-image-header.rst. */
export const riscvImageHeaderLayout = defineLayout('riscv_image_header', 64, {
  code0: { offset: 0, type: 'u32' },
  code1: { offset: 4, type: 'u32' },
  text_offset: { offset: 8, type: 'u64' },
  image_size: { offset: 16, type: 'u64' },
  flags: { offset: 24, type: 'u64' },
  version: { offset: 32, type: 'u32' },
  res1: { offset: 36, type: 'u32' },
  res2: { offset: 40, type: 'u64' },
  magic: { offset: 48, type: { bytes: 8 } },
  magic2: { offset: 56, type: { bytes: 4 } },
  res3: { offset: 60, type: 'u32' },
});

/** "RISCV\0\0\0": deprecated since header version 0.2 but still written. */
export const RISCV_IMAGE_MAGIC = 'RISCV\0\0\0';
/** "RSC\x05": the magic to check from version 0.2 on (boot-image-header.rst). */
export const RISCV_IMAGE_MAGIC2 = 'RSC\x05';

export interface RiscvImage {
  readonly format: 'riscv-image';
  readonly textOffset: bigint;
  readonly imageSize: bigint;
  readonly bigEndian: boolean;
  readonly headerVersion: { readonly major: number; readonly minor: number };
  readonly peHeaderOffset: number | undefined;
}

export function probeRiscvImage(head: Uint8Array): boolean {
  const view = new ByteView(head, FORMAT);
  return view.matches(56, RISCV_IMAGE_MAGIC2) || view.matches(48, RISCV_IMAGE_MAGIC);
}

export function parseRiscvImage(bytes: Uint8Array): RiscvImage {
  const view = new ByteView(bytes, FORMAT);
  const header = riscvImageHeaderLayout.read(view);
  const major = header.version >>> 16;
  const minor = header.version & 0xffff;
  // The kernel's own image_probe(): from version 0.2 magic2 must match (arch/riscv/kernel/kexec_image.c).
  const versionAtLeast02 = header.version >= ((0 << 16) | 2);
  if (versionAtLeast02 ? !view.matches(56, RISCV_IMAGE_MAGIC2) : !view.matches(48, RISCV_IMAGE_MAGIC)) {
    throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, FORMAT, `header version ${major}.${minor} without its magic`, {
      offset: versionAtLeast02 ? 56 : 48,
      field: versionAtLeast02 ? 'magic2' : 'magic',
    });
  }
  return {
    format: 'riscv-image',
    textOffset: header.text_offset,
    imageSize: header.image_size,
    bigEndian: (header.flags & 1n) === 1n,
    headerVersion: { major, minor },
    peHeaderOffset: view.matches(0, 'MZ') && header.res3 !== 0 ? header.res3 : undefined,
  };
}
