// Rewrites a real PE with sections appended, for the cases no packaged tool in Debian 12 builds:
// multi-profile UKIs (.profile sections arrive with systemd 257) and sections in odd places.
// Every byte of the original sections is kept; only the headers and file layout are redone.
import { IMAGE_DATA_DIRECTORY, IMAGE_OPTIONAL_HEADER64, IMAGE_SECTION_HEADER } from '../../src/image/pe/layouts.js';
import { parsePe } from '../../src/image/pe/index.js';

const IMAGE_SCN_CNT_INITIALIZED_DATA = 0x40;
const IMAGE_SCN_MEM_READ = 0x40000000;
const PAGE = 0x1000;

const alignUp = (value: number, alignment: number) => Math.ceil(value / alignment) * alignment;

export interface AddedSection {
  name: string;
  data: Uint8Array;
}

/** The PE with `added` after its last section, as objcopy --add-section would lay them out. */
export function appendSections(bytes: Uint8Array, added: readonly AddedSection[]): Uint8Array {
  const pe = parsePe(bytes);
  const fileAlignment = pe.optionalHeader.FileAlignment;
  const sectionTableOffset = pe.peHeaderOffset + 4 + 20 + pe.fileHeader.SizeOfOptionalHeader;
  const headers = [
    ...pe.sections.map((section) => ({ ...section, data: bytes.subarray(section.PointerToRawData, section.PointerToRawData + section.SizeOfRawData) })),
  ];
  let virtualAddress = alignUp(Math.max(...pe.sections.map((section) => section.VirtualAddress + section.VirtualSize)), PAGE);
  for (const section of added) {
    headers.push({
      index: headers.length,
      headerOffset: 0,
      PointerToRawData: 0,
      PointerToRelocations: 0,
      PointerToLinenumbers: 0,
      NumberOfRelocations: 0,
      NumberOfLinenumbers: 0,
      Name: section.name,
      name: section.name,
      VirtualSize: section.data.length,
      VirtualAddress: virtualAddress,
      SizeOfRawData: alignUp(section.data.length, fileAlignment),
      Characteristics: IMAGE_SCN_CNT_INITIALIZED_DATA | IMAGE_SCN_MEM_READ,
      data: section.data,
    });
    virtualAddress = alignUp(virtualAddress + section.data.length, PAGE);
  }

  const headersSize = alignUp(sectionTableOffset + headers.length * IMAGE_SECTION_HEADER.sizeBytes, fileAlignment);
  const fileSize = headers.reduce((size, section) => size + alignUp(section.SizeOfRawData, fileAlignment), headersSize);
  const out = new Uint8Array(fileSize);
  out.set(bytes.subarray(0, sectionTableOffset));
  const data = new DataView(out.buffer);
  data.setUint16(pe.peHeaderOffset + 4 + 2, headers.length, true); // NumberOfSections
  const optionalHeader = pe.peHeaderOffset + 24;
  data.setUint32(optionalHeader + IMAGE_OPTIONAL_HEADER64.fields.SizeOfHeaders.offset, headersSize, true);
  data.setUint32(optionalHeader + IMAGE_OPTIONAL_HEADER64.fields.SizeOfImage.offset, virtualAddress, true);
  // A rebuilt file is not what any signature covered: drop the certificate table entry.
  if (pe.certificateTableEntryOffset !== undefined) out.fill(0, pe.certificateTableEntryOffset, pe.certificateTableEntryOffset + IMAGE_DATA_DIRECTORY.sizeBytes);

  let cursor = headersSize;
  headers.forEach((section, index) => {
    const name = new Uint8Array(8);
    name.set(new TextEncoder().encode(section.Name).subarray(0, 8));
    IMAGE_SECTION_HEADER.write(out, { ...section, Name: name, PointerToRawData: section.SizeOfRawData === 0 ? 0 : cursor }, sectionTableOffset + index * IMAGE_SECTION_HEADER.sizeBytes);
    out.set(section.data.subarray(0, section.SizeOfRawData), cursor);
    cursor += alignUp(section.SizeOfRawData, fileAlignment);
  });
  return out;
}

/** A copy of `bytes` with one section header field set to `value` (a lying header). */
export function withSectionField(bytes: Uint8Array, sectionName: string, field: 'VirtualSize' | 'SizeOfRawData' | 'PointerToRawData', value: number): Uint8Array {
  const section = parsePe(bytes).sections.find((candidate) => candidate.name === sectionName);
  if (!section) throw new Error(`no section ${sectionName}`);
  const copy = new Uint8Array(bytes);
  new DataView(copy.buffer).setUint32(section.headerOffset + IMAGE_SECTION_HEADER.fields[field].offset, value, true);
  return copy;
}
