import { ErrorCode, KexecRefusedError, type SyscallError } from '../errors.js';
import { configEnabled } from '../image/kernel-config.js';
import type { MachineFacts } from './machine-facts.js';

/** What was being attempted when the kernel said no. */
export interface FailedCall {
  readonly operation: 'load' | 'crash-load' | 'unload' | 'crash-unload' | 'exec';
  readonly kernelPath?: string;
  readonly initrdPath?: string;
  /** For kexec_load: where kexec-ts placed each segment, to name the one the kernel refused. */
  readonly segments?: readonly { readonly name: string; readonly start: bigint; readonly end: bigint }[];
}

/** One explanation: the stable code, the cause in plain words, and the remedy. */
interface Explanation {
  readonly code: ErrorCode;
  readonly reason: string;
  readonly remedy: string;
}

/**
 * The causes of EPERM, checked in this order: the order in which the kernel itself refuses
 * (kexec_load_permitted() in kernel/kexec_core.c checks the capability, then
 * kexec_load_disabled, then the load limits; the signature check with lockdown comes later,
 * in kimage_validate_signature() in kernel/kexec_file.c). The first whose test holds wins.
 */
const EPERM_CAUSES: ReadonlyArray<{
  readonly holds: (facts: MachineFacts, kernelLog: readonly string[], call: FailedCall) => boolean;
  readonly explain: (facts: MachineFacts) => Explanation;
}> = [
  {
    holds: (facts) => facts.hasCapSysBoot === false,
    explain: (facts) => ({
      code: ErrorCode.NO_CAP_SYS_BOOT,
      reason: `this process lacks CAP_SYS_BOOT${facts.uid !== undefined && facts.uid !== 0 ? ` (running as uid ${facts.uid}, not root)` : ''}; only a process with it may load or run a kernel`,
      remedy: 'Run as root (sudo kexec-ts ...). In a container, the capability must be granted in the host\'s initial user namespace, which containers normally cannot do.',
    }),
  },
  {
    holds: (facts) => facts.kexecLoadDisabled === true,
    explain: () => ({
      code: ErrorCode.KEXEC_LOAD_DISABLED,
      reason: 'kexec loading is disabled: /proc/sys/kernel/kexec_load_disabled is 1, and it cannot be set back to 0 until the next reboot',
      remedy: 'Reboot through the firmware; find what sets kernel.kexec_load_disabled=1 (sysctl.d, a hardening script) if kexec should be possible afterwards.',
    }),
  },
  {
    holds: (facts, _log, call) =>
      call.operation === 'crash-load' || call.operation === 'crash-unload' ? facts.loadLimitPanic === 0 : facts.loadLimitReboot === 0,
    explain: () => ({
      code: ErrorCode.KEXEC_LOAD_LIMIT_REACHED,
      reason: 'the kexec load limit is used up: /proc/sys/kernel/kexec_load_limit_reboot (or _panic for crash kernels) is 0',
      remedy: 'The limit only decreases until reboot; reboot through the firmware, or raise it early in boot before it is spent.',
    }),
  },
  {
    holds: (facts, kernelLog) =>
      (facts.lockdown !== undefined && facts.lockdown !== 'none') || kernelLog.some((line) => /Lockdown: .*kexec/.test(line)),
    explain: (facts) => ({
      code: ErrorCode.LOCKDOWN_REFUSED,
      reason: `the kernel is locked down${facts.lockdown !== undefined ? ` (${facts.lockdown} mode)` : ''} and refuses a kernel image whose signature it cannot verify against its trusted keys`,
      remedy: 'Load a kernel signed with a key the running kernel trusts (a distribution kernel under Secure Boot, with its keys enrolled), or boot without lockdown (lockdown= on the command line, or Secure Boot off).',
    }),
  },
  {
    holds: (facts, kernelLog) =>
      (facts.kernelConfig !== undefined && configEnabled(facts.kernelConfig, 'CONFIG_KEXEC_SIG_FORCE') === true) ||
      kernelLog.some((line) => /Enforced kernel signature verification failed/.test(line)),
    explain: () => ({
      code: ErrorCode.SIGNATURE_REJECTED,
      reason: 'this kernel enforces signatures on kexec images (CONFIG_KEXEC_SIG_FORCE or an IMA/Secure Boot policy) and the image did not verify',
      remedy: 'Load a kernel signed with a key in the kernel\'s builtin, secondary or platform keyring.',
    }),
  },
];

const SIGNATURE_FAILURE: Explanation = {
  code: ErrorCode.SIGNATURE_REJECTED,
  reason: 'signature verification of the kernel image failed and this kernel enforces signatures',
  remedy: 'Load a kernel signed with a key the running kernel trusts (builtin, secondary or platform keyring; `keyctl show %:.platform` lists the platform keys).',
};

/** errno name -> explanation, for every errno other than EPERM (which has its own table). */
const ERRNO_EXPLANATIONS: Readonly<Record<string, (call: FailedCall, facts: MachineFacts) => Explanation>> = {
  ENOEXEC: (call, facts) => ({
    code: ErrorCode.NOT_A_KERNEL,
    reason: `the kernel does not recognise ${call.kernelPath ?? 'the image'} as a kernel it can load on ${facts.arch}${facts.arch === 'x86_64' ? ' (x86_64 takes a bzImage with a 64-bit entry point)' : ''}`,
    remedy: 'Pass the kernel image itself (e.g. /boot/vmlinuz-VERSION), not an initrd, a compressed vmlinux or a module; `file FILE` tells what a file is.',
  }),
  EKEYREJECTED: () => SIGNATURE_FAILURE,
  ENOKEY: () => SIGNATURE_FAILURE,
  EBADMSG: () => SIGNATURE_FAILURE,
  ENODATA: () => ({ ...SIGNATURE_FAILURE, reason: 'the kernel image carries no signature and this kernel enforces signatures' }),
  EADDRNOTAVAIL: (_call, facts) => ({
    code: ErrorCode.NO_CRASH_RESERVATION,
    reason:
      facts.crashReservationBytes === 0 || facts.crashReservationBytes === undefined
        ? `no memory is reserved for a crash kernel (${facts.crashkernelParameter === undefined ? 'the kernel was booted without crashkernel=' : `${facts.crashkernelParameter} reserved nothing`})`
        : `the crash kernel does not fit the ${formatMiB(facts.crashReservationBytes)} reserved by ${facts.crashkernelParameter ?? 'crashkernel='}`,
    remedy: 'Boot with a crash reservation, e.g. crashkernel=256M on the kernel command line (GRUB_CMDLINE_LINUX in /etc/default/grub, then update-grub and reboot).',
  }),
  EBUSY: () => ({
    code: ErrorCode.KEXEC_BUSY,
    reason: 'another kexec load or unload is running right now (the kernel holds one kexec lock)',
    remedy: 'Wait for the other kexec command to finish, then try again.',
  }),
  ETXTBSY: (call) => ({
    code: ErrorCode.FILE_OPEN_FOR_WRITING,
    reason: `${call.kernelPath ?? 'the kernel'} or ${call.initrdPath ?? 'the initrd'} is open for writing somewhere, and the kernel will not read a file that may change under it`,
    remedy: 'Wait for the program writing it (a package install, a copy) to finish; `fuser -v FILE` shows who has it open.',
  }),
  EINVAL: (call, facts) => ({
    code: ErrorCode.INVALID_ARGUMENT,
    reason:
      call.operation === 'exec'
        ? 'the kernel has no image loaded to run'
        : facts.arch === 'x86_64'
          ? 'the kernel rejected the arguments: most often the command line is longer than the image\'s cmdline_size allows, or a flag this kernel does not know'
          : `the kernel rejected the arguments: on ${facts.arch} an image it does not recognise (a compressed or non-Image file) is EINVAL, not ENOEXEC`,
    remedy: 'Check the kernel\'s own log lines above; shorten the command line, or pass an uncompressed Image on arm64/RISC-V.',
  }),
  ENOMEM: (call, facts) => ({
    code: ErrorCode.OUT_OF_MEMORY,
    reason:
      call.operation === 'crash-load'
        ? `the crash kernel and initrd do not fit the ${facts.crashReservationBytes !== undefined ? formatMiB(facts.crashReservationBytes) : ''} crash reservation`
        : 'the kernel could not find memory for the new kernel\'s segments',
    remedy: call.operation === 'crash-load' ? 'Use a smaller initrd, or a larger crashkernel= reservation.' : 'Free memory, or use a smaller initrd.',
  }),
  EFBIG: () => ({
    code: ErrorCode.IMAGE_TOO_LARGE,
    reason: 'the kernel or initrd is larger than kexec_file_load reads (4 GiB, KEXEC_FILE_SIZE_MAX in kernel/kexec_file.c)',
    remedy: 'Use a smaller initrd.',
  }),
  ENOSYS: (_call, facts) => ({
    code: ErrorCode.KEXEC_FILE_NOT_SUPPORTED,
    reason: `this kernel has no kexec_file_load${facts.kernelConfig !== undefined && configEnabled(facts.kernelConfig, 'CONFIG_KEXEC_FILE') === false ? ' (CONFIG_KEXEC_FILE is not set)' : ''}`,
    remedy: facts.arch === 'aarch64'
      ? 'kexec-ts falls back to kexec_load on arm64 when the kernel has no kexec_file_load (not with --no-kexec-load, nor under lockdown); or boot a kernel built with CONFIG_KEXEC_FILE=y.'
      : 'Boot a kernel built with CONFIG_KEXEC_FILE=y, or use kexec-tools\' kexec_load path (kexec -c) if only CONFIG_KEXEC is set.',
  }),
};

const hex = (value: bigint): string => `0x${value.toString(16)}`;
const segmentList = (call: FailedCall): string =>
  (call.segments ?? []).map((segment) => `${segment.name} ${hex(segment.start)}-${hex(segment.end)}`).join(', ');

/**
 * kexec_load's own refusals (kernel/kexec.c, sanity_check_segment_list() in kexec_core.c): its
 * segments are ours, so the answer names them.
 */
const KEXEC_LOAD_EXPLANATIONS: Readonly<Record<string, (call: FailedCall) => Explanation>> = {
  EINVAL: (call) => ({
    code: ErrorCode.INVALID_ARGUMENT,
    reason: `the kernel rejected the segments kexec-ts placed (${segmentList(call)}): one is not page aligned, they overlap, or the architecture flag is not this kernel's`,
    remedy: 'Check the kernel\'s log lines above; report this with `kexec-ts load --json` output, since kexec-ts chose these addresses.',
  }),
  EADDRNOTAVAIL: (call) => ({
    code: ErrorCode.NO_ROOM_FOR_SEGMENTS,
    reason: `a segment lies outside the memory the kernel lets kexec use (${segmentList(call)})`,
    remedy: 'Compare with the System RAM ranges of /proc/iomem; report this, since kexec-ts chose these addresses.',
  }),
  ENOMEM: (call) => ({
    code: ErrorCode.OUT_OF_MEMORY,
    reason: `the kernel could not find pages to hold the segments until the hand-off (${segmentList(call)})`,
    remedy: 'Free memory, or use a smaller initrd.',
  }),
};

/**
 * Turns a failed kexec syscall into an explained refusal. Pure: the facts and the kernel's
 * log are read by the caller; here they are only weighed.
 */
export function explainKexecFailure(
  failure: SyscallError,
  call: FailedCall,
  facts: MachineFacts,
  kernelLog: readonly string[],
): KexecRefusedError {
  const explanation = explanationFor(failure, call, facts, kernelLog);
  const what = describeOperation(call);
  return new KexecRefusedError(
    explanation.code,
    `${what} was refused: ${failure.errnoName}: ${explanation.reason}.`,
    { syscall: failure.syscall, errno: failure.errno, errnoName: failure.errnoName, reason: explanation.reason, kernelLog },
    { cause: failure, remedy: explanation.remedy },
  );
}

function explanationFor(failure: SyscallError, call: FailedCall, facts: MachineFacts, kernelLog: readonly string[]): Explanation {
  if (failure.errnoName === 'EPERM') {
    const cause = EPERM_CAUSES.find((candidate) => candidate.holds(facts, kernelLog, call));
    if (cause?.explain(facts).code === ErrorCode.LOCKDOWN_REFUSED && failure.syscall === 'kexec_load') {
      // kexec_load has no signature to check: lockdown refuses the call itself (kernel/kexec.c).
      return {
        code: ErrorCode.LOCKDOWN_REFUSED,
        reason: `the kernel is locked down${facts.lockdown !== undefined ? ` (${facts.lockdown} mode)` : ''} and refuses kexec_load altogether: nothing would check the kernel it runs`,
        remedy: 'Boot without lockdown to kexec on this kernel, or boot a kernel built with CONFIG_KEXEC_FILE, which loads signed kernels under lockdown.',
      };
    }
    return (
      cause?.explain(facts) ?? {
        code: ErrorCode.PERMISSION_DENIED,
        reason: 'the kernel refused, and none of the known causes (CAP_SYS_BOOT, kexec_load_disabled, load limits, lockdown, signature enforcement) could be confirmed here',
        remedy: 'Check the kernel\'s log (dmesg) and any LSM policy (SELinux, AppArmor) that may deny kexec.',
      }
    );
  }
  const ownSegments = failure.syscall === 'kexec_load' ? KEXEC_LOAD_EXPLANATIONS[failure.errnoName] : undefined;
  if (ownSegments !== undefined) return ownSegments(call);
  const explain = ERRNO_EXPLANATIONS[failure.errnoName];
  if (explain !== undefined) return explain(call, facts);
  return {
    code: ErrorCode.SYSCALL_FAILED,
    reason: `the kernel answered ${failure.errnoName} (${failure.errno})`,
    remedy: 'Check the kernel\'s log (dmesg) for what it said about the call.',
  };
}

function describeOperation(call: FailedCall): string {
  switch (call.operation) {
    case 'load':
      return `Loading ${call.kernelPath ?? 'the kernel'}`;
    case 'crash-load':
      return `Loading ${call.kernelPath ?? 'the kernel'} as the crash kernel`;
    case 'unload':
      return 'Unloading the kernel';
    case 'crash-unload':
      return 'Unloading the crash kernel';
    case 'exec':
      return 'Handing off to the loaded kernel';
  }
}

export function formatMiB(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))} MiB`;
}
