import { ErrorCode, ParseError } from '../errors.js';
import { parseArm64Image, probeArm64Image, type Arm64Image } from './arm64/parse.js';
import { parseBzImage, probeBzImage, type BzImage } from './bzimage/parse.js';
import { detectInitrdKind, type InitrdKind } from './cpio.js';
import { detectCodec, type Codec } from './codecs/index.js';
import { parseElf, probeElf, type ElfImage } from './elf/parse.js';
import { parseRiscvImage, probeRiscvImage, type RiscvImage } from './riscv/parse.js';
import { parseZboot, probeZboot, type ZbootImage } from './zboot/parse.js';
// parse-pe.js, not the index: the index also loads the Authenticode code and its ASN.1
// libraries, which every load would then pay for at start-up.
import { parsePe, probePe } from './pe/parse-pe.js';
import type { PeImage } from './pe/types.js';
import { parseUki, probeUki, type Uki } from './uki/index.js';

/** What `inspect` found: one member per format, told apart by `format`. */
export type InspectedImage =
  | { readonly format: 'uki'; readonly uki: Uki }
  | { readonly format: 'zboot'; readonly zboot: ZbootImage }
  | { readonly format: 'bzImage'; readonly bzImage: BzImage }
  | { readonly format: 'arm64-image'; readonly image: Arm64Image }
  | { readonly format: 'riscv-image'; readonly image: RiscvImage }
  | { readonly format: 'pe'; readonly pe: PeImage }
  | { readonly format: 'elf'; readonly elf: ElfImage }
  | { readonly format: 'initrd'; readonly kind: InitrdKind }
  | { readonly format: 'compressed'; readonly codec: Codec };

export type ImageFormat = InspectedImage['format'];

interface Probe {
  readonly format: ImageFormat;
  readonly description: string;
  readonly probe: (head: Uint8Array) => boolean;
  readonly parse: (bytes: Uint8Array) => InspectedImage;
}

/**
 * The probe table, most specific first: a UKI, a zboot image and a bzImage or arm64 Image with
 * an EFI stub are all PE files, so they are tried before the generic PE container. A UKI comes
 * first because its stub may itself look like something else.
 */
const PROBES: readonly Probe[] = [
  { format: 'uki', description: 'Unified Kernel Image (PE with .linux)', probe: probeUki, parse: (bytes) => ({ format: 'uki', uki: parseUki(bytes) }) },
  { format: 'zboot', description: 'EFI zboot (MZ + "zimg")', probe: probeZboot, parse: (bytes) => ({ format: 'zboot', zboot: parseZboot(bytes) }) },
  { format: 'bzImage', description: 'x86 bzImage (0xAA55 + "HdrS")', probe: probeBzImage, parse: (bytes) => ({ format: 'bzImage', bzImage: parseBzImage(bytes) }) },
  { format: 'arm64-image', description: 'arm64 Image ("ARM\\x64" at 0x38)', probe: probeArm64Image, parse: (bytes) => ({ format: 'arm64-image', image: parseArm64Image(bytes) }) },
  { format: 'riscv-image', description: 'RISC-V Image ("RSC\\x05" at 0x38)', probe: probeRiscvImage, parse: (bytes) => ({ format: 'riscv-image', image: parseRiscvImage(bytes) }) },
  { format: 'pe', description: 'PE/COFF (EFI application)', probe: probePe, parse: (bytes) => ({ format: 'pe', pe: parsePe(bytes) }) },
  { format: 'elf', description: 'ELF (vmlinux)', probe: probeElf, parse: (bytes) => ({ format: 'elf', elf: parseElf(bytes) }) },
  {
    format: 'initrd',
    description: 'initramfs (cpio) or initrd filesystem image',
    probe: (head) => detectInitrdKind(head) !== undefined,
    parse: (bytes) => ({ format: 'initrd', kind: detectInitrdKind(bytes)! }),
  },
  {
    format: 'compressed',
    description: 'compressed data (gzip, bzip2, lzma, xz, lzo, lz4, zstd)',
    probe: (head) => detectCodec(head) !== undefined,
    parse: (bytes) => ({ format: 'compressed', codec: detectCodec(bytes)! }),
  },
];

/** The format whose probe matches these first bytes, without parsing further. */
export function detectFormat(head: Uint8Array): ImageFormat | undefined {
  return PROBES.find((entry) => entry.probe(head))?.format;
}

/**
 * Detects the format and parses it. Unknown input is a FORMAT_UNRECOGNIZED ParseError that
 * lists every format tried; a known format that is damaged throws that parser's ParseError.
 */
export function inspect(bytes: Uint8Array): InspectedImage {
  const match = PROBES.find((entry) => entry.probe(bytes));
  if (match === undefined) {
    throw new ParseError(
      ErrorCode.FORMAT_UNRECOGNIZED,
      'image',
      `not a format kexec-ts knows; tried: ${PROBES.map((entry) => entry.description).join(', ')}`,
      { offset: 0 },
    );
  }
  return match.parse(bytes);
}
