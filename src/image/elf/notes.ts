import { ByteView } from '../../binary/byte-view.js';
import { defineLayout } from '../../binary/layout.js';
import { ErrorCode, ParseError } from '../../errors.js';

// ELF notes (System V gABI "Note Section"; include/uapi/linux/elf.h): a 12-byte header, the
// name and the descriptor, each padded to 4 bytes. Core files (vmcores included) put them in
// PT_NOTE segments.

export const elfNoteHeaderLayout = defineLayout('Elf64_Nhdr', 12, {
  n_namesz: { offset: 0, type: 'u32' },
  n_descsz: { offset: 4, type: 'u32' },
  n_type: { offset: 8, type: 'u32' },
});

export const NT_PRSTATUS = 1;
export const NT_PRPSINFO = 3;
export const NT_TASKSTRUCT = 4;

export interface ElfNote {
  /** The owner, without its NUL ("CORE", "VMCOREINFO", "Xen", ...). */
  readonly name: string;
  readonly type: number;
  readonly desc: Uint8Array;
  /** Where the note header starts, relative to the bytes parsed. */
  readonly offset: number;
  /** Where the descriptor starts, relative to the bytes parsed. */
  readonly descOffset: number;
}

/** Caps the notes read from one segment: a vmcore has one per CPU plus VMCOREINFO. */
export const MAX_ELF_NOTES = 65536;

const align4 = (value: number): number => Math.ceil(value / 4) * 4;

/**
 * The notes in `bytes` (one PT_NOTE segment). Stops at the end or at an all-zero header, which
 * the kernel writes after each CPU's notes (final_note in kernel/crash_core.c).
 */
export function parseElfNotes(bytes: Uint8Array, littleEndian = true, format = 'ELF note'): ElfNote[] {
  const view = new ByteView(bytes, format);
  const notes: ElfNote[] = [];
  let offset = 0;
  while (offset + elfNoteHeaderLayout.sizeBytes <= bytes.length) {
    const header = elfNoteHeaderLayout.read(view, offset, littleEndian);
    if (header.n_namesz === 0 && header.n_descsz === 0 && header.n_type === 0) break;
    if (notes.length >= MAX_ELF_NOTES) {
      throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, format, `more than ${MAX_ELF_NOTES} notes`, { offset });
    }
    const nameOffset = offset + elfNoteHeaderLayout.sizeBytes;
    const descOffset = nameOffset + align4(header.n_namesz);
    const rawName = view.slice(nameOffset, header.n_namesz, 'n_name');
    const nul = rawName.indexOf(0);
    const name = Buffer.from(rawName.subarray(0, nul === -1 ? rawName.length : nul)).toString('latin1');
    const desc = view.slice(descOffset, header.n_descsz, `${name || 'note'} descriptor`);
    notes.push({ name, type: header.n_type, desc, offset, descOffset });
    offset = descOffset + align4(header.n_descsz);
  }
  return notes;
}

/** One note in the bytes a PT_NOTE segment holds: header, NUL-terminated name and descriptor, each padded to 4. */
export function encodeElfNote(name: string, type: number, desc: Uint8Array): Uint8Array {
  const nameBytes = Buffer.from(`${name}\0`, 'latin1');
  const bytes = new Uint8Array(elfNoteHeaderLayout.sizeBytes + align4(nameBytes.length) + align4(desc.length));
  elfNoteHeaderLayout.write(bytes, { n_namesz: nameBytes.length, n_descsz: desc.length, n_type: type });
  bytes.set(nameBytes, elfNoteHeaderLayout.sizeBytes);
  bytes.set(desc, elfNoteHeaderLayout.sizeBytes + align4(nameBytes.length));
  return bytes;
}
