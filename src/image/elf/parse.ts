import { ByteView, safeNumber } from '../../binary/byte-view.js';
import { ErrorCode, ParseError } from '../../errors.js';
import { LIMITS } from '../../limits.js';
import {
  ELFCLASS32,
  ELFCLASS64,
  ELFDATA2LSB,
  ELFDATA2MSB,
  ELFMAG,
  ELF_MACHINES,
  ELF_TYPES,
  elf32HeaderLayout,
  elf32ProgramHeaderLayout,
  elf64HeaderLayout,
  elf64ProgramHeaderLayout,
} from './layout.js';

const FORMAT = 'ELF';

export interface ElfProgramHeader {
  readonly p_type: number;
  readonly p_flags: number;
  readonly p_offset: bigint;
  readonly p_vaddr: bigint;
  readonly p_paddr: bigint;
  readonly p_filesz: bigint;
  readonly p_memsz: bigint;
  readonly p_align: bigint;
}

export interface ElfImage {
  readonly format: 'elf';
  readonly class: 32 | 64;
  readonly littleEndian: boolean;
  readonly type: number;
  readonly typeName: string;
  readonly machine: number;
  /** The kernel's name for the machine (x86_64, aarch64, riscv, ...) or `machine N`. */
  readonly machineName: string;
  readonly entry: bigint;
  readonly programHeaders: readonly ElfProgramHeader[];
  readonly sectionHeaderCount: number;
}

export function probeElf(head: Uint8Array): boolean {
  return new ByteView(head, FORMAT).matches(0, ELFMAG);
}

/** Parses the ELF header and program headers of a vmlinux or a core file, either class and byte order. */
export function parseElf(bytes: Uint8Array): ElfImage {
  const view = new ByteView(bytes, FORMAT);
  if (!view.matches(0, ELFMAG)) throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, FORMAT, 'no \\x7fELF magic', { offset: 0, field: 'e_ident' });
  const elfClass = view.u8(4, 'e_ident[EI_CLASS]');
  const data = view.u8(5, 'e_ident[EI_DATA]');
  if (elfClass !== ELFCLASS32 && elfClass !== ELFCLASS64) throw view.invalid(`EI_CLASS is ${elfClass}`, { offset: 4, field: 'e_ident[EI_CLASS]' });
  if (data !== ELFDATA2LSB && data !== ELFDATA2MSB) throw view.invalid(`EI_DATA is ${data}`, { offset: 5, field: 'e_ident[EI_DATA]' });
  const littleEndian = data === ELFDATA2LSB;
  const is64 = elfClass === ELFCLASS64;

  const header = is64 ? elf64HeaderLayout.read(view, 0, littleEndian) : elf32HeaderLayout.read(view, 0, littleEndian);
  const phoff = safeNumber(BigInt(header.e_phoff), FORMAT, 'e_phoff', is64 ? 32 : 28);
  const entrySize = is64 ? elf64ProgramHeaderLayout.sizeBytes : elf32ProgramHeaderLayout.sizeBytes;
  if (header.e_phnum > 0 && header.e_phentsize !== entrySize) {
    throw view.invalid(`e_phentsize is ${header.e_phentsize}, expected ${entrySize}`, { field: 'e_phentsize' });
  }
  if (header.e_phnum > LIMITS.elfProgramHeaders) {
    throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, FORMAT, `e_phnum is ${header.e_phnum}, more than the ${LIMITS.elfProgramHeaders} we read`, { field: 'e_phnum' });
  }
  // The whole table must be in the file before any entry is read: a lying e_phnum fails here.
  view.require(phoff, header.e_phnum * entrySize, 'program header table');
  const programHeaders: ElfProgramHeader[] = [];
  for (let index = 0; index < header.e_phnum; index++) {
    const at = phoff + index * entrySize;
    const entry = is64 ? elf64ProgramHeaderLayout.read(view, at, littleEndian) : elf32ProgramHeaderLayout.read(view, at, littleEndian);
    programHeaders.push({
      p_type: entry.p_type,
      p_flags: entry.p_flags,
      p_offset: BigInt(entry.p_offset),
      p_vaddr: BigInt(entry.p_vaddr),
      p_paddr: BigInt(entry.p_paddr),
      p_filesz: BigInt(entry.p_filesz),
      p_memsz: BigInt(entry.p_memsz),
      p_align: BigInt(entry.p_align),
    });
  }
  return {
    format: 'elf',
    class: is64 ? 64 : 32,
    littleEndian,
    type: header.e_type,
    typeName: ELF_TYPES[header.e_type] ?? `type ${header.e_type}`,
    machine: header.e_machine,
    machineName: ELF_MACHINES[header.e_machine] ?? `machine ${header.e_machine}`,
    entry: BigInt(header.e_entry),
    programHeaders,
    sectionHeaderCount: header.e_shnum,
  };
}
