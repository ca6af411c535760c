import { spawnSync } from 'node:child_process';
import { ErrorCode, KexecError, ParseError, SyscallError } from '../errors.js';
import { hostSyscalls, type KexecSyscalls } from '../syscall/index.js';
import {
  KEXEC_FILE_NO_INITRAMFS,
  KEXEC_FILE_ON_CRASH,
  KEXEC_FILE_UNLOAD,
  LINUX_REBOOT_CMD_KEXEC,
  kernelArchOf,
} from '../syscall/numbers.js';
import { validateCmdline } from './cmdline.js';
import { preflightKernel } from './preflight.js';
import { inspect } from '../image/detect.js';
import { explainKexecFailure, type FailedCall } from './explain.js';
import { startKernelLogCapture } from './kernel-log.js';
import { readMachineFacts, type MachineFacts } from './machine-facts.js';
import { concatenateInitrds } from './memfd-image.js';
import { closeImage, openImage, readWholeImage, type OpenedImage } from './open-image.js';

export interface LoadOptions {
  readonly kernel: string;
  /** One initrd, or several: they are concatenated (each 4-byte aligned) into one memfd. */
  readonly initrd?: string | readonly string[];
  readonly cmdline: string;
  /** Load as the crash (kdump) kernel, run by the kernel itself on panic. */
  readonly crash?: boolean;
  /**
   * Skip kexec-ts's own check that the kernel image suits this arch's kexec_file_load, and let
   * the kernel decide (for image formats newer than kexec-ts). The file checks still run.
   */
  readonly skipPreflight?: boolean;
}

export interface LoadResult {
  readonly kernel: { readonly path: string; readonly realPath: string; readonly sizeBytes: number };
  readonly initrd: { readonly path: string; readonly realPath: string; readonly sizeBytes: number } | undefined;
  readonly cmdline: string;
  readonly crash: boolean;
  readonly flags: number;
  /** What the kernel logged during the successful call (often nothing). */
  readonly kernelLog: readonly string[];
  /** Time inside kexec_file_load itself: the kernel reading, checking and placing the segments. */
  readonly durationMs: number;
}

/** Where the library meets the machine; tests and non-default roots replace these. */
export interface HandoffEnvironment {
  readonly syscalls: KexecSyscalls;
  readonly readFacts: () => MachineFacts;
  readonly devKmsgPath: string;
}

export function hostEnvironment(): HandoffEnvironment {
  return { syscalls: hostSyscalls(), readFacts: () => readMachineFacts(), devKmsgPath: '/dev/kmsg' };
}

/**
 * Loads a kernel (and initrd) with kexec_file_load(2). Everything that can be checked is checked
 * first; the files are opened once and those descriptors are what the kernel reads.
 */
export function load(options: LoadOptions, env: HandoffEnvironment = hostEnvironment()): LoadResult {
  const arch = kernelArchOf(process.arch);
  if (arch !== undefined) validateCmdline(options.cmdline, arch);
  const crash = options.crash === true;

  const initrdPaths = options.initrd === undefined ? [] : typeof options.initrd === 'string' ? [options.initrd] : [...options.initrd];
  let kernel: OpenedImage | undefined;
  const initrdParts: OpenedImage[] = [];
  let initrd: OpenedImage | undefined;
  try {
    kernel = openImage(options.kernel, 'kernel');
    if (arch !== undefined && options.skipPreflight !== true) {
      preflightKernel(inspectOrError(readWholeImage(kernel)), arch, options.cmdline, options.kernel);
    }
    for (const path of initrdPaths) initrdParts.push(openImage(path, 'initrd'));
    initrd = initrdParts.length > 1 ? concatenateInitrds(initrdParts, env.syscalls) : initrdParts[0];
    const flags = (crash ? KEXEC_FILE_ON_CRASH : 0) | (initrd === undefined ? KEXEC_FILE_NO_INITRAMFS : 0);
    const call: FailedCall = {
      operation: crash ? 'crash-load' : 'load',
      kernelPath: options.kernel,
      ...(initrd !== undefined ? { initrdPath: initrd.path } : {}),
    };
    let durationMs = 0;
    const kernelLog = callWithKernelLog(env, call, () => {
      const started = performance.now();
      // -1 is what the kernel's own loaders get for "no initrd" alongside KEXEC_FILE_NO_INITRAMFS.
      env.syscalls.kexecFileLoad(kernel!.fd, initrd?.fd ?? -1, options.cmdline, flags);
      durationMs = performance.now() - started;
    });
    return {
      kernel: describe(kernel),
      initrd: initrd === undefined ? undefined : describe(initrd),
      cmdline: options.cmdline,
      crash,
      flags,
      kernelLog,
      durationMs,
    };
  } finally {
    closeImage(kernel);
    for (const part of initrdParts) closeImage(part);
    if (initrd !== undefined && !initrdParts.includes(initrd)) closeImage(initrd);
  }
}

/** Unloads the loaded kernel (or crash kernel). Unloading when nothing is loaded succeeds. */
export function unload(options: { crash?: boolean } = {}, env: HandoffEnvironment = hostEnvironment()): void {
  const crash = options.crash === true;
  const flags = KEXEC_FILE_UNLOAD | (crash ? KEXEC_FILE_ON_CRASH : 0);
  callWithKernelLog(env, { operation: crash ? 'crash-unload' : 'unload' }, () =>
    env.syscalls.kexecFileLoad(-1, -1, '', flags),
  );
}

export interface ExecOptions {
  /** Skip the init system and reboot into the loaded kernel at once, as `kexec -e` does. */
  readonly force?: boolean;
}

export type ExecOutcome =
  /** The init system accepted the hand-off and will stop services, then kexec. */
  | { readonly via: 'init-system'; readonly initSystem: string; readonly command: string }
  /** Never returned in practice: the direct path ends in the new kernel. */
  | { readonly via: 'direct' };

/**
 * Hands off to the loaded kernel. With an init system as PID 1 (systemd) and no `force`, the
 * hand-off goes through it so services stop and filesystems unmount cleanly; otherwise we sync
 * and call reboot(LINUX_REBOOT_CMD_KEXEC) ourselves.
 */
export function exec(options: ExecOptions = {}, env: HandoffEnvironment = hostEnvironment()): ExecOutcome {
  const facts = env.readFacts();
  if (facts.kexecLoaded === false) {
    throw new KexecError(ErrorCode.NOTHING_LOADED, 'No kernel is loaded, so there is nothing to hand off to (/sys/kernel/kexec_loaded is 0).', {
      remedy: 'Load one first: kexec-ts load /boot/vmlinuz-VERSION --initrd /boot/initrd.img-VERSION --reuse-cmdline',
    });
  }
  if (options.force !== true && facts.initSystem === 'systemd') return handOffThroughSystemd();

  env.syscalls.sync();
  try {
    env.syscalls.reboot(LINUX_REBOOT_CMD_KEXEC);
  } catch (error) {
    if (!(error instanceof SyscallError)) throw error;
    // kernel_kexec() answers EINVAL when no image is loaded: the same refusal as above, for
    // machines where sysfs could not tell us beforehand.
    if (error.errnoName === 'EINVAL') {
      throw new KexecError(ErrorCode.NOTHING_LOADED, 'No kernel is loaded, so there is nothing to hand off to (reboot(2) answered EINVAL).', {
        cause: error,
        remedy: 'Load one first with kexec-ts load.',
      });
    }
    throw explainKexecFailure(error, { operation: 'exec' }, env.readFacts(), []);
  }
  return { via: 'direct' };
}

/** load() then exec(): the one-call hand-off. */
export function loadAndExec(options: LoadOptions & ExecOptions, env: HandoffEnvironment = hostEnvironment()): ExecOutcome {
  load({ ...options, crash: false }, env);
  return exec(options, env);
}

/**
 * `systemctl kexec` with a kernel already loaded: systemd stops services, unmounts, and its
 * shutdown binary calls reboot(LINUX_REBOOT_CMD_KEXEC) at the end; it uses the loaded image
 * instead of loading its own.
 */
function handOffThroughSystemd(): ExecOutcome {
  const command = ['systemctl', 'kexec'];
  const result = spawnSync(command[0]!, command.slice(1), { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
  if (result.error !== undefined || result.status !== 0) {
    throw new KexecError(
      ErrorCode.ORDERLY_HANDOFF_FAILED,
      `systemd did not accept the hand-off: ${result.error?.message ?? (result.stderr.trim() || `exit ${result.status}`)}`,
      { cause: result.error, remedy: 'Look at `journalctl -b -u systemd-logind` for why; `kexec-ts exec --force` reboots into the loaded kernel without stopping services first.' },
    );
  }
  return { via: 'init-system', initSystem: 'systemd', command: command.join(' ') };
}

/**
 * Runs one kexec syscall while capturing the kernel's log; on failure, reads the machine's
 * facts and throws the explained refusal with the log attached.
 */
function callWithKernelLog(env: HandoffEnvironment, call: FailedCall, syscall: () => void): string[] {
  const capture = startKernelLogCapture(env.syscalls, env.devKmsgPath);
  try {
    try {
      syscall();
    } catch (error) {
      if (!(error instanceof SyscallError)) throw error;
      throw explainKexecFailure(error, call, env.readFacts(), capture.collect());
    }
    return capture.collect();
  } finally {
    capture.close();
  }
}

function inspectOrError(bytes: Uint8Array) {
  try {
    return inspect(bytes);
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw error;
  }
}

function describe(image: OpenedImage) {
  return { path: image.path, realPath: image.realPath, sizeBytes: image.sizeBytes };
}
