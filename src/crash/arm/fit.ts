import { ErrorCode, ValidationError } from '../../errors.js';
import type { CaptureEnvironment } from './capture-cmdline.js';
import type { InitrdMeasurement } from './initrd-measure.js';
import type { KernelFootprint } from './kernel-footprint.js';
import { formatSize, GIB, MIB, roundUp } from './memory-size.js';

/**
 * Will the capture kernel fit its reservation — when loaded, while it unpacks its initrd, and
 * while its userspace saves the dump? Pure arithmetic over the sizes read from the images, with
 * the kernel's own rules for where things go, and constants measured on a real capture boot.
 *
 * Measured (Debian 6.1 cloud kernel, x86_64, QEMU, crashkernel=256M, nr_cpus=1): the capture
 * kernel sees 256.6 MiB; its "Memory:" line reserves 48.8 MiB besides the initrd (the image
 * 32.3 MiB with its 2.6 MiB init section, memmap 4 MiB, other early reservations); after boot,
 * with a 1.9 MB rootfs, 191.7 MiB are free: 29.7 MiB image, 4 MiB memmap, and 29 MiB of slab,
 * page tables and per-CPU areas. An unpacked rootfs costs its size one for one (90 MiB of files:
 * 92 MiB less free). The rootfs tmpfs is capped at half the memory counted when it is mounted
 * (shmem_default_max_blocks(): totalram_pages() / 2): 104 MiB there.
 */
export const CAPTURE_MEMORY_MODEL = {
  /** Slab, page tables, per-CPU areas, the init section: measured 29 MiB, with room. */
  kernelRuntimeBytes: 32 * MIB,
  /** Reserved when the rootfs is mounted besides the resident image, memmap and initrd: the init
   * section and early reservations, measured 15 MiB. */
  earlyReservedBytes: 16 * MIB,
  /** struct page: 64 bytes for every 4 KiB page the capture kernel manages. */
  memmapBytesPerByte: 64 / 4096,
  /** What goes into the reservation with the kernel and initrd: purgatory, boot parameters and
   * the command line, the ELF core headers (each a few pages), and placement slack. */
  loadExtraBytes: 4 * MIB,
  /**
   * The capture userspace's working memory beyond the rootfs.
   * 'capture-initrd': node running kexec-ts from the initramfs (its binary already counted in
   * the rootfs). Measured in the capture kernel: crash dmesg takes ~10 MiB; crash save of a
   * 1 GiB guest's vmcore to ext4 lowers MemAvailable by 47 MiB at its lowest (V8's heap, the
   * writer's buffers, the dump's dirty page cache).
   * 'system': systemd, udevd and journald from the real root, and node with its ~40 MB binary
   * paged in from disk (an estimate; give --userspace-reserve to change it).
   */
  userspaceBytes: { 'capture-initrd': 64 * MIB, system: 96 * MIB } satisfies Record<CaptureEnvironment, number>,
} as const;

export interface FitInput {
  /** mainBytes: the crashkernel region (crashk_res), where kexec places the segments;
   * totalBytes: all "Crash kernel" ranges (a ,high reservation adds a low one), what the capture kernel runs in. */
  readonly reservation: { readonly mainBytes: number; readonly totalBytes: number };
  readonly kernel: KernelFootprint;
  readonly initrd: InitrdMeasurement | undefined;
  readonly environment: CaptureEnvironment;
  /** Whether the capture command line, as it stands, gives the initramfs a tmpfs rootfs. */
  readonly rootfsTmpfs: boolean;
  /**
   * Whether rootfstype=ramfs may be added when tmpfs is too small: only for an initramfs that is
   * the whole capture system (a system initrd reads rootfstype= for its real root, where ramfs
   * would be wrong), and only when kexec-ts makes the command line.
   */
  readonly canSwitchToRamfs: boolean;
  /** Overrides CAPTURE_MEMORY_MODEL.userspaceBytes for the environment. */
  readonly userspaceBytes?: number;
}

export interface FitCheck {
  readonly neededBytes: number;
  readonly availableBytes: number;
  readonly fits: boolean;
}

export interface FitReport {
  readonly fits: boolean;
  readonly reservation: { readonly mainBytes: number; readonly totalBytes: number };
  /** The rootfs the initramfs unpacks into, after the choice below. */
  readonly rootfs: 'tmpfs' | 'ramfs';
  /** tmpfs would be too small, so the capture command line gets rootfstype=ramfs. */
  readonly switchToRamfs: boolean;
  /** Half the memory when the rootfs is mounted: what a tmpfs rootfs may hold. */
  readonly tmpfsCapBytes: number;
  /** kexec_file_load: the segments in the crashkernel region. */
  readonly load: FitCheck;
  /** The capture boot while the initrd unpacks: the file and its contents both in memory. */
  readonly unpack: FitCheck;
  /** The capture userspace at work, after the initrd file is freed. */
  readonly run: FitCheck & { readonly freeBytes: number };
  readonly parts: {
    readonly kernelLoadBytes: number;
    readonly kernelResidentBytes: number;
    readonly kernelResidentSource: string;
    readonly memmapBytes: number;
    readonly kernelRuntimeBytes: number;
    readonly initrdFileBytes: number;
    readonly initrdUnpackedBytes: number;
    /** false: the initrd unpacks to more than initrdUnpackedBytes (counting stopped there). */
    readonly initrdUnpackedComplete: boolean;
    readonly userspaceBytes: number;
  };
  /** Each failed check in plain words, with the sizes. */
  readonly problems: readonly string[];
  /** The smallest crashkernel= size (a multiple of 32M) with which every check passes. */
  readonly suggestedCrashkernel: string | undefined;
}

const SUGGESTION_STEP_BYTES = 32 * MIB;
const SUGGESTION_MAX_BYTES = 64 * GIB;

export function assessFit(input: FitInput): FitReport {
  const report = evaluate(input);
  return { ...report, suggestedCrashkernel: report.fits ? undefined : suggest(input) };
}

function evaluate(input: FitInput): Omit<FitReport, 'suggestedCrashkernel'> {
  const model = CAPTURE_MEMORY_MODEL;
  const { mainBytes, totalBytes } = input.reservation;
  const initrdFileBytes = input.initrd?.fileBytes ?? 0;
  const unpackedBytes = input.initrd?.unpackedBytes ?? 0;
  const memmapBytes = Math.ceil(totalBytes * model.memmapBytesPerByte);
  const userspaceBytes = input.userspaceBytes ?? model.userspaceBytes[input.environment];
  const resident = input.kernel.residentBytes;

  const loadNeeded = roundUp(input.kernel.loadBytes, input.kernel.alignmentBytes) + roundUp(initrdFileBytes, 4096) + model.loadExtraBytes;
  const load = { neededBytes: loadNeeded, availableBytes: mainBytes, fits: loadNeeded <= mainBytes };

  // Memory counted when the rootfs is mounted (start_kernel -> vfs_caches_init), before the
  // initrd is unpacked and freed: its file is still reserved then.
  const countedAtMount = Math.max(0, totalBytes - resident - memmapBytes - model.earlyReservedBytes - initrdFileBytes);
  const tmpfsCapBytes = Math.floor(countedAtMount / 2 / 4096) * 4096;
  const tmpfsTooSmall = unpackedBytes > tmpfsCapBytes || (input.initrd !== undefined && input.initrd.entries > tmpfsCapBytes / 4096);
  const switchToRamfs = input.rootfsTmpfs && tmpfsTooSmall && input.canSwitchToRamfs;
  const rootfs = input.rootfsTmpfs && !switchToRamfs ? 'tmpfs' : 'ramfs';

  const overhead = resident + memmapBytes + model.kernelRuntimeBytes;
  const unpackNeeded = overhead + initrdFileBytes + unpackedBytes;
  const unpack = { neededBytes: unpackNeeded, availableBytes: totalBytes, fits: unpackNeeded <= totalBytes && (rootfs === 'ramfs' || !tmpfsTooSmall) };
  const runNeeded = overhead + unpackedBytes + userspaceBytes;
  const run = { neededBytes: runNeeded, availableBytes: totalBytes, fits: runNeeded <= totalBytes, freeBytes: Math.max(0, totalBytes - overhead - unpackedBytes) };

  const reservationText = `the reservation (${formatSize(totalBytes)}${mainBytes !== totalBytes ? `, ${formatSize(mainBytes)} of it in the crashkernel region` : ''})`;
  const unpackedText = `${input.initrd?.complete === false ? 'more than ' : ''}${formatSize(unpackedBytes)}`;
  const problems: string[] = [];
  if (!load.fits) {
    problems.push(
      `the kernel (${formatSize(input.kernel.loadBytes)} as loaded) and the initrd file (${formatSize(initrdFileBytes)}) need ${formatSize(loadNeeded)} in the crashkernel region, which has ${formatSize(mainBytes)}`,
    );
  }
  if (rootfs === 'tmpfs' && tmpfsTooSmall) {
    problems.push(
      `the initrd unpacks to ${unpackedText} (${input.initrd?.entries ?? 0} entries), but a tmpfs rootfs may hold only half the capture memory: ${formatSize(tmpfsCapBytes)} ("Initramfs unpacking failed: write error")`,
    );
  }
  if (unpackNeeded > totalBytes) {
    problems.push(
      `while it unpacks, the capture kernel needs ${formatSize(unpackNeeded)} (kernel ${formatSize(resident)}, memmap ${formatSize(memmapBytes)}, its working memory ${formatSize(model.kernelRuntimeBytes)}, the initrd file ${formatSize(initrdFileBytes)} and its contents ${unpackedText}), more than ${reservationText}`,
    );
  }
  if (!run.fits && unpackNeeded <= totalBytes) {
    problems.push(
      `after unpacking, ${formatSize(run.freeBytes)} would be left for the capture userspace, which needs about ${formatSize(userspaceBytes)}`,
    );
  }
  return {
    fits: problems.length === 0,
    reservation: input.reservation,
    rootfs,
    switchToRamfs,
    tmpfsCapBytes,
    load,
    unpack,
    run,
    parts: {
      kernelLoadBytes: input.kernel.loadBytes,
      kernelResidentBytes: resident,
      kernelResidentSource: input.kernel.residentSource,
      memmapBytes,
      kernelRuntimeBytes: model.kernelRuntimeBytes,
      initrdFileBytes,
      initrdUnpackedBytes: unpackedBytes,
      initrdUnpackedComplete: input.initrd?.complete ?? true,
      userspaceBytes,
    },
    problems,
  };
}

/** The smallest reservation (32M steps) that passes every check, found by trying: the same rules, no second model. */
function suggest(input: FitInput): string | undefined {
  if (input.initrd?.complete === false) return undefined;
  const low = input.reservation.totalBytes - input.reservation.mainBytes;
  for (let main = roundUp(input.reservation.mainBytes + 1, SUGGESTION_STEP_BYTES); main <= SUGGESTION_MAX_BYTES; main += SUGGESTION_STEP_BYTES) {
    if (evaluate({ ...input, reservation: { mainBytes: main, totalBytes: main + low } }).fits) return `${main / MIB}M`;
  }
  return undefined;
}

/** The refusal for a report that does not fit: what does not fit, by how much, and what to do. */
export function fitError(report: FitReport, context: { parameter: string | undefined; initrdPath: string | undefined }): ValidationError {
  const reserves = `${context.parameter ?? 'the crashkernel= reservation'} reserves ${formatSize(report.reservation.totalBytes)}`;
  const remedies: string[] = [];
  if (context.initrdPath !== undefined) remedies.push('use a smaller initrd (kexec-ts crash initrd builds a small one)');
  if (report.suggestedCrashkernel !== undefined) remedies.push(`boot with crashkernel=${report.suggestedCrashkernel}`);
  else remedies.push('boot with a larger crashkernel=');
  return new ValidationError(ErrorCode.CRASH_RESERVATION_TOO_SMALL, `The capture kernel does not fit: ${reserves}; ${report.problems.join('; ')}.`, {
    ...(context.initrdPath !== undefined ? { path: context.initrdPath } : {}),
    remedy: `${capitalize(remedies.join(', or '))}; kexec-ts crash status shows the sizes.`,
  });
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
