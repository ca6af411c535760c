// Images no cached artefact provides, built field by field from their specs; the parser tests
// and the fuzz seeds (fuzz/targets/image.ts) build them the same way from here.
import { IMAGE_FILE_HEADER, IMAGE_OPTIONAL_HEADER64, IMAGE_SECTION_HEADER, WIN_CERTIFICATE } from '../../src/image/pe/layouts.js';
import type { PeImage } from '../../src/image/pe/index.js';
import { riscvImageHeaderLayout } from '../../src/image/riscv/parse.js';
import { zbootHeaderLayout } from '../../src/image/zboot/parse.js';

/** A RISC-V Image header as boot-image-header.rst lays it out (Debian 12 has no riscv64 kernel). */
export function syntheticRiscvImage(version: number, withMagic2: boolean, sizeBytes = 4096): Uint8Array {
  const bytes = new Uint8Array(sizeBytes);
  riscvImageHeaderLayout.write(bytes, {
    code0: 0x0000_0013,
    code1: 0x0000_0013,
    text_offset: 0x200000n,
    image_size: 0x1400000n,
    flags: 0n,
    version,
    res1: 0,
    res2: 0n,
    magic: Buffer.from('RISCV\0\0\0', 'latin1'),
    magic2: withMagic2 ? Buffer.from('RSC\x05', 'latin1') : new Uint8Array(4),
    res3: 0,
  });
  return bytes;
}

/** An EFI zboot image laid out as drivers/firmware/efi/libstub/zboot-header.S does, around `payload`. */
export function syntheticZboot(payload: Uint8Array, compression = 'gzip', payloadOffset = 4096): Uint8Array {
  const bytes = new Uint8Array(payloadOffset + payload.length + 4);
  zbootHeaderLayout.write(bytes, {
    mz_magic: 0x5a4d,
    image_type: 'zimg',
    payload_offset: payloadOffset,
    payload_size: payload.length,
    reserved: new Uint8Array(8),
    compression_type: compression,
    linux_pe_magic: 0x818223cd,
    pe_header_offset: 64,
  });
  bytes.set(payload, payloadOffset);
  return bytes;
}

/** Offsets of the PE header fields a liar would change (4 bytes each): e_lfanew, counts, sizes, pointers. */
export function peLyingFieldOffsets(pe: PeImage): number[] {
  const fileHeader = pe.peHeaderOffset + 4;
  const optionalHeader = fileHeader + IMAGE_FILE_HEADER.sizeBytes;
  const offsets = [
    0x3c,
    fileHeader + IMAGE_FILE_HEADER.fields.NumberOfSections.offset,
    fileHeader + IMAGE_FILE_HEADER.fields.PointerToSymbolTable.offset,
    fileHeader + IMAGE_FILE_HEADER.fields.NumberOfSymbols.offset,
    fileHeader + IMAGE_FILE_HEADER.fields.SizeOfOptionalHeader.offset,
    optionalHeader,
    optionalHeader + IMAGE_OPTIONAL_HEADER64.fields.SizeOfHeaders.offset,
    optionalHeader + IMAGE_OPTIONAL_HEADER64.fields.NumberOfRvaAndSizes.offset,
  ];
  if (pe.certificateTableEntryOffset !== undefined) offsets.push(pe.certificateTableEntryOffset, pe.certificateTableEntryOffset + 4);
  if (pe.certificateTable) offsets.push(pe.certificateTable.fileOffset + WIN_CERTIFICATE.fields.dwLength.offset, pe.certificateTable.fileOffset + 4);
  for (const section of pe.sections) {
    for (const field of ['VirtualSize', 'VirtualAddress', 'SizeOfRawData', 'PointerToRawData'] as const) offsets.push(section.headerOffset + IMAGE_SECTION_HEADER.fields[field].offset);
    offsets.push(section.headerOffset, section.headerOffset + 4); // the name
  }
  return offsets;
}
