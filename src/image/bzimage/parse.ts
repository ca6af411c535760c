import { ByteView } from '../../binary/byte-view.js';
import { ErrorCode, ParseError } from '../../errors.js';
import { detectCodec, type Codec } from '../codecs/index.js';
import {
  BOOT_FLAG,
  KERNEL_INFO_MAGIC,
  LOADFLAGS,
  SETUP_HEADER_MAGIC,
  SETUP_HEADER_OFFSET,
  XLOADFLAGS,
  kernelInfoLayout,
  setupHeaderLayout,
} from './layout.js';

const FORMAT = 'bzImage';

export type SetupHeader = ReturnType<typeof setupHeaderLayout.read>;

export interface BzImage {
  readonly format: 'bzImage';
  /** The raw header, every field as boot.rst names it. */
  readonly header: SetupHeader;
  readonly protocolVersion: { readonly major: number; readonly minor: number; readonly text: string };
  /** The string kernel_version points at ("6.1.0-26-cloud-amd64 (debian-kernel@...) #1 SMP ..."). */
  readonly kernelVersion: string | undefined;
  /** setup_sects with the "0 means 4" rule applied. */
  readonly setupSectors: number;
  /** File offset where the protected-mode code starts: (setup_sects + 1) * 512. */
  readonly protectedModeOffset: number;
  readonly loadflags: { readonly loadedHigh: boolean; readonly kaslr: boolean; readonly quiet: boolean; readonly canUseHeap: boolean };
  readonly xloadflags: {
    readonly kernel64: boolean;
    readonly canBeLoadedAbove4G: boolean;
    readonly efiHandover32: boolean;
    readonly efiHandover64: boolean;
    readonly efiKexec: boolean;
    readonly fiveLevelPaging: boolean;
    readonly memEncryption: boolean;
  };
  readonly relocatable: boolean;
  /** Longest command line the kernel accepts, without the NUL (cmdline_size; 255 before protocol 2.06). */
  readonly cmdlineSize: number;
  /** The compressed kernel inside (a file range) and its codec, from its magic; undefined before protocol 2.08. */
  readonly payload: { readonly offset: number; readonly length: number; readonly codec: Codec | undefined } | undefined;
  readonly kernelInfo: { readonly size: number; readonly sizeTotal: number; readonly setupTypeMax: number } | undefined;
  /** An EFI stub: "MZ" at 0, so the file is also a PE image (and may carry a signature). */
  readonly hasEfiStub: boolean;
  readonly warnings: ReadonlyArray<{ code: string; message: string; offset?: number }>;
}

/** The magic check kexec's own bzImage loader starts with: boot_flag 0xAA55 and "HdrS". */
export function probeBzImage(head: Uint8Array): boolean {
  const view = new ByteView(head, FORMAT);
  return view.has(0x202, 4) && view.u16(0x1fe, 'boot_flag') === BOOT_FLAG && view.u32(0x202, 'header') === SETUP_HEADER_MAGIC;
}

/**
 * Parses an x86 bzImage's setup header (Documentation/arch/x86/boot.rst). Fields newer than
 * the image's protocol version are reported as they are in the file but not interpreted.
 */
export function parseBzImage(bytes: Uint8Array): BzImage {
  const view = new ByteView(bytes, FORMAT);
  const header = setupHeaderLayout.read(view, SETUP_HEADER_OFFSET);
  if (header.boot_flag !== BOOT_FLAG) throw view.invalid(`boot_flag is 0x${header.boot_flag.toString(16)}, not 0xaa55`, { offset: 0x1fe, field: 'boot_flag' });
  if (header.header !== SETUP_HEADER_MAGIC) throw view.invalid('no "HdrS" signature: not a bzImage (or a pre-2.00 zImage)', { offset: 0x202, field: 'header' });

  const version = header.version;
  const atLeast = (major: number, minor: number) => version >= ((major << 8) | minor);
  const warnings: Array<{ code: string; message: string; offset?: number }> = [];
  // boot.rst: "If this field is 0, the real value is 4."
  const setupSectors = header.setup_sects === 0 ? 4 : header.setup_sects;
  const protectedModeOffset = (setupSectors + 1) * 512;
  if (protectedModeOffset > bytes.length) {
    throw new ParseError(ErrorCode.FORMAT_TRUNCATED, FORMAT, `setup_sects says the protected-mode code starts at ${protectedModeOffset}, past the end (${bytes.length})`, { offset: 0x1f1, field: 'setup_sects' });
  }

  const payload = atLeast(2, 8) ? readPayload(view, header, protectedModeOffset, warnings) : undefined;
  return {
    format: 'bzImage',
    header,
    protocolVersion: { major: version >> 8, minor: version & 0xff, text: `${version >> 8}.${(version & 0xff).toString().padStart(2, '0')}` },
    kernelVersion: readKernelVersion(view, header.kernel_version, warnings),
    setupSectors,
    protectedModeOffset,
    loadflags: {
      loadedHigh: (header.loadflags & LOADFLAGS.LOADED_HIGH) !== 0,
      kaslr: (header.loadflags & LOADFLAGS.KASLR_FLAG) !== 0,
      quiet: (header.loadflags & LOADFLAGS.QUIET_FLAG) !== 0,
      canUseHeap: (header.loadflags & LOADFLAGS.CAN_USE_HEAP) !== 0,
    },
    xloadflags: {
      kernel64: atLeast(2, 12) && (header.xloadflags & XLOADFLAGS.XLF_KERNEL_64) !== 0,
      canBeLoadedAbove4G: atLeast(2, 12) && (header.xloadflags & XLOADFLAGS.XLF_CAN_BE_LOADED_ABOVE_4G) !== 0,
      efiHandover32: atLeast(2, 12) && (header.xloadflags & XLOADFLAGS.XLF_EFI_HANDOVER_32) !== 0,
      efiHandover64: atLeast(2, 12) && (header.xloadflags & XLOADFLAGS.XLF_EFI_HANDOVER_64) !== 0,
      efiKexec: atLeast(2, 12) && (header.xloadflags & XLOADFLAGS.XLF_EFI_KEXEC) !== 0,
      fiveLevelPaging: atLeast(2, 12) && (header.xloadflags & XLOADFLAGS.XLF_5LEVEL) !== 0,
      memEncryption: atLeast(2, 12) && (header.xloadflags & XLOADFLAGS.XLF_MEM_ENCRYPTION) !== 0,
    },
    relocatable: atLeast(2, 5) && header.relocatable_kernel !== 0,
    // boot.rst: before 2.06 the maximum command line size is 255 characters.
    cmdlineSize: atLeast(2, 6) ? header.cmdline_size : 255,
    payload,
    kernelInfo: atLeast(2, 15) ? readKernelInfo(view, header.kernel_info_offset, protectedModeOffset, warnings) : undefined,
    hasEfiStub: view.matches(0, 'MZ'),
    warnings,
  };
}

function readPayload(view: ByteView, header: SetupHeader, protectedModeOffset: number, warnings: Array<{ code: string; message: string; offset?: number }>) {
  // boot.rst: payload_offset is "from the beginning of the protected-mode code".
  const offset = protectedModeOffset + header.payload_offset;
  const length = header.payload_length;
  if (!view.has(offset, length)) {
    throw new ParseError(ErrorCode.FORMAT_TRUNCATED, FORMAT, `the payload (${length} bytes at ${offset}) runs past the end of the file (${view.length})`, { offset: 0x248, field: 'payload_offset' });
  }
  const codec = detectCodec(view.slice(offset, Math.min(length, 16), 'payload'));
  if (codec === undefined) warnings.push({ code: 'PAYLOAD_CODEC_UNKNOWN', message: 'the payload starts with no known compression magic', offset });
  return { offset, length, codec };
}

function readKernelVersion(view: ByteView, pointer: number, warnings: Array<{ code: string; message: string; offset?: number }>): string | undefined {
  if (pointer === 0) return undefined;
  // boot.rst: "set to a pointer to a null-terminated ... string, less 0x200".
  const offset = pointer + 0x200;
  if (!view.has(offset, 1)) {
    warnings.push({ code: 'KERNEL_VERSION_OUT_OF_RANGE', message: `kernel_version points past the end (${offset})`, offset: 0x20e });
    return undefined;
  }
  try {
    return view.cString(offset, 256, 'kernel_version string');
  } catch {
    warnings.push({ code: 'KERNEL_VERSION_UNTERMINATED', message: 'the kernel_version string is not NUL-terminated', offset });
    return undefined;
  }
}

function readKernelInfo(view: ByteView, kernelInfoOffset: number, protectedModeOffset: number, warnings: Array<{ code: string; message: string; offset?: number }>) {
  // boot.rst: kernel_info_offset is "relative to the beginning of the kernel image" (protected-mode code).
  const offset = protectedModeOffset + kernelInfoOffset;
  if (kernelInfoOffset === 0 || !view.has(offset, kernelInfoLayout.sizeBytes)) return undefined;
  const info = kernelInfoLayout.read(view, offset);
  if (info.header !== KERNEL_INFO_MAGIC) {
    warnings.push({ code: 'KERNEL_INFO_BAD_MAGIC', message: 'kernel_info does not start with "LToP"', offset });
    return undefined;
  }
  return { size: info.size, sizeTotal: info.size_total, setupTypeMax: info.setup_type_max };
}
