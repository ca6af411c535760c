import { defineLayout } from '../../binary/layout.js';

/**
 * PE/COFF structures, declared once with the field names of Microsoft's "PE Format"
 * specification (learn.microsoft.com/windows/win32/debug/pe-format), all little-endian.
 */

/** The MS-DOS header: only the two fields a PE reader needs ("MS-DOS Stub (Image Only)"). */
export const IMAGE_DOS_HEADER = defineLayout('IMAGE_DOS_HEADER', 64, {
  e_magic: { offset: 0, type: 'u16' },
  e_lfanew: { offset: 60, type: 'u32' },
});

/** "MZ", read as a little-endian u16. */
export const IMAGE_DOS_SIGNATURE = 0x5a4d;
/** "PE\0\0" at e_lfanew ("Signature (Image Only)"). */
export const PE_SIGNATURE = 'PE\0\0';

/** "COFF File Header (Object and Image)", right after the signature. */
export const IMAGE_FILE_HEADER = defineLayout('IMAGE_FILE_HEADER', 20, {
  Machine: { offset: 0, type: 'u16' },
  NumberOfSections: { offset: 2, type: 'u16' },
  TimeDateStamp: { offset: 4, type: 'u32' },
  PointerToSymbolTable: { offset: 8, type: 'u32' },
  NumberOfSymbols: { offset: 12, type: 'u32' },
  SizeOfOptionalHeader: { offset: 16, type: 'u16' },
  Characteristics: { offset: 18, type: 'u16' },
});

export const PE32_MAGIC = 0x10b;
export const PE32_PLUS_MAGIC = 0x20b;

/**
 * "Optional Header Standard Fields" + "Optional Header Windows-Specific Fields" for PE32,
 * up to NumberOfRvaAndSizes; the data directories follow at offset 96.
 */
export const IMAGE_OPTIONAL_HEADER32 = defineLayout('IMAGE_OPTIONAL_HEADER32', 96, {
  Magic: { offset: 0, type: 'u16' },
  MajorLinkerVersion: { offset: 2, type: 'u8' },
  MinorLinkerVersion: { offset: 3, type: 'u8' },
  SizeOfCode: { offset: 4, type: 'u32' },
  SizeOfInitializedData: { offset: 8, type: 'u32' },
  SizeOfUninitializedData: { offset: 12, type: 'u32' },
  AddressOfEntryPoint: { offset: 16, type: 'u32' },
  BaseOfCode: { offset: 20, type: 'u32' },
  BaseOfData: { offset: 24, type: 'u32' },
  ImageBase: { offset: 28, type: 'u32' },
  SectionAlignment: { offset: 32, type: 'u32' },
  FileAlignment: { offset: 36, type: 'u32' },
  MajorOperatingSystemVersion: { offset: 40, type: 'u16' },
  MinorOperatingSystemVersion: { offset: 42, type: 'u16' },
  MajorImageVersion: { offset: 44, type: 'u16' },
  MinorImageVersion: { offset: 46, type: 'u16' },
  MajorSubsystemVersion: { offset: 48, type: 'u16' },
  MinorSubsystemVersion: { offset: 50, type: 'u16' },
  Win32VersionValue: { offset: 52, type: 'u32' },
  SizeOfImage: { offset: 56, type: 'u32' },
  SizeOfHeaders: { offset: 60, type: 'u32' },
  CheckSum: { offset: 64, type: 'u32' },
  Subsystem: { offset: 68, type: 'u16' },
  DllCharacteristics: { offset: 70, type: 'u16' },
  SizeOfStackReserve: { offset: 72, type: 'u32' },
  SizeOfStackCommit: { offset: 76, type: 'u32' },
  SizeOfHeapReserve: { offset: 80, type: 'u32' },
  SizeOfHeapCommit: { offset: 84, type: 'u32' },
  LoaderFlags: { offset: 88, type: 'u32' },
  NumberOfRvaAndSizes: { offset: 92, type: 'u32' },
});

/** The PE32+ variant: no BaseOfData, 64-bit ImageBase and stack/heap sizes; directories at 112. */
export const IMAGE_OPTIONAL_HEADER64 = defineLayout('IMAGE_OPTIONAL_HEADER64', 112, {
  Magic: { offset: 0, type: 'u16' },
  MajorLinkerVersion: { offset: 2, type: 'u8' },
  MinorLinkerVersion: { offset: 3, type: 'u8' },
  SizeOfCode: { offset: 4, type: 'u32' },
  SizeOfInitializedData: { offset: 8, type: 'u32' },
  SizeOfUninitializedData: { offset: 12, type: 'u32' },
  AddressOfEntryPoint: { offset: 16, type: 'u32' },
  BaseOfCode: { offset: 20, type: 'u32' },
  ImageBase: { offset: 24, type: 'u64' },
  SectionAlignment: { offset: 32, type: 'u32' },
  FileAlignment: { offset: 36, type: 'u32' },
  MajorOperatingSystemVersion: { offset: 40, type: 'u16' },
  MinorOperatingSystemVersion: { offset: 42, type: 'u16' },
  MajorImageVersion: { offset: 44, type: 'u16' },
  MinorImageVersion: { offset: 46, type: 'u16' },
  MajorSubsystemVersion: { offset: 48, type: 'u16' },
  MinorSubsystemVersion: { offset: 50, type: 'u16' },
  Win32VersionValue: { offset: 52, type: 'u32' },
  SizeOfImage: { offset: 56, type: 'u32' },
  SizeOfHeaders: { offset: 60, type: 'u32' },
  CheckSum: { offset: 64, type: 'u32' },
  Subsystem: { offset: 68, type: 'u16' },
  DllCharacteristics: { offset: 70, type: 'u16' },
  SizeOfStackReserve: { offset: 72, type: 'u64' },
  SizeOfStackCommit: { offset: 80, type: 'u64' },
  SizeOfHeapReserve: { offset: 88, type: 'u64' },
  SizeOfHeapCommit: { offset: 96, type: 'u64' },
  LoaderFlags: { offset: 104, type: 'u32' },
  NumberOfRvaAndSizes: { offset: 108, type: 'u32' },
});

/** "Optional Header Data Directories (Image Only)": one entry. */
export const IMAGE_DATA_DIRECTORY = defineLayout('IMAGE_DATA_DIRECTORY', 8, {
  VirtualAddress: { offset: 0, type: 'u32' },
  Size: { offset: 4, type: 'u32' },
});

/** "Section Table (Section Headers)": one 40-byte entry. */
export const IMAGE_SECTION_HEADER = defineLayout('IMAGE_SECTION_HEADER', 40, {
  Name: { offset: 0, type: { bytes: 8 } },
  VirtualSize: { offset: 8, type: 'u32' },
  VirtualAddress: { offset: 12, type: 'u32' },
  SizeOfRawData: { offset: 16, type: 'u32' },
  PointerToRawData: { offset: 20, type: 'u32' },
  PointerToRelocations: { offset: 24, type: 'u32' },
  PointerToLinenumbers: { offset: 28, type: 'u32' },
  NumberOfRelocations: { offset: 32, type: 'u16' },
  NumberOfLinenumbers: { offset: 34, type: 'u16' },
  Characteristics: { offset: 36, type: 'u32' },
});

/** COFF symbol table records are 18 bytes; the string table follows the last one ("COFF String Table"). */
export const COFF_SYMBOL_SIZE_BYTES = 18;

/**
 * The header of one attribute certificate ("The Attribute Certificate Table (Image Only)"):
 * bCertificate follows, dwLength counts the header too.
 */
export const WIN_CERTIFICATE = defineLayout('WIN_CERTIFICATE', 8, {
  dwLength: { offset: 0, type: 'u32' },
  wRevision: { offset: 4, type: 'u16' },
  wCertificateType: { offset: 6, type: 'u16' },
});
