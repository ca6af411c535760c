import { existsSync, readFileSync } from 'node:fs';
import { readFully } from '../../read-fully.js';
import { join } from 'node:path';
import { ErrorCode, ParseError, UnsupportedError, ValidationError } from '../../errors.js';
import type { ProgressListener } from '../../image/codecs/index.js';
import { closeImage, openImage, readWholeImage, type OpenedImage } from '../../handoff/open-image.js';
import { planKernel } from '../../handoff/plan-kernel.js';
import { preflightKernel } from '../../handoff/preflight.js';
import { LIMITS } from '../../limits.js';
import { kernelArchOf } from '../../syscall/numbers.js';
import { buildCaptureCmdline, CRASH_SAVE_UNIT, rootfsIsTmpfs, type CaptureCmdline, type CaptureEnvironment } from './capture-cmdline.js';
import { CAPTURE_CONFIG_PATH } from './capture-initrd/layout.js';
import { assessFit, type FitReport } from './fit.js';
import { measureInitrd, type InitrdMeasurement, type InitrdReader } from './initrd-measure.js';
import { kernelFootprint, type KernelFootprint } from './kernel-footprint.js';
import { assessReservation, type CrashReservation } from './reservation.js';

/**
 * Everything `crash load` decides before the syscall, gathered from the machine: the capture
 * kernel and initrd (this kernel's own by default, as kdump-tools does), the reservation, the
 * capture command line, and whether it all fits. The I/O edge of src/crash/arm: the rules are
 * in the pure modules beside it.
 */
export interface CaptureKernelOptions {
  /** Default: /boot/vmlinuz-RELEASE of the running kernel. */
  readonly kernel?: string;
  /** Default: the running kernel's initrd in /boot (Debian's initrd.img-RELEASE, Fedora's
   * initramfs-RELEASE.img); [] for none. */
  readonly initrd?: string | readonly string[];
  /** Default: 'capture-initrd' when the initrd was built by `kexec-ts crash initrd`, else 'system'. */
  readonly environment?: CaptureEnvironment;
  /** The whole command line, used as it is: none of the rules below apply. */
  readonly cmdline?: string;
  /** The line the rules start from; default /proc/cmdline. */
  readonly cmdlineBase?: string;
  readonly cmdlineAppend?: string;
  readonly cmdlineRemove?: readonly string[];
  /** false: no default parameters, only cmdlineAppend. */
  readonly cmdlineDefaults?: boolean;
  /** What the capture userspace needs beyond its rootfs (default: CAPTURE_MEMORY_MODEL). */
  readonly userspaceBytes?: number;
  /** Filesystem root the machine's facts are read under ('/' on a real machine). */
  readonly root?: string;
  /** The architecture the capture kernel is for (default: this process's). */
  readonly arch?: string;
  readonly onProgress?: ProgressListener;
}

export interface CaptureKernelPlan {
  readonly kernel: { readonly path: string; readonly sizeBytes: number; readonly footprint: KernelFootprint | undefined };
  /** The initrd files given (or found in /boot), in order: what crash load passes on. */
  readonly initrdFiles: readonly string[];
  /** Every initrd part measured: a UKI's own .initrd first, then the files. */
  readonly initrds: readonly { readonly path: string; readonly measurement: InitrdMeasurement }[];
  /** All initrds together, as the kernel unpacks them one after the other. */
  readonly initrd: InitrdMeasurement | undefined;
  readonly environment: CaptureEnvironment;
  readonly environmentReason: string;
  readonly cmdline: CaptureCmdline;
  readonly reservation: CrashReservation;
  /** undefined when the reservation's size could not be read here. */
  readonly fit: FitReport | undefined;
  readonly notes: readonly string[];
}

/** Where systemd finds units (systemd.unit(5), "System Unit Search Path"). */
const SAVE_UNIT_DIRS = ['etc/systemd/system', 'usr/local/lib/systemd/system', 'usr/lib/systemd/system', 'lib/systemd/system'];

export async function planCaptureKernel(options: CaptureKernelOptions = {}): Promise<CaptureKernelPlan> {
  const root = options.root ?? '/';
  const arch = kernelArchOf(options.arch ?? process.arch);
  if (arch === undefined) {
    throw new UnsupportedError(`kexec-ts has no capture-kernel rules for ${options.arch ?? process.arch}.`, { platform: process.platform, arch: options.arch ?? process.arch });
  }
  const notes: string[] = [];
  const read = (path: string) => readProcFile(join(root, path));
  const procCmdline = read('proc/cmdline')?.trim();
  const reservation = assessReservation({ procCmdline, kexecCrashSize: read('sys/kernel/kexec_crash_size'), procIomem: read('proc/iomem') });
  const release = read('proc/sys/kernel/osrelease')?.trim();

  const kernelPath = options.kernel ?? defaultKernelPath(root, release);
  const initrdPaths = options.initrd === undefined ? defaultInitrdPaths(root, release) : typeof options.initrd === 'string' ? [options.initrd] : [...options.initrd];

  const kernelFile = openImage(kernelPath, 'kernel');
  let footprint: KernelFootprint | undefined;
  const initrdParts: { path: string; measurement: InitrdMeasurement }[] = [];
  try {
    const plan = await planKernel(readWholeImage(kernelFile), kernelPath, { ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}) });
    preflightKernel(plan.image, arch, '', kernelPath);
    if (plan.image instanceof ParseError) throw plan.image;
    footprint = kernelFootprint(plan.image, release !== undefined && reservation.runningKernelImageBytes !== undefined ? { release, imageBytes: reservation.runningKernelImageBytes } : undefined);
    const stopAfterBytes = reservation.totalBytes !== undefined && reservation.totalBytes > 0 ? reservation.totalBytes : undefined;
    const measureOptions = { ...(stopAfterBytes !== undefined ? { stopAfterBytes } : {}), lookFor: [CAPTURE_CONFIG_PATH, 'init'] };
    for (const part of plan.initrdPrefix) initrdParts.push({ path: part.path, measurement: await measureInitrd(memoryReader(part.bytes), measureOptions) });
    for (const path of initrdPaths) initrdParts.push({ path, measurement: await measureInitrdFile(path, measureOptions) });
  } finally {
    closeImage(kernelFile);
  }

  const initrd = initrdParts.length === 0 ? undefined : combineMeasurements(initrdParts.map((part) => part.measurement));
  const isCaptureInitrd = initrd?.found.includes(CAPTURE_CONFIG_PATH) === true;
  const environment = options.environment ?? (isCaptureInitrd ? 'capture-initrd' : 'system');
  const environmentReason =
    options.environment !== undefined
      ? 'as asked'
      : isCaptureInitrd
        ? `the initrd was built by kexec-ts crash initrd (it has /${CAPTURE_CONFIG_PATH}): its /init saves the dump`
        : 'the initrd is the system\'s own: it mounts the root filesystem, where systemd runs kexec-ts-crash-save.service';

  const build = (rootfsRamfs: boolean): CaptureCmdline =>
    options.cmdline !== undefined
      ? { cmdline: options.cmdline, removed: [], added: [] }
      : buildCaptureCmdline({
          base: options.cmdlineBase ?? procCmdline ?? '',
          arch,
          environment,
          ...(options.cmdlineDefaults !== undefined ? { defaults: options.cmdlineDefaults } : {}),
          ...(options.cmdlineRemove !== undefined ? { remove: options.cmdlineRemove } : {}),
          ...(options.cmdlineAppend !== undefined ? { append: options.cmdlineAppend } : {}),
          rootfsRamfs,
        });
  if (environment === 'system' && options.cmdline === undefined && !SAVE_UNIT_DIRS.some((dir) => existsSync(join(root, dir, CRASH_SAVE_UNIT)))) {
    notes.push(`${CRASH_SAVE_UNIT} is not installed, so the capture boot will not save the dump: copy contrib/systemd/${CRASH_SAVE_UNIT} to /etc/systemd/system (or use an initrd from kexec-ts crash initrd)`);
  }
  let cmdline = build(false);
  let fit: FitReport | undefined;
  if (footprint === undefined) {
    notes.push('the kernel image format gives no size to check against the reservation');
  } else if (reservation.mainBytes === undefined || reservation.totalBytes === undefined) {
    notes.push('the reservation size could not be read here (/sys/kernel/kexec_crash_size), so the fit is not checked');
  } else if (reservation.mainBytes > 0) {
    fit = assessFit({
      reservation: { mainBytes: reservation.mainBytes, totalBytes: reservation.totalBytes },
      kernel: footprint,
      initrd,
      environment,
      rootfsTmpfs: rootfsIsTmpfs(cmdline.cmdline),
      canSwitchToRamfs: options.cmdline === undefined && environment === 'capture-initrd',
      ...(options.userspaceBytes !== undefined ? { userspaceBytes: options.userspaceBytes } : {}),
    });
    if (fit.switchToRamfs) cmdline = build(true);
  }
  return {
    kernel: { path: kernelPath, sizeBytes: kernelFile.sizeBytes, footprint },
    initrdFiles: initrdPaths,
    initrds: initrdParts,
    initrd,
    environment,
    environmentReason,
    cmdline,
    reservation,
    fit,
    notes: [...reservation.notes, ...notes],
  };
}

/** The refusal when there is no reservation at all: the syscall would answer EADDRNOTAVAIL. */
export function noReservationError(reservation: CrashReservation): ValidationError {
  const asked = reservation.request !== undefined && reservation.request.sizeBytes > 0n;
  return new ValidationError(
    ErrorCode.NO_CRASH_RESERVATION,
    asked
      ? `No memory is reserved for a capture kernel: ${reservation.parameter} was asked for, but the kernel found no room at boot.`
      : reservation.parameterError !== undefined
        ? `No memory is reserved for a capture kernel: ${reservation.parameterError}.`
        : 'No memory is reserved for a capture kernel: this kernel was booted without crashkernel=.',
    {
      remedy: asked
        ? 'Boot with a smaller crashkernel= (or crashkernel=SIZE,high on machines with memory above 4 GiB); the kernel log says why it failed ("crashkernel reservation failed").'
        : 'Add crashkernel=256M to the kernel command line (e.g. in GRUB_CMDLINE_LINUX_DEFAULT, then update-grub) and reboot; kexec-ts crash status then shows what fits.',
    },
  );
}

function defaultKernelPath(root: string, release: string | undefined): string {
  const candidates = release === undefined ? [] : [`/boot/vmlinuz-${release}`, `/boot/vmlinux-${release}`, `/boot/Image-${release}`];
  const found = candidates.find((candidate) => existsSync(join(root, candidate)));
  if (found !== undefined) return join(root, found);
  throw new ValidationError(ErrorCode.INPUT_NOT_FOUND, `No kernel image for the running kernel${release !== undefined ? ` (${release})` : ''} in /boot.`, {
    remedy: 'Name the capture kernel: kexec-ts crash load --kernel /boot/vmlinuz-VERSION.',
  });
}

/** The running kernel's initrd, where Debian (initrd.img-R), Fedora (initramfs-R.img) and SUSE (initrd-R) keep it; none if absent. */
function defaultInitrdPaths(root: string, release: string | undefined): string[] {
  if (release === undefined) return [];
  const found = [`/boot/initrd.img-${release}`, `/boot/initramfs-${release}.img`, `/boot/initrd-${release}`].find((candidate) => existsSync(join(root, candidate)));
  return found === undefined ? [] : [join(root, found)];
}

async function measureInitrdFile(path: string, options: Parameters<typeof measureInitrd>[1]): Promise<InitrdMeasurement> {
  const file: OpenedImage = openImage(path, 'initrd');
  try {
    const reader: InitrdReader = {
      sizeBytes: file.sizeBytes,
      read: (offset, length) => readFully(file.fd, length, offset),
    };
    try {
      return await measureInitrd(reader, options);
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      throw new ValidationError(ErrorCode.INITRD_NOT_RECOGNIZED, `The initrd ${path} cannot be unpacked as the kernel would: ${error.message}`, {
        path,
        cause: error,
        remedy: 'Rebuild the initrd (update-initramfs -u, dracut -f, or kexec-ts crash initrd); `cpio -t < FILE` or `lsinitramfs FILE` shows where it breaks.',
      });
    }
  } finally {
    closeImage(file);
  }
}


function memoryReader(bytes: Uint8Array): InitrdReader {
  return { sizeBytes: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

/** Several initrds in a row unpack as one (each starts 4-byte aligned): their counts add up. */
export function combineMeasurements(parts: readonly InitrdMeasurement[]): InitrdMeasurement {
  if (parts.length === 1) return parts[0]!;
  return {
    fileBytes: parts.reduce((sum, part) => sum + part.fileBytes + ((4 - (part.fileBytes % 4)) % 4), 0),
    segments: parts.flatMap((part) => part.segments),
    entries: parts.reduce((sum, part) => sum + part.entries, 0),
    archives: parts.reduce((sum, part) => sum + part.archives, 0),
    fileDataBytes: parts.reduce((sum, part) => sum + part.fileDataBytes, 0),
    unpackedBytes: parts.reduce((sum, part) => sum + part.unpackedBytes, 0),
    complete: parts.every((part) => part.complete),
    found: [...new Set(parts.flatMap((part) => part.found))].sort(),
  };
}

function readProcFile(path: string): string | undefined {
  try {
    const bytes = readFileSync(path);
    return (bytes.length > LIMITS.procFileBytes ? bytes.subarray(0, LIMITS.procFileBytes) : bytes).toString('utf8');
  } catch {
    return undefined;
  }
}
