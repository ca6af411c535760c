import type { InspectedImage } from '../image/detect.js';
import { PROGRAM_HEADER_TYPES } from '../image/elf/layout.js';

/** `inspect`'s text: what the file is, then the header fields a person asks about, aligned. */
export function describeImage(path: string, sizeBytes: number, image: InspectedImage, extraRows: ReadonlyArray<[string, string]> = []): string[] {
  const rows = [...rowsFor(image), ...extraRows];
  const width = Math.max(...rows.map(([label]) => label.length));
  return [`${path}: ${headline(image)} (${sizeBytes} bytes)`, ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`)];
}

function headline(image: InspectedImage): string {
  switch (image.format) {
    case 'bzImage':
      return `x86 bzImage, boot protocol ${image.bzImage.protocolVersion.text}${image.bzImage.hasEfiStub ? ', with an EFI stub (also a PE image)' : ''}`;
    case 'arm64-image':
      return `arm64 Image${image.image.peHeaderOffset !== undefined ? ', with an EFI stub (also a PE image)' : ''}`;
    case 'riscv-image':
      return `RISC-V Image, header version ${image.image.headerVersion.major}.${image.image.headerVersion.minor}`;
    case 'zboot':
      return `EFI zboot image, ${image.zboot.compressionType}-compressed`;
    case 'elf':
      return `ELF${image.elf.class} ${image.elf.littleEndian ? 'little' : 'big'}-endian ${image.elf.typeName} for ${image.elf.machineName}`;
    case 'initrd':
      return `initrd (${image.kind})`;
    case 'uki':
      return `Unified Kernel Image (${image.uki.pe.machineName ?? 'unknown machine'})${image.uki.osRelease?.fields.PRETTY_NAME ? `: ${image.uki.osRelease.fields.PRETTY_NAME}` : ''}`;
    case 'pe':
      return `PE/COFF ${image.pe.subsystemName ?? 'image'} for ${image.pe.machineName ?? 'an unknown machine'}`;
    case 'compressed':
      return `${image.codec}-compressed data`;
  }
}

function hex(value: number | bigint): string {
  return `0x${value.toString(16)}`;
}

function flagList(flags: Readonly<Record<string, boolean>>): string {
  const set = Object.entries(flags).filter(([, on]) => on).map(([name]) => name);
  return set.length > 0 ? set.join(', ') : 'none';
}

function rowsFor(image: InspectedImage): Array<[string, string]> {
  switch (image.format) {
    case 'bzImage': {
      const bz = image.bzImage;
      return [
        ['kernel version', bz.kernelVersion ?? '(not given)'],
        ['setup_sects', `${bz.setupSectors} (protected-mode code at ${hex(bz.protectedModeOffset)})`],
        ['loadflags', flagList(bz.loadflags)],
        ['xloadflags', flagList(bz.xloadflags)],
        ['relocatable', `${bz.relocatable ? 'yes' : 'no'}, kernel_alignment ${hex(bz.header.kernel_alignment)}`],
        ['pref_address', hex(bz.header.pref_address)],
        ['init_size', `${bz.header.init_size} bytes`],
        ['cmdline_size', `${bz.cmdlineSize}`],
        ['payload', bz.payload ? `${bz.payload.length} bytes at ${hex(bz.payload.offset)}, ${bz.payload.codec ?? 'unknown'}-compressed` : '(protocol < 2.08)'],
        ...(bz.kernelInfo ? [['kernel_info', `setup_type_max ${hex(bz.kernelInfo.setupTypeMax)}`] as [string, string]] : []),
      ];
    }
    case 'arm64-image':
      return [
        ['text_offset', hex(image.image.textOffset)],
        ['image_size', `${image.image.imageSize} bytes`],
        ['byte order', image.image.bigEndian ? 'big-endian' : 'little-endian'],
        ['page size', image.image.pageSizeBytes !== undefined ? `${image.image.pageSizeBytes / 1024} KiB` : 'unspecified'],
        ['placement', image.image.physicalPlacementAnywhere ? 'anywhere in memory' : '2 MiB aligned near the start of DRAM'],
      ];
    case 'riscv-image':
      return [
        ['text_offset', hex(image.image.textOffset)],
        ['image_size', `${image.image.imageSize} bytes`],
        ['byte order', image.image.bigEndian ? 'big-endian' : 'little-endian'],
      ];
    case 'zboot':
      return [
        ['payload', `${image.zboot.payloadSize} bytes at ${hex(image.zboot.payloadOffset)}`],
        ['compression', image.zboot.compressionType],
      ];
    case 'elf':
      return [
        ['entry', hex(image.elf.entry)],
        ['program headers', image.elf.programHeaders.map((header) => `${PROGRAM_HEADER_TYPES[header.p_type] ?? hex(header.p_type)} at ${hex(header.p_paddr)} (${header.p_memsz} bytes)`).join('; ') || 'none'],
      ];
    case 'initrd':
      return [];
    case 'uki': {
      const uki = image.uki;
      return [
        ['sections', uki.sections.map((section) => `${section.name} (${section.data.length} bytes)`).join(', ')],
        ['.cmdline', uki.cmdline ?? '(none)'],
        ['.uname', uki.uname ?? '(none)'],
        ['profiles', uki.profiles.length === 0 ? 'none' : uki.profiles.map((profile) => `@${profile.number}${profile.title ? ` ${profile.title}` : ''}`).join(', ')],
      ];
    }
    case 'pe':
      return [['sections', image.pe.sections.map((section) => section.name).join(', ')]];
    case 'compressed':
      return [];
  }
}
