import { ByteView, safeNumber } from '../../binary/byte-view.js';
import { defineLayout } from '../../binary/layout.js';
import { ErrorCode, ParseError } from '../../errors.js';
import { ELFCLASS64, ELFDATA2LSB, ELFDATA2MSB, ELF_MACHINES, PT_LOAD, PT_NOTE, elf64HeaderLayout, elf64ProgramHeaderLayout } from '../../image/elf/layout.js';
import { parseElfNotes, type ElfNote } from '../../image/elf/notes.js';
import { CRASH_LIMITS, LIMITS } from '../../limits.js';
import type { RandomAccessSource } from './source.js';

// A vmcore as the kernel writes it (fs/proc/vmcore.c, kernel/crash_core.c): an ELF64 core with
// one PT_NOTE (per-CPU NT_PRSTATUS notes and VMCOREINFO) and a PT_LOAD per memory range.

const FORMAT = 'ELF vmcore';
export const ET_CORE = 4;
/** e_phnum's escape: the real count is in section header 0's sh_info (gABI, "Extended numbering"). */
export const PN_XNUM = 0xffff;

/** sh_info of Elf64_Shdr, the only field extended numbering needs. */
const elf64SectionHeaderLayout = defineLayout('Elf64_Shdr', 64, {
  sh_name: { offset: 0, type: 'u32' },
  sh_type: { offset: 4, type: 'u32' },
  sh_flags: { offset: 8, type: 'u64' },
  sh_addr: { offset: 16, type: 'u64' },
  sh_offset: { offset: 24, type: 'u64' },
  sh_size: { offset: 32, type: 'u64' },
  sh_link: { offset: 40, type: 'u32' },
  sh_info: { offset: 44, type: 'u32' },
  sh_addralign: { offset: 48, type: 'u64' },
  sh_entsize: { offset: 56, type: 'u64' },
});

export interface PtLoad {
  /** Index among all program headers. */
  readonly index: number;
  readonly p_flags: number;
  readonly p_vaddr: bigint;
  readonly p_paddr: number;
  readonly p_offset: number;
  readonly p_filesz: number;
  readonly p_memsz: number;
  readonly p_align: bigint;
}

export interface ElfCore {
  readonly littleEndian: boolean;
  readonly machine: number;
  readonly machineName: string;
  readonly e_flags: number;
  readonly loads: readonly PtLoad[];
  /** The PT_NOTE segments' bytes, concatenated (a vmcore has one). */
  readonly noteBytes: Uint8Array;
  readonly notes: readonly ElfNote[];
}

export function probeElfCore(head: Uint8Array): boolean {
  return new ByteView(head, FORMAT).matches(0, '\x7fELF');
}

/** Reads the headers and notes of an ELF64 core; the memory stays in the source. */
export async function readElfCore(source: RandomAccessSource): Promise<ElfCore> {
  const head = new ByteView(await source.readAt(0, Math.min(source.sizeBytes, elf64HeaderLayout.sizeBytes), 'Elf64_Ehdr'), FORMAT);
  if (!head.matches(0, '\x7fELF')) throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, FORMAT, 'no \\x7fELF magic', { offset: 0, field: 'e_ident' });
  const elfClass = head.u8(4, 'e_ident[EI_CLASS]');
  if (elfClass !== ELFCLASS64) throw head.invalid(`EI_CLASS is ${elfClass}; only ELF64 vmcores are read`, { offset: 4, field: 'e_ident[EI_CLASS]' });
  const data = head.u8(5, 'e_ident[EI_DATA]');
  if (data !== ELFDATA2LSB && data !== ELFDATA2MSB) throw head.invalid(`EI_DATA is ${data}`, { offset: 5, field: 'e_ident[EI_DATA]' });
  const littleEndian = data === ELFDATA2LSB;
  const header = elf64HeaderLayout.read(head, 0, littleEndian);
  if (header.e_type !== ET_CORE) throw head.invalid(`e_type is ${header.e_type}, not ET_CORE (4)`, { offset: 16, field: 'e_type' });
  if (header.e_phentsize !== elf64ProgramHeaderLayout.sizeBytes) {
    throw head.invalid(`e_phentsize is ${header.e_phentsize}, expected ${elf64ProgramHeaderLayout.sizeBytes}`, { offset: 54, field: 'e_phentsize' });
  }
  const phoff = safeNumber(header.e_phoff, FORMAT, 'e_phoff', 32);
  let phnum = header.e_phnum;
  if (phnum === PN_XNUM) {
    const shoff = safeNumber(header.e_shoff, FORMAT, 'e_shoff', 40);
    const section = new ByteView(await source.readAt(shoff, elf64SectionHeaderLayout.sizeBytes, 'section header 0'), FORMAT);
    phnum = elf64SectionHeaderLayout.read(section, 0, littleEndian).sh_info;
  }
  if (phnum > LIMITS.elfProgramHeaders) {
    throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, FORMAT, `${phnum} program headers, more than the ${LIMITS.elfProgramHeaders} we read`, { field: 'e_phnum' });
  }
  const table = new ByteView(await source.readAt(phoff, phnum * elf64ProgramHeaderLayout.sizeBytes, 'program header table'), FORMAT);

  const loads: PtLoad[] = [];
  const noteParts: Uint8Array[] = [];
  let noteBytesTotal = 0;
  for (let index = 0; index < phnum; index++) {
    const at = index * elf64ProgramHeaderLayout.sizeBytes;
    const phdr = elf64ProgramHeaderLayout.read(table, at, littleEndian);
    const where = phoff + at;
    if (phdr.p_type === PT_NOTE) {
      const size = safeNumber(phdr.p_filesz, FORMAT, 'PT_NOTE p_filesz', where + 32);
      noteBytesTotal += size;
      if (noteBytesTotal > CRASH_LIMITS.noteSegmentBytes) {
        throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, FORMAT, `PT_NOTE segments of ${noteBytesTotal} bytes, more than the ${CRASH_LIMITS.noteSegmentBytes} read`, { offset: where, field: 'p_filesz' });
      }
      noteParts.push(await source.readAt(safeNumber(phdr.p_offset, FORMAT, 'PT_NOTE p_offset', where + 8), size, 'PT_NOTE segment'));
    } else if (phdr.p_type === PT_LOAD) {
      const load: PtLoad = {
        index,
        p_flags: phdr.p_flags,
        p_vaddr: phdr.p_vaddr,
        p_paddr: safeNumber(phdr.p_paddr, FORMAT, 'p_paddr', where + 24),
        p_offset: safeNumber(phdr.p_offset, FORMAT, 'p_offset', where + 8),
        p_filesz: safeNumber(phdr.p_filesz, FORMAT, 'p_filesz', where + 32),
        p_memsz: safeNumber(phdr.p_memsz, FORMAT, 'p_memsz', where + 40),
        p_align: phdr.p_align,
      };
      if (load.p_paddr + load.p_memsz > 2 ** CRASH_LIMITS.physicalAddressBits) {
        throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, `PT_LOAD ${index} ends at physical 0x${(load.p_paddr + load.p_memsz).toString(16)}, past ${CRASH_LIMITS.physicalAddressBits} bits`, { offset: where, field: 'p_paddr' });
      }
      if (load.p_filesz > load.p_memsz) {
        throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, `PT_LOAD ${index} has p_filesz ${load.p_filesz} > p_memsz ${load.p_memsz}`, { offset: where, field: 'p_filesz' });
      }
      if (load.p_offset + load.p_filesz > source.sizeBytes) {
        throw new ParseError(ErrorCode.FORMAT_TRUNCATED, FORMAT, `PT_LOAD ${index} needs bytes up to ${load.p_offset + load.p_filesz}, but ${source.name} has ${source.sizeBytes}`, { offset: where, field: 'p_offset' });
      }
      loads.push(load);
    }
  }
  const noteBytes = noteParts.length === 1 ? noteParts[0]! : Buffer.concat(noteParts);
  return {
    littleEndian,
    machine: header.e_machine,
    machineName: ELF_MACHINES[header.e_machine] ?? `machine ${header.e_machine}`,
    e_flags: header.e_flags,
    loads,
    noteBytes,
    notes: parseElfNotes(noteBytes, littleEndian, `${FORMAT} note`),
  };
}
