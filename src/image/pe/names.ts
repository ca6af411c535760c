/**
 * Names for PE header values, from the PE Format specification's tables ("Machine Types",
 * "Windows Subsystem", "Optional Header Data Directories"). Machines are named the way Linux
 * names the architecture, since that is what a kexec user compares them with.
 */

export const PE_MACHINE_NAMES: Readonly<Record<number, string>> = {
  0x014c: 'i386', // IMAGE_FILE_MACHINE_I386
  0x01c0: 'arm', // IMAGE_FILE_MACHINE_ARM
  0x01c2: 'arm-thumb', // IMAGE_FILE_MACHINE_THUMB
  0x01c4: 'armv7', // IMAGE_FILE_MACHINE_ARMNT
  0x0200: 'ia64', // IMAGE_FILE_MACHINE_IA64
  0x0ebc: 'efi-byte-code', // IMAGE_FILE_MACHINE_EBC
  0x5032: 'riscv32', // IMAGE_FILE_MACHINE_RISCV32
  0x5064: 'riscv64', // IMAGE_FILE_MACHINE_RISCV64
  0x5128: 'riscv128', // IMAGE_FILE_MACHINE_RISCV128
  0x6232: 'loongarch32', // IMAGE_FILE_MACHINE_LOONGARCH32
  0x6264: 'loongarch64', // IMAGE_FILE_MACHINE_LOONGARCH64
  0x8664: 'x86_64', // IMAGE_FILE_MACHINE_AMD64
  0xaa64: 'arm64', // IMAGE_FILE_MACHINE_ARM64
};

export const IMAGE_SUBSYSTEM_EFI_APPLICATION = 10;

export const PE_SUBSYSTEM_NAMES: Readonly<Record<number, string>> = {
  0: 'unknown',
  1: 'native',
  2: 'Windows GUI',
  3: 'Windows character',
  5: 'OS/2 character',
  7: 'POSIX character',
  8: 'native Win9x driver',
  9: 'Windows CE',
  [IMAGE_SUBSYSTEM_EFI_APPLICATION]: 'EFI application',
  11: 'EFI boot service driver',
  12: 'EFI runtime driver',
  13: 'EFI ROM',
  14: 'XBOX',
  16: 'Windows boot application',
};

/** Index of each data directory, in the order the optional header lists them. */
export const PE_DATA_DIRECTORY_NAMES = [
  'Export Table',
  'Import Table',
  'Resource Table',
  'Exception Table',
  // Unlike every other entry, its VirtualAddress is a file offset ("The Attribute Certificate Table").
  'Certificate Table',
  'Base Relocation Table',
  'Debug',
  'Architecture',
  'Global Ptr',
  'TLS Table',
  'Load Config Table',
  'Bound Import',
  'IAT',
  'Delay Import Descriptor',
  'CLR Runtime Header',
  'Reserved',
] as const;

export const CERTIFICATE_TABLE_DIRECTORY_INDEX = 4;

/** wCertificateType values ("The Attribute Certificate Table"). */
export const WIN_CERT_TYPE_NAMES: Readonly<Record<number, string>> = {
  0x0001: 'WIN_CERT_TYPE_X509',
  0x0002: 'WIN_CERT_TYPE_PKCS_SIGNED_DATA',
  0x0003: 'WIN_CERT_TYPE_RESERVED_1',
  0x0004: 'WIN_CERT_TYPE_TS_STACK_SIGNED',
};

export const WIN_CERT_TYPE_PKCS_SIGNED_DATA = 0x0002;
export const WIN_CERT_REVISION_2_0 = 0x0200;
