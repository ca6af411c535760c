import { defineLayout } from '../../binary/layout.js';

// The ELF headers of include/uapi/linux/elf.h (and the System V gABI), one declaration per
// class. The byte order is the file's own (e_ident[EI_DATA]); readers pass it in.

export const EI_NIDENT = 16;
export const ELFMAG = '\x7fELF';
export const ELFCLASS32 = 1;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;

export const elf64HeaderLayout = defineLayout('Elf64_Ehdr', 64, {
  e_ident: { offset: 0, type: { bytes: EI_NIDENT } },
  e_type: { offset: 16, type: 'u16' },
  e_machine: { offset: 18, type: 'u16' },
  e_version: { offset: 20, type: 'u32' },
  e_entry: { offset: 24, type: 'u64' },
  e_phoff: { offset: 32, type: 'u64' },
  e_shoff: { offset: 40, type: 'u64' },
  e_flags: { offset: 48, type: 'u32' },
  e_ehsize: { offset: 52, type: 'u16' },
  e_phentsize: { offset: 54, type: 'u16' },
  e_phnum: { offset: 56, type: 'u16' },
  e_shentsize: { offset: 58, type: 'u16' },
  e_shnum: { offset: 60, type: 'u16' },
  e_shstrndx: { offset: 62, type: 'u16' },
});

export const elf32HeaderLayout = defineLayout('Elf32_Ehdr', 52, {
  e_ident: { offset: 0, type: { bytes: EI_NIDENT } },
  e_type: { offset: 16, type: 'u16' },
  e_machine: { offset: 18, type: 'u16' },
  e_version: { offset: 20, type: 'u32' },
  e_entry: { offset: 24, type: 'u32' },
  e_phoff: { offset: 28, type: 'u32' },
  e_shoff: { offset: 32, type: 'u32' },
  e_flags: { offset: 36, type: 'u32' },
  e_ehsize: { offset: 40, type: 'u16' },
  e_phentsize: { offset: 42, type: 'u16' },
  e_phnum: { offset: 44, type: 'u16' },
  e_shentsize: { offset: 46, type: 'u16' },
  e_shnum: { offset: 48, type: 'u16' },
  e_shstrndx: { offset: 50, type: 'u16' },
});

export const elf64ProgramHeaderLayout = defineLayout('Elf64_Phdr', 56, {
  p_type: { offset: 0, type: 'u32' },
  p_flags: { offset: 4, type: 'u32' },
  p_offset: { offset: 8, type: 'u64' },
  p_vaddr: { offset: 16, type: 'u64' },
  p_paddr: { offset: 24, type: 'u64' },
  p_filesz: { offset: 32, type: 'u64' },
  p_memsz: { offset: 40, type: 'u64' },
  p_align: { offset: 48, type: 'u64' },
});

export const elf32ProgramHeaderLayout = defineLayout('Elf32_Phdr', 32, {
  p_type: { offset: 0, type: 'u32' },
  p_offset: { offset: 4, type: 'u32' },
  p_vaddr: { offset: 8, type: 'u32' },
  p_paddr: { offset: 12, type: 'u32' },
  p_filesz: { offset: 16, type: 'u32' },
  p_memsz: { offset: 20, type: 'u32' },
  p_flags: { offset: 24, type: 'u32' },
  p_align: { offset: 28, type: 'u32' },
});

export const PT_LOAD = 1;
export const PT_NOTE = 4;

/** p_type names (include/uapi/linux/elf.h and the GNU extensions found in real binaries). */
export const PROGRAM_HEADER_TYPES: Readonly<Record<number, string>> = {
  0: 'PT_NULL',
  1: 'PT_LOAD',
  2: 'PT_DYNAMIC',
  3: 'PT_INTERP',
  4: 'PT_NOTE',
  6: 'PT_PHDR',
  7: 'PT_TLS',
  0x6474e550: 'PT_GNU_EH_FRAME',
  0x6474e551: 'PT_GNU_STACK',
  0x6474e552: 'PT_GNU_RELRO',
  0x6474e553: 'PT_GNU_PROPERTY',
};

/** e_machine values kexec-ts names (include/uapi/linux/elf-em.h). */
export const ELF_MACHINES: Readonly<Record<number, string>> = {
  3: 'i386',
  8: 'mips',
  20: 'powerpc',
  21: 'powerpc64',
  22: 's390',
  40: 'arm',
  62: 'x86_64',
  183: 'aarch64',
  243: 'riscv',
  258: 'loongarch',
};

export const ELF_TYPES: Readonly<Record<number, string>> = { 1: 'relocatable', 2: 'executable', 3: 'shared object', 4: 'core' };
