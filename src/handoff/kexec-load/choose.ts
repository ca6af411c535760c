/**
 * Which syscall a load uses. kexec_file_load is the default everywhere it exists: the kernel
 * reads the files itself, places them, checks signatures under lockdown and Secure Boot. Only
 * where the running kernel has no kexec_file_load (every Debian arm64 and riscv64 kernel:
 * CONFIG_KEXEC_FILE is off, CONFIG_KEXEC on) does kexec-ts fall back to kexec_load(2), placing the segments and
 * supplying the purgatory itself — and never under lockdown, where the kernel refuses
 * kexec_load because nothing checks what it would run. Pure: the machine's facts in.
 */
import { configEnabled } from '../../image/kernel-config.js';
import { ErrorCode, ValidationError } from '../../errors.js';
import type { MachineFacts } from '../machine-facts.js';

/** `auto`: kexec_load only where kexec_file_load is missing; `force`: kexec_load; `never`: kexec_file_load. */
export type KexecLoadChoice = 'auto' | 'force' | 'never';

export type LoadSyscall = 'kexec_file_load' | 'kexec_load';

export interface LoadSyscallDecision {
  readonly syscall: LoadSyscall;
  /** Why, for people (status, the load's notes). */
  readonly reason: string;
}

/** The architectures kexec-ts can build kexec_load segments for. */
export const KEXEC_LOAD_ARCHES: readonly string[] = ['aarch64', 'riscv64'];

export type KexecLoadFacts = Pick<MachineFacts, 'arch' | 'kernelConfig' | 'kernelConfigSource' | 'lockdown'>;

/** Whether the running kernel has kexec_file_load: false only where its config says so. */
export function kexecFileLoadBuiltIn(facts: KexecLoadFacts): boolean | undefined {
  return facts.kernelConfig === undefined ? undefined : configEnabled(facts.kernelConfig, 'CONFIG_KEXEC_FILE');
}

/**
 * The decision before the call. `kexecFileMissing` says the kernel answered ENOSYS to
 * kexec_file_load (the config may not be readable); then `auto` falls back too.
 */
export function chooseLoadSyscall(facts: KexecLoadFacts, choice: KexecLoadChoice, options: { crash: boolean; kexecFileMissing?: boolean }): LoadSyscallDecision {
  const fileLoad = kexecFileLoadBuiltIn(facts);
  const missing = options.kexecFileMissing === true || fileLoad === false;
  // Where kexec-ts has no kexec_load planner, `auto` leaves the answer to the kernel (ENOSYS, explained).
  if (choice === 'never' || (choice === 'auto' && (!missing || !KEXEC_LOAD_ARCHES.includes(facts.arch)))) {
    const reason = choice === 'never' ? 'asked for (--no-kexec-load)' : missing ? `kexec-ts has no kexec_load for ${facts.arch}` : 'the kernel has it: it reads, places and checks the files itself';
    return { syscall: 'kexec_file_load', reason };
  }
  const why = choice === 'force' ? 'asked for (--kexec-load)' : `the running kernel has no kexec_file_load (${options.kexecFileMissing === true ? 'it answered ENOSYS' : `CONFIG_KEXEC_FILE is off in ${facts.kernelConfigSource ?? 'its config'}`})`;
  if (facts.lockdown !== undefined && facts.lockdown !== 'none') {
    throw new ValidationError(ErrorCode.KEXEC_LOAD_NOT_ALLOWED, `kexec_load would be needed (${why}), but the kernel is locked down (${facts.lockdown}) and refuses kexec_load: nothing would check the kernel it runs.`, {
      remedy: 'Boot without lockdown to kexec on this kernel, or boot a kernel built with CONFIG_KEXEC_FILE (which checks signatures).',
    });
  }
  if (!KEXEC_LOAD_ARCHES.includes(facts.arch)) {
    throw new ValidationError(ErrorCode.KEXEC_LOAD_NOT_ALLOWED, `kexec_load would be needed (${why}), but kexec-ts builds kexec_load segments only for ${KEXEC_LOAD_ARCHES.join(', ')}, not ${facts.arch}.`, {
      remedy: 'Use a kernel with CONFIG_KEXEC_FILE on this architecture, or kexec-tools.',
    });
  }
  if (options.crash) {
    throw new ValidationError(ErrorCode.KEXEC_LOAD_NOT_ALLOWED, `kexec_load would be needed (${why}), but kexec-ts does not load crash kernels with it yet.`, {
      remedy: 'kexec-tools (kexec -p) can arm a crash kernel on this kernel.',
    });
  }
  if (facts.kernelConfig !== undefined && configEnabled(facts.kernelConfig, 'CONFIG_KEXEC') === false) {
    throw new ValidationError(ErrorCode.KEXEC_LOAD_NOT_ALLOWED, 'The running kernel has neither kexec_file_load nor kexec_load (CONFIG_KEXEC and CONFIG_KEXEC_FILE are off).', {
      remedy: 'This kernel cannot kexec; boot one built with CONFIG_KEXEC_FILE or CONFIG_KEXEC.',
    });
  }
  // riscv64 needs no purgatory: the kernel's relocation code enters the Image with a0/a1 set (riscv64.ts).
  const supplies = facts.arch === 'riscv64' ? 'the device tree' : 'the device tree and the purgatory';
  return { syscall: 'kexec_load', reason: `${why}: kexec-ts places the segments and supplies ${supplies}` };
}

/**
 * How a load would go on this machine, whatever the image: the syscall and why, or why the
 * running kernel cannot load at all (for inspect's verdict and a dry run).
 */
export function loadPathHere(facts: KexecLoadFacts & Pick<MachineFacts, 'kexecLoaded' | 'kernelRelease'>): LoadSyscallDecision | { readonly cannot: string } {
  const fileLoad = kexecFileLoadBuiltIn(facts);
  if (fileLoad === undefined && facts.kexecLoaded === undefined && facts.kernelRelease !== undefined) {
    return { cannot: 'the running kernel has no kexec support (/sys/kernel/kexec_loaded is missing)' };
  }
  try {
    const decision = chooseLoadSyscall(facts, 'auto', { crash: false });
    if (decision.syscall === 'kexec_file_load' && fileLoad === false) {
      return { cannot: `the running kernel has no kexec_file_load (CONFIG_KEXEC_FILE is not set in ${facts.kernelConfigSource}), and ${decision.reason}` };
    }
    return decision;
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { cannot: error.message.replace(/\.$/, '') };
  }
}
