import { ErrorCode, ValidationError } from '../errors.js';
import type { KernelArch } from '../syscall/numbers.js';

export interface CmdlineLimit {
  /** Longest command line, in bytes of UTF-8 without the terminating NUL, that the kernel takes. */
  readonly maxLengthBytes: number;
  /** Where the number comes from, so a person can check it. */
  readonly source: string;
}

/**
 * x86_64: the bzImage64 loader refuses `cmdline_len + MAX_ELFCOREHDR_STR_LEN > cmdline_size`
 * (arch/x86/kernel/kexec-bzimage64.c), for every load, crash or not: it keeps room to append
 * "elfcorehdr=0x..." (30 bytes). cmdline_size is the boot-protocol field (2047 for protocol
 * >= 2.06, Documentation/arch/x86/boot.rst) and cmdline_len counts the NUL: 2047 - 30 - 1.
 * aarch64 and riscv64 pass the line in the device tree; the new kernel keeps COMMAND_LINE_SIZE
 * bytes including the NUL (arch/<arch>/include/uapi/asm/setup.h: arm64 4096, riscv 1024;
 * older kernels had 2048 and 512).
 */
export const CMDLINE_LIMITS: Readonly<Record<KernelArch, CmdlineLimit>> = {
  x86_64: {
    maxLengthBytes: 2047 - 30 - 1,
    source: 'boot protocol cmdline_size 2047 minus 30 bytes kept for elfcorehdr= (arch/x86/kernel/kexec-bzimage64.c) minus the NUL',
  },
  aarch64: {
    maxLengthBytes: 4096 - 1,
    source: 'COMMAND_LINE_SIZE 4096 in arch/arm64/include/uapi/asm/setup.h, minus the NUL',
  },
  riscv64: {
    maxLengthBytes: 1024 - 1,
    source: 'COMMAND_LINE_SIZE 1024 in arch/riscv/include/uapi/asm/setup.h, minus the NUL',
  },
};

/** Throws a ValidationError when the command line cannot reach the new kernel intact. */
export function validateCmdline(cmdline: string, arch: KernelArch): void {
  const nulAt = cmdline.indexOf('\0');
  if (nulAt !== -1) {
    throw new ValidationError(
      ErrorCode.CMDLINE_HAS_NUL,
      `The command line has a NUL byte at position ${nulAt}; the kernel would cut it there.`,
      { remedy: 'Remove the NUL byte: separate parameters with spaces.' },
    );
  }
  const limit = CMDLINE_LIMITS[arch];
  const lengthBytes = Buffer.byteLength(cmdline, 'utf8');
  if (lengthBytes > limit.maxLengthBytes) {
    throw new ValidationError(
      ErrorCode.CMDLINE_TOO_LONG,
      `The command line is ${lengthBytes} bytes; ${arch} takes at most ${limit.maxLengthBytes} (${limit.source}).`,
      { remedy: `Shorten the command line by ${lengthBytes - limit.maxLengthBytes} bytes.` },
    );
  }
}

/**
 * The running kernel's command line made fit for the next kernel, as kexec-tools'
 * --reuse-cmdline does: the boot loader's BOOT_IMAGE= and the initrd= that named a file of
 * the old boot are dropped (they would mislead the new kernel), the rest is kept in order.
 */
export function reusableCmdline(procCmdline: string): string {
  return splitCmdline(procCmdline.replace(/\n$/, ''))
    .filter((parameter) => !/^(BOOT_IMAGE|initrd)=/.test(parameter))
    .join(' ');
}

/** Splits on spaces outside double quotes, as the kernel's next_arg() does. */
export function splitCmdline(cmdline: string): string[] {
  const parameters: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of cmdline) {
    if (char === '"') quoted = !quoted;
    if (!quoted && /\s/.test(char)) {
      if (current !== '') parameters.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  if (current !== '') parameters.push(current);
  return parameters;
}

/** What a boot entry says of its command line, as far as choosing one needs. */
export interface EntryCmdline {
  readonly title: string;
  readonly origin: string;
  readonly cmdline: string;
  readonly cmdlineOrigin?: 'this-boot' | 'unknown';
  readonly cmdlineUnknownReason?: string;
}

/**
 * The command line to boot `entry` with: its own, or this boot's (`reused`, from
 * reusableCmdline) in its place, then `append`. Undefined for a UKI given neither: its own
 * is inside it. An entry whose command line is unknown is never booted with an empty one:
 * without `append` or `reused` it is refused, saying where one can come from.
 */
export function cmdlineForEntry(entry: EntryCmdline, extra: { append?: string | undefined; reused?: string | undefined }): string | undefined {
  const known = entry.cmdlineOrigin !== 'unknown';
  const base = extra.reused ?? (entry.origin === 'uki' || !known ? undefined : entry.cmdline);
  if (base === undefined && extra.append === undefined) {
    if (entry.origin === 'uki') return undefined;
    throw new ValidationError(
      ErrorCode.CMDLINE_MISSING,
      `The command line of '${entry.title}' is not known: ${entry.cmdlineUnknownReason ?? 'no configuration gives one'}.`,
      { remedy: "Give the command line that system boots with (--append 'root=UUID=... ro'), or boot with this boot's (--reuse-cmdline)." },
    );
  }
  return [base ?? '', extra.append ?? ''].filter((part) => part !== '').join(' ');
}
