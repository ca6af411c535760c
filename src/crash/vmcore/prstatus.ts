import { ByteView } from '../../binary/byte-view.js';
import { defineLayout } from '../../binary/layout.js';
import { NT_PRSTATUS, type ElfNote } from '../../image/elf/notes.js';

// NT_PRSTATUS: what the kernel saved for each CPU when it crashed (crash_save_cpu() in
// kernel/kexec_core.c fills struct elf_prstatus from include/linux/elfcore.h).

/** struct elf_prstatus on x86_64: the common part, then pr_reg (user_regs_struct) at 112. */
export const x86_64PrstatusLayout = defineLayout('elf_prstatus (x86_64)', 336, {
  si_signo: { offset: 0, type: 'i32' },
  si_code: { offset: 4, type: 'i32' },
  si_errno: { offset: 8, type: 'i32' },
  pr_cursig: { offset: 12, type: 'u16' },
  pr_sigpend: { offset: 16, type: 'u64' },
  pr_sighold: { offset: 24, type: 'u64' },
  pr_pid: { offset: 32, type: 'i32' },
  pr_ppid: { offset: 36, type: 'i32' },
  pr_pgrp: { offset: 40, type: 'i32' },
  pr_sid: { offset: 44, type: 'i32' },
  pr_reg: { offset: 112, type: { bytes: 216 } },
  pr_fpvalid: { offset: 328, type: 'i32' },
});

/** The members of arch/x86/include/asm/user_64.h's user_regs_struct, in order. */
export const X86_64_REGISTER_NAMES = [
  'r15', 'r14', 'r13', 'r12', 'rbp', 'rbx', 'r11', 'r10', 'r9', 'r8', 'rax', 'rcx', 'rdx', 'rsi',
  'rdi', 'orig_rax', 'rip', 'cs', 'eflags', 'rsp', 'ss', 'fs_base', 'gs_base', 'ds', 'es', 'fs', 'gs',
] as const;

export interface CpuNote {
  /** Order among the NT_PRSTATUS notes (the kernel writes them by CPU number). */
  readonly index: number;
  /** The task that was running on that CPU (0: the idle task). */
  readonly pid: number;
  /** Registers by name on x86_64; empty where we do not know the layout. */
  readonly registers: Readonly<Record<string, bigint>>;
  readonly desc: Uint8Array;
}

export function readCpuNotes(notes: readonly ElfNote[], machineName: string, littleEndian: boolean): CpuNote[] {
  const cpus: CpuNote[] = [];
  for (const note of notes) {
    if (note.name !== 'CORE' || note.type !== NT_PRSTATUS) continue;
    const view = new ByteView(note.desc, 'NT_PRSTATUS');
    const registers: Record<string, bigint> = {};
    let pid = view.has(32, 4) ? view.i32(32, 'pr_pid', littleEndian) : 0;
    if (machineName === 'x86_64' && note.desc.length >= x86_64PrstatusLayout.sizeBytes) {
      const status = x86_64PrstatusLayout.read(view, 0, littleEndian);
      pid = status.pr_pid;
      X86_64_REGISTER_NAMES.forEach((name, index) => {
        registers[name] = view.u64(112 + index * 8, `pr_reg.${name}`, littleEndian);
      });
    }
    cpus.push({ index: cpus.length, pid, registers, desc: note.desc });
  }
  return cpus;
}
