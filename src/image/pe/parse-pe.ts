import { ByteView } from '../../binary/byte-view.js';
import { ErrorCode, ParseError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import {
  COFF_SYMBOL_SIZE_BYTES,
  IMAGE_DATA_DIRECTORY,
  IMAGE_DOS_HEADER,
  IMAGE_DOS_SIGNATURE,
  IMAGE_FILE_HEADER,
  IMAGE_OPTIONAL_HEADER32,
  IMAGE_OPTIONAL_HEADER64,
  IMAGE_SECTION_HEADER,
  PE32_MAGIC,
  PE32_PLUS_MAGIC,
  PE_SIGNATURE,
} from './layouts.js';
import { CERTIFICATE_TABLE_DIRECTORY_INDEX, PE_DATA_DIRECTORY_NAMES, PE_MACHINE_NAMES, PE_SUBSYSTEM_NAMES } from './names.js';
import type { PeDataDirectory, PeImage, PeOptionalHeader, PeSection, PeWarning } from './types.js';

const FORMAT = 'pe';
const utf8 = new TextDecoder('utf-8');

/** Offsets inside the optional header that the Authenticode digest skips. */
const CHECKSUM_FIELD_OFFSET = IMAGE_OPTIONAL_HEADER32.fields.CheckSum.offset;

/**
 * Whether `head` (the first bytes of a file: a few KiB is plenty) starts a PE image: "MZ", then
 * "PE\0\0" at e_lfanew. Never throws. A PE whose e_lfanew points past `head` is not recognised;
 * real images (EFI stubs, the kernel's EFI stub header) put it within the first KiB.
 */
export function probePe(head: Uint8Array): boolean {
  const view = new ByteView(head, FORMAT);
  if (!view.has(0, IMAGE_DOS_HEADER.sizeBytes) || view.u16(0, 'e_magic') !== IMAGE_DOS_SIGNATURE) return false;
  const peHeaderOffset = view.u32(IMAGE_DOS_HEADER.fields.e_lfanew.offset, 'e_lfanew');
  return view.matches(peHeaderOffset, PE_SIGNATURE);
}

/**
 * Reads the headers and section table of a PE/COFF image (PE Format specification). Only the
 * headers are read and every offset is checked; section contents are not copied.
 * Throws ParseError: FORMAT_UNRECOGNIZED (no MZ / PE signature), FORMAT_TRUNCATED, FORMAT_INVALID,
 * FORMAT_LIMIT_EXCEEDED (more sections than LIMITS.peSections).
 */
export function parsePe(bytes: Uint8Array): PeImage {
  const view = new ByteView(bytes, FORMAT);
  const warnings: PeWarning[] = [];

  if (!view.has(0, 2) || view.u16(0, 'IMAGE_DOS_HEADER.e_magic') !== IMAGE_DOS_SIGNATURE) {
    throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, FORMAT, 'no "MZ" signature: not a PE image', { offset: 0, field: 'IMAGE_DOS_HEADER.e_magic' });
  }
  const dosHeader = IMAGE_DOS_HEADER.read(view);
  const peHeaderOffset = dosHeader.e_lfanew;
  if (!view.matches(peHeaderOffset, PE_SIGNATURE)) {
    view.require(peHeaderOffset, PE_SIGNATURE.length, 'PE signature');
    throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, FORMAT, 'no "PE\\0\\0" signature at e_lfanew: an MS-DOS program, not a PE image', {
      offset: peHeaderOffset,
      field: 'Signature',
    });
  }

  const fileHeaderOffset = peHeaderOffset + PE_SIGNATURE.length;
  const fileHeader = IMAGE_FILE_HEADER.read(view, fileHeaderOffset);
  if (fileHeader.NumberOfSections > LIMITS.peSections) {
    throw new ParseError(
      ErrorCode.FORMAT_LIMIT_EXCEEDED,
      FORMAT,
      `NumberOfSections is ${fileHeader.NumberOfSections}; loaders accept at most ${LIMITS.peSections}`,
      { offset: fileHeaderOffset + IMAGE_FILE_HEADER.fields.NumberOfSections.offset, field: 'IMAGE_FILE_HEADER.NumberOfSections' },
    );
  }

  const optionalHeaderOffset = fileHeaderOffset + IMAGE_FILE_HEADER.sizeBytes;
  const { optionalHeader, dataDirectoriesOffset } = readOptionalHeader(view, optionalHeaderOffset, fileHeader.SizeOfOptionalHeader);
  const dataDirectories = readDataDirectories(view, optionalHeader, optionalHeaderOffset, fileHeader.SizeOfOptionalHeader, dataDirectoriesOffset, warnings);

  const sectionTableOffset = optionalHeaderOffset + fileHeader.SizeOfOptionalHeader;
  const stringTableOffset = fileHeader.PointerToSymbolTable === 0 ? undefined : fileHeader.PointerToSymbolTable + fileHeader.NumberOfSymbols * COFF_SYMBOL_SIZE_BYTES;
  const sections: PeSection[] = [];
  for (let index = 0; index < fileHeader.NumberOfSections; index++) {
    const headerOffset = sectionTableOffset + index * IMAGE_SECTION_HEADER.sizeBytes;
    const header = IMAGE_SECTION_HEADER.read(view, headerOffset);
    const Name = decodeName(header.Name);
    const section: PeSection = { ...header, Name, name: resolveLongName(view, Name, stringTableOffset, headerOffset, warnings), index, headerOffset };
    if (section.SizeOfRawData > 0 && !view.has(section.PointerToRawData, section.SizeOfRawData)) {
      warnings.push({ code: 'SECTION_BEYOND_END_OF_FILE', offset: headerOffset, detail: section.name });
    }
    sections.push(section);
  }

  const certificateDirectory = dataDirectories[CERTIFICATE_TABLE_DIRECTORY_INDEX];
  const certificateTable =
    certificateDirectory && certificateDirectory.Size > 0 ? { fileOffset: certificateDirectory.VirtualAddress, sizeBytes: certificateDirectory.Size } : undefined;
  if (certificateTable && !view.has(certificateTable.fileOffset, certificateTable.sizeBytes)) {
    warnings.push({ code: 'CERTIFICATE_TABLE_BEYOND_END_OF_FILE', offset: certificateTable.fileOffset });
  }

  return {
    format: 'pe',
    sizeBytes: bytes.length,
    peHeaderOffset,
    fileHeader,
    machineName: PE_MACHINE_NAMES[fileHeader.Machine],
    optionalHeader,
    subsystemName: PE_SUBSYSTEM_NAMES[optionalHeader.Subsystem],
    dataDirectories,
    certificateTable,
    sections,
    checkSumFieldOffset: optionalHeaderOffset + CHECKSUM_FIELD_OFFSET,
    certificateTableEntryOffset:
      dataDirectories.length > CERTIFICATE_TABLE_DIRECTORY_INDEX ? dataDirectoriesOffset + CERTIFICATE_TABLE_DIRECTORY_INDEX * IMAGE_DATA_DIRECTORY.sizeBytes : undefined,
    warnings,
  };
}

function readOptionalHeader(view: ByteView, offset: number, declaredSize: number): { optionalHeader: PeOptionalHeader; dataDirectoriesOffset: number } {
  const magic = view.u16(offset, 'optional header Magic');
  if (magic !== PE32_MAGIC && magic !== PE32_PLUS_MAGIC) {
    throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, `optional header Magic is 0x${magic.toString(16)}, neither PE32 (0x10b) nor PE32+ (0x20b)`, {
      offset,
      field: 'Magic',
    });
  }
  const layout = magic === PE32_MAGIC ? IMAGE_OPTIONAL_HEADER32 : IMAGE_OPTIONAL_HEADER64;
  if (declaredSize < layout.sizeBytes) {
    throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, `SizeOfOptionalHeader is ${declaredSize}, too small for the ${layout.name} fields (${layout.sizeBytes})`, {
      field: 'IMAGE_FILE_HEADER.SizeOfOptionalHeader',
    });
  }
  const dataDirectoriesOffset = offset + layout.sizeBytes;
  if (magic === PE32_MAGIC) {
    const raw = IMAGE_OPTIONAL_HEADER32.read(view, offset);
    // One shape for both variants: 64-bit fields are bigint; PE32's 32-bit ones widen losslessly.
    const optionalHeader: PeOptionalHeader = {
      ...raw,
      kind: 'PE32',
      ImageBase: BigInt(raw.ImageBase),
      SizeOfStackReserve: BigInt(raw.SizeOfStackReserve),
      SizeOfStackCommit: BigInt(raw.SizeOfStackCommit),
      SizeOfHeapReserve: BigInt(raw.SizeOfHeapReserve),
      SizeOfHeapCommit: BigInt(raw.SizeOfHeapCommit),
    };
    return { optionalHeader, dataDirectoriesOffset };
  }
  return { optionalHeader: { ...IMAGE_OPTIONAL_HEADER64.read(view, offset), kind: 'PE32+', BaseOfData: undefined }, dataDirectoriesOffset };
}

function readDataDirectories(
  view: ByteView,
  optionalHeader: PeOptionalHeader,
  optionalHeaderOffset: number,
  optionalHeaderSize: number,
  directoriesOffset: number,
  warnings: PeWarning[],
): PeDataDirectory[] {
  let count = optionalHeader.NumberOfRvaAndSizes;
  if (count > LIMITS.peDataDirectories) {
    warnings.push({ code: 'DATA_DIRECTORIES_CAPPED', offset: directoriesOffset, detail: `NumberOfRvaAndSizes ${count}` });
    count = LIMITS.peDataDirectories;
  }
  // The directories live inside the optional header; entries it does not cover are not there.
  const fitting = Math.floor((optionalHeaderOffset + optionalHeaderSize - directoriesOffset) / IMAGE_DATA_DIRECTORY.sizeBytes);
  if (count > fitting) {
    warnings.push({ code: 'DATA_DIRECTORIES_TRUNCATED', offset: directoriesOffset, detail: `${count} declared, ${fitting} fit in SizeOfOptionalHeader` });
    count = fitting;
  }
  const directories: PeDataDirectory[] = [];
  for (let index = 0; index < count; index++) {
    const entry = IMAGE_DATA_DIRECTORY.read(view, directoriesOffset + index * IMAGE_DATA_DIRECTORY.sizeBytes);
    directories.push({ index, name: PE_DATA_DIRECTORY_NAMES[index] ?? 'Reserved', ...entry });
  }
  return directories;
}

function decodeName(field: Uint8Array): string {
  const nul = field.indexOf(0);
  // "An 8-byte, null-padded UTF-8 encoded string" (Section Table).
  return utf8.decode(field.subarray(0, nul === -1 ? field.length : nul));
}

/** "/4" names point into the COFF string table (Section Table: Name); images rarely use them. */
function resolveLongName(view: ByteView, name: string, stringTableOffset: number | undefined, headerOffset: number, warnings: PeWarning[]): string {
  const match = /^\/(\d{1,7})$/.exec(name);
  if (!match) return name;
  const at = stringTableOffset === undefined ? undefined : stringTableOffset + Number(match[1]);
  if (at === undefined || !view.has(at, 1)) {
    warnings.push({ code: 'LONG_SECTION_NAME_UNRESOLVED', offset: headerOffset, detail: name });
    return name;
  }
  const end = Math.min(view.length, at + LIMITS.peLongSectionNameBytes);
  const raw = view.bytes.subarray(at, end);
  const nul = raw.indexOf(0);
  if (nul === -1) {
    warnings.push({ code: 'LONG_SECTION_NAME_UNRESOLVED', offset: headerOffset, detail: name });
    return name;
  }
  return utf8.decode(raw.subarray(0, nul));
}

/** The section whose resolved name is `name` (the first, as loaders take it), if any. */
export function findSection(pe: PeImage, name: string): PeSection | undefined {
  return pe.sections.find((section) => section.name === name);
}
