import { ParseError } from '../../errors.js';
import { requestedCrashkernel, type CrashkernelRequest } from './crashkernel.js';
import { crashKernelRanges, parseIomem, runningKernelImageBytes, sizeOf, systemRamBytes, type Iomem } from './iomem.js';
import { formatSize } from './memory-size.js';

/**
 * The crashkernel= reservation as this machine reports it, from three places that should agree:
 * /sys/kernel/kexec_crash_size (the main region, crashk_res), the "Crash kernel" ranges of
 * /proc/iomem (the main one and, beside a ,high reservation, the low one), and the crashkernel=
 * parameter on /proc/cmdline (what was asked for; the kernel may have failed to find room).
 */
export interface CrashReservation {
  /** /sys/kernel/kexec_crash_size; undefined when unreadable (no CONFIG_CRASH_DUMP, or no sysfs). */
  readonly sysfsBytes: number | undefined;
  /** The "Crash kernel" ranges; undefined when /proc/iomem was unreadable or its addresses hidden (not root). */
  readonly ranges: readonly { readonly startAddress: bigint; readonly endAddress: bigint; readonly sizeBytes: number }[] | undefined;
  readonly iomemAddressesHidden: boolean;
  /** The region kexec places the capture kernel in. */
  readonly mainBytes: number | undefined;
  /** All the memory the capture kernel runs in. */
  readonly totalBytes: number | undefined;
  /** The crashkernel= parameter the kernel used, as written on /proc/cmdline. */
  readonly parameter: string | undefined;
  /** What it asks of this machine; undefined without one, or when it is invalid (see parameterError). */
  readonly request: CrashkernelRequest | undefined;
  readonly parameterError: string | undefined;
  /** RAM as the kernel counts it for crashkernel= ranges (System RAM in /proc/iomem). */
  readonly systemRamBytes: number | undefined;
  /** The running kernel's resident image (/proc/iomem), for a capture kernel that is the same kernel. */
  readonly runningKernelImageBytes: number | undefined;
  /** Disagreements and explanations, for people. */
  readonly notes: readonly string[];
}

export interface ReservationSources {
  readonly procCmdline: string | undefined;
  readonly kexecCrashSize: string | undefined;
  readonly procIomem: string | undefined;
}

/** Weighs the three sources; pure. */
export function assessReservation(sources: ReservationSources): CrashReservation {
  const notes: string[] = [];
  const sysfsBytes = parseCount(sources.kexecCrashSize);
  let iomem: Iomem | undefined;
  if (sources.procIomem !== undefined) {
    try {
      iomem = parseIomem(sources.procIomem);
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      notes.push(`/proc/iomem could not be read: ${error.message}`);
    }
  }
  const hidden = iomem?.addressesHidden === true;
  if (hidden) notes.push('/proc/iomem shows no addresses to this user (run as root for the ranges and the RAM size)');
  const ranges = iomem === undefined || hidden ? undefined : crashKernelRanges(iomem).map((range) => ({ startAddress: range.startAddress, endAddress: range.endAddress, sizeBytes: Number(sizeOf(range)) }));
  const ramBytes = iomem === undefined ? undefined : systemRamBytes(iomem);

  let request: CrashkernelRequest | undefined;
  let parameterError: string | undefined;
  try {
    request = sources.procCmdline === undefined ? undefined : requestedCrashkernel(sources.procCmdline, ramBytes);
  } catch (error) {
    if (!(error instanceof ParseError)) throw error;
    parameterError = error.message;
    notes.push(`the kernel could not use the crashkernel= parameter: ${error.message}`);
  }

  const largestRange = ranges === undefined || ranges.length === 0 ? undefined : Math.max(...ranges.map((range) => range.sizeBytes));
  const mainBytes = sysfsBytes ?? (ranges === undefined ? undefined : (largestRange ?? 0));
  const rangesTotal = ranges?.reduce((sum, range) => sum + range.sizeBytes, 0);
  const totalBytes = rangesTotal !== undefined ? Math.max(rangesTotal, mainBytes ?? 0) : mainBytes;

  if (sysfsBytes !== undefined && largestRange !== undefined && !ranges!.some((range) => range.sizeBytes === sysfsBytes)) {
    notes.push(`/sys/kernel/kexec_crash_size says ${formatSize(sysfsBytes)}, but no "Crash kernel" range in /proc/iomem has that size`);
  }
  if (request !== undefined && mainBytes !== undefined) {
    const asked = Number(request.sizeBytes);
    if (asked === 0) {
      notes.push(`${request.parameter} asks for nothing on a machine with ${request.comparedRamBytes !== undefined ? formatSize(Number(request.comparedRamBytes)) : 'this much'} of RAM: no range matches`);
    } else if (mainBytes === 0) {
      notes.push(`${request.parameter} asked for ${formatSize(asked)}, but nothing is reserved: the kernel found no room at boot (its log says "crashkernel reservation failed")`);
    } else if (mainBytes < asked) {
      // kexec_crash_size shrinks when someone writes a smaller size to it (crash_shrink_memory()).
      notes.push(`${request.parameter} asked for ${formatSize(asked)}; ${formatSize(mainBytes)} remain reserved (shrunk through /sys/kernel/kexec_crash_size)`);
    }
  }
  if (request === undefined && parameterError === undefined && (mainBytes ?? 0) === 0 && sources.procCmdline !== undefined) {
    notes.push('this kernel was booted without crashkernel=: no memory is reserved for a capture kernel');
  }
  const imageBytes = iomem === undefined ? undefined : runningKernelImageBytes(iomem);
  return {
    sysfsBytes,
    ranges,
    iomemAddressesHidden: hidden,
    mainBytes,
    totalBytes,
    parameter: request?.parameter ?? (parameterError !== undefined ? sources.procCmdline?.split(/\s+/).filter((word) => word.startsWith('crashkernel=')).at(-1) : undefined),
    request,
    parameterError,
    systemRamBytes: ramBytes === undefined ? undefined : Number(ramBytes),
    runningKernelImageBytes: imageBytes === undefined ? undefined : Number(imageBytes),
    notes,
  };
}

function parseCount(text: string | undefined): number | undefined {
  const trimmed = text?.trim();
  return trimmed !== undefined && /^\d+$/.test(trimmed) ? Number(trimmed) : undefined;
}
