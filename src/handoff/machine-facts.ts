import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseKernelConfig, type KernelConfig } from '../image/kernel-config.js';
import { LIMITS } from '../limits.js';
import { kernelArchOf } from '../syscall/numbers.js';

/** Linux capability number of CAP_SYS_BOOT (include/uapi/linux/capability.h). */
export const CAP_SYS_BOOT = 22;

export type LockdownMode = 'none' | 'integrity' | 'confidentiality';

/**
 * What the machine says about kexec, each fact read from where the kernel publishes it.
 * `undefined` means "could not be read here" (not mounted, no permission, too old a kernel):
 * the explanation logic treats it as unknown, never as "no".
 */
export interface MachineFacts {
  readonly arch: string;
  readonly kernelRelease: string | undefined;
  readonly uid: number | undefined;
  /** From CapEff in /proc/self/status. */
  readonly hasCapSysBoot: boolean | undefined;
  /** /proc/sys/kernel/kexec_load_disabled: once 1, stays 1 until reboot. */
  readonly kexecLoadDisabled: boolean | undefined;
  /** /proc/sys/kernel/kexec_load_limit_{reboot,panic} (Linux 6.6+): -1 unlimited, 0 exhausted. */
  readonly loadLimitReboot: number | undefined;
  readonly loadLimitPanic: number | undefined;
  /** /sys/kernel/security/lockdown, the bracketed mode; undefined when securityfs is absent. */
  readonly lockdown: LockdownMode | undefined;
  /** Why lockdown is unknown, for the status report. */
  readonly lockdownUnknownReason: string | undefined;
  readonly kexecLoaded: boolean | undefined;
  readonly kexecCrashLoaded: boolean | undefined;
  /** /sys/kernel/kexec_crash_size: the crashkernel= reservation in bytes (0 = none). */
  readonly crashReservationBytes: number | undefined;
  /** The crashkernel= parameter this kernel was booted with, if any. */
  readonly crashkernelParameter: string | undefined;
  readonly procCmdline: string | undefined;
  readonly kernelConfig: KernelConfig | undefined;
  /** Where the config came from (/proc/config.gz or /boot/config-RELEASE). */
  readonly kernelConfigSource: string | undefined;
  /** UEFI Secure Boot as the firmware reports it (efivars SecureBoot variable). */
  readonly secureBoot: boolean | undefined;
  /** The command name of PID 1 (/proc/1/comm): which init system would do an orderly hand-off. */
  readonly initSystem: string | undefined;
}

/**
 * Reads the facts. `root` prefixes every path so tests can point at a prepared tree; it is '/'
 * on a real machine.
 */
export function readMachineFacts(root = '/', arch: string = process.arch): MachineFacts {
  const read = (path: string) => readSmallFile(join(root, path));
  const procCmdline = read('proc/cmdline')?.trim();
  const kernelRelease = read('proc/sys/kernel/osrelease')?.trim();
  const lockdownText = read('sys/kernel/security/lockdown');
  const { config, source } = readKernelConfig(root, kernelRelease);
  const securityfsMounted = lockdownText !== undefined || /\ssecurityfs\s/.test(read('proc/self/mounts') ?? '');
  return {
    arch: kernelArchOf(arch) ?? arch,
    kernelRelease,
    uid: parseStatusField(read('proc/self/status'), 'Uid', (value) => Number(value.split(/\s+/)[1] ?? value)),
    hasCapSysBoot: parseStatusField(read('proc/self/status'), 'CapEff', (hex) => (BigInt(`0x${hex}`) >> BigInt(CAP_SYS_BOOT)) & 1n ? true : false),
    kexecLoadDisabled: parseFlag(read('proc/sys/kernel/kexec_load_disabled')),
    loadLimitReboot: parseInteger(read('proc/sys/kernel/kexec_load_limit_reboot')),
    loadLimitPanic: parseInteger(read('proc/sys/kernel/kexec_load_limit_panic')),
    lockdown: lockdownText === undefined ? undefined : parseLockdown(lockdownText),
    lockdownUnknownReason:
      lockdownText !== undefined
        ? undefined
        : securityfsMounted
          ? 'the lockdown LSM is not built into this kernel'
          : 'securityfs is not mounted at /sys/kernel/security (mount -t securityfs securityfs /sys/kernel/security)',
    kexecLoaded: parseFlag(read('sys/kernel/kexec_loaded')),
    kexecCrashLoaded: parseFlag(read('sys/kernel/kexec_crash_loaded')),
    crashReservationBytes: parseInteger(read('sys/kernel/kexec_crash_size')),
    crashkernelParameter: procCmdline?.split(/\s+/).find((parameter) => parameter.startsWith('crashkernel=')),
    procCmdline,
    kernelConfig: config,
    kernelConfigSource: source,
    secureBoot: readSecureBoot(root),
    initSystem: read('proc/1/comm')?.trim(),
  };
}

/** Parses the bracketed mode of /sys/kernel/security/lockdown ("none [integrity] confidentiality"). */
export function parseLockdown(text: string): LockdownMode | undefined {
  const selected = /\[(\w+)\]/.exec(text)?.[1];
  return selected === 'none' || selected === 'integrity' || selected === 'confidentiality' ? selected : undefined;
}

function readKernelConfig(root: string, release: string | undefined): { config?: KernelConfig; source?: string } {
  const procConfig = readSmallFile(join(root, 'proc/config.gz'), 'buffer');
  if (procConfig !== undefined) {
    try {
      return { config: parseKernelConfig(gunzipSync(procConfig).toString('utf8')), source: '/proc/config.gz' };
    } catch {
      // A corrupt /proc/config.gz is not worth failing a status report over; try /boot.
    }
  }
  if (release !== undefined) {
    const path = `/boot/config-${release}`;
    const text = readSmallFile(join(root, path));
    if (text !== undefined) return { config: parseKernelConfig(text), source: path };
  }
  return {};
}

/** The SecureBoot EFI variable: 4 bytes of attributes, then one byte, 1 when enabled. */
function readSecureBoot(root: string): boolean | undefined {
  const variable = readSmallFile(
    join(root, 'sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c'),
    'buffer',
  );
  if (variable === undefined) return undefined;
  return variable.length >= 5 ? variable[4] === 1 : undefined;
}

function readSmallFile(path: string): string | undefined;
function readSmallFile(path: string, as: 'buffer'): Buffer | undefined;
function readSmallFile(path: string, as: 'text' | 'buffer' = 'text'): string | Buffer | undefined {
  try {
    const bytes = readFileSync(path);
    const bounded = bytes.length > LIMITS.procFileBytes ? bytes.subarray(0, LIMITS.procFileBytes) : bytes;
    return as === 'buffer' ? bounded : bounded.toString('utf8');
  } catch {
    return undefined;
  }
}

function parseFlag(text: string | undefined): boolean | undefined {
  const value = parseInteger(text);
  return value === undefined ? undefined : value !== 0;
}

function parseInteger(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  return /^-?\d+$/.test(trimmed) ? Number(trimmed) : undefined;
}

function parseStatusField<T>(status: string | undefined, field: string, parse: (value: string) => T): T | undefined {
  const line = status?.split('\n').find((candidate) => candidate.startsWith(`${field}:`));
  if (line === undefined) return undefined;
  const value = line.slice(field.length + 1).trim();
  try {
    return parse(value);
  } catch {
    return undefined;
  }
}
