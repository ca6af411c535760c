import type { LayoutValue } from '../../binary/layout.js';
import type { IMAGE_DATA_DIRECTORY, IMAGE_FILE_HEADER, IMAGE_SECTION_HEADER } from './layouts.js';

/** Recoverable oddities: the image can still be read, but something in it is off. */
export type PeWarningCode =
  | 'DATA_DIRECTORIES_CAPPED'
  | 'DATA_DIRECTORIES_TRUNCATED'
  | 'SECTION_BEYOND_END_OF_FILE'
  | 'LONG_SECTION_NAME_UNRESOLVED'
  | 'CERTIFICATE_TABLE_BEYOND_END_OF_FILE';

export interface PeWarning {
  code: PeWarningCode;
  offset?: number;
  detail?: string;
}

export type PeFileHeader = LayoutValue<(typeof IMAGE_FILE_HEADER)['fields']>;

/** The optional header of either variant, in one shape: 64-bit fields are bigint in both. */
export interface PeOptionalHeader {
  kind: 'PE32' | 'PE32+';
  Magic: number;
  MajorLinkerVersion: number;
  MinorLinkerVersion: number;
  SizeOfCode: number;
  SizeOfInitializedData: number;
  SizeOfUninitializedData: number;
  AddressOfEntryPoint: number;
  BaseOfCode: number;
  /** PE32 only. */
  BaseOfData: number | undefined;
  ImageBase: bigint;
  SectionAlignment: number;
  FileAlignment: number;
  MajorOperatingSystemVersion: number;
  MinorOperatingSystemVersion: number;
  MajorImageVersion: number;
  MinorImageVersion: number;
  MajorSubsystemVersion: number;
  MinorSubsystemVersion: number;
  Win32VersionValue: number;
  SizeOfImage: number;
  SizeOfHeaders: number;
  CheckSum: number;
  Subsystem: number;
  DllCharacteristics: number;
  SizeOfStackReserve: bigint;
  SizeOfStackCommit: bigint;
  SizeOfHeapReserve: bigint;
  SizeOfHeapCommit: bigint;
  LoaderFlags: number;
  NumberOfRvaAndSizes: number;
}

export interface PeDataDirectory extends LayoutValue<(typeof IMAGE_DATA_DIRECTORY)['fields']> {
  index: number;
  name: string;
}

export interface PeSection extends Omit<LayoutValue<(typeof IMAGE_SECTION_HEADER)['fields']>, 'Name'> {
  /** The 8-byte Name field as text (may be "/123", a string-table reference). */
  Name: string;
  /** The full name: Name, or the string-table entry it points at. */
  name: string;
  /** Position in the section table. */
  index: number;
  /** File offset of this section's header. */
  headerOffset: number;
}

export interface PeImage {
  format: 'pe';
  sizeBytes: number;
  /** e_lfanew: where "PE\0\0" is. */
  peHeaderOffset: number;
  fileHeader: PeFileHeader;
  /** x86_64, arm64, riscv64, ...; undefined for a Machine value we have no name for. */
  machineName: string | undefined;
  optionalHeader: PeOptionalHeader;
  /** "EFI application" for Subsystem 10, ... */
  subsystemName: string | undefined;
  dataDirectories: PeDataDirectory[];
  /** Data directory 4, when present and non-empty. Its VirtualAddress is a FILE offset. */
  certificateTable: { fileOffset: number; sizeBytes: number } | undefined;
  sections: PeSection[];
  /** File offset of the optional header's CheckSum (skipped by the Authenticode digest). */
  checkSumFieldOffset: number;
  /** File offset of the Certificate Table directory entry, if the header has one. */
  certificateTableEntryOffset: number | undefined;
  warnings: PeWarning[];
}
