import { UsageError } from '../../errors.js';
import type { CaptureKernelPlan } from '../../crash/arm/plan.js';
import type { FitReport } from '../../crash/arm/fit.js';
import type { CrashReservation } from '../../crash/arm/reservation.js';
import { formatSize, parseMemSize } from '../../crash/arm/memory-size.js';

/** What crash load and crash status print about a plan: text for people, a documented shape for --json. */

export function reservationJson(reservation: CrashReservation): Record<string, unknown> {
  return {
    sysfsBytes: reservation.sysfsBytes,
    ranges: reservation.ranges?.map((range) => ({ start: hex(range.startAddress), end: hex(range.endAddress), sizeBytes: range.sizeBytes })),
    iomemAddressesHidden: reservation.iomemAddressesHidden,
    mainBytes: reservation.mainBytes,
    totalBytes: reservation.totalBytes,
    parameter: reservation.parameter,
    requestedBytes: reservation.request?.sizeBytes,
    requestedLowBytes: reservation.request?.lowSizeBytes,
    requestedOffset: reservation.request?.offsetBytes === undefined ? undefined : hex(reservation.request.offsetBytes),
    systemRamBytes: reservation.systemRamBytes,
    notes: reservation.notes,
  };
}

export function planJson(plan: CaptureKernelPlan): Record<string, unknown> {
  return {
    kernel: { path: plan.kernel.path, sizeBytes: plan.kernel.sizeBytes, footprint: plan.kernel.footprint },
    initrds: plan.initrds.map((part) => ({ path: part.path, ...part.measurement })),
    environment: plan.environment,
    environmentReason: plan.environmentReason,
    cmdline: plan.cmdline.cmdline,
    removed: plan.cmdline.removed,
    added: plan.cmdline.added,
    fit: plan.fit,
    notes: plan.notes,
  };
}

function hex(value: bigint): string {
  return `0x${value.toString(16)}`;
}

export function formatReservation(reservation: CrashReservation): string[] {
  const size = reservation.totalBytes === undefined ? 'unknown' : reservation.totalBytes === 0 ? 'none' : formatSize(reservation.totalBytes);
  const lines = [`reservation   ${size}${reservation.parameter !== undefined ? ` (${reservation.parameter})` : ''}`];
  if (reservation.ranges !== undefined && reservation.ranges.length > 0) {
    lines.push(`              ${reservation.ranges.map((range) => `${hex(range.startAddress)}-${hex(range.endAddress)} (${formatSize(range.sizeBytes)})`).join(', ')} in /proc/iomem`);
  }
  return lines;
}

export function formatFit(fit: FitReport): string[] {
  const check = (fits: boolean) => (fits ? 'ok' : 'DOES NOT FIT');
  const parts = fit.parts;
  const lines = [
    `fit           ${fit.fits ? `yes: ${formatSize(Math.max(0, fit.run.availableBytes - fit.run.neededBytes))} to spare at work` : 'NO'}`,
    `  loading     ${formatSize(fit.load.neededBytes)} of ${formatSize(fit.load.availableBytes)}: ${check(fit.load.fits)}`,
    `  unpacking   ${formatSize(fit.unpack.neededBytes)} of ${formatSize(fit.unpack.availableBytes)}: ${check(fit.unpack.fits)} (kernel ${formatSize(parts.kernelResidentBytes)} by ${parts.kernelResidentSource}, memmap ${formatSize(parts.memmapBytes)}, kernel working memory ${formatSize(parts.kernelRuntimeBytes)}, initrd file ${formatSize(parts.initrdFileBytes)}, unpacked ${parts.initrdUnpackedComplete ? '' : 'more than '}${formatSize(parts.initrdUnpackedBytes)})`,
    `  at work     ${formatSize(fit.run.neededBytes)} of ${formatSize(fit.run.availableBytes)}: ${check(fit.run.fits)} (the capture userspace needs about ${formatSize(parts.userspaceBytes)}; ${formatSize(fit.run.freeBytes)} free after unpacking)`,
    `  rootfs      ${fit.rootfs}${fit.switchToRamfs ? ` (rootfstype=ramfs added: a tmpfs rootfs may hold only ${formatSize(fit.tmpfsCapBytes)})` : fit.rootfs === 'tmpfs' ? ` (may hold ${formatSize(fit.tmpfsCapBytes)})` : ''}`,
  ];
  for (const problem of fit.problems) lines.push(`  problem     ${problem}`);
  if (fit.suggestedCrashkernel !== undefined) lines.push(`  would fit   with crashkernel=${fit.suggestedCrashkernel}`);
  return lines;
}

export function formatPlan(plan: CaptureKernelPlan, options: { verbose: boolean }): string[] {
  const footprint = plan.kernel.footprint;
  const lines = [
    `kernel        ${plan.kernel.path}${footprint !== undefined ? ` (${formatSize(footprint.loadBytes)} when loaded)` : ''}`,
    ...plan.initrds.map(
      (part) =>
        `initrd        ${part.path} (${formatSize(part.measurement.fileBytes)}, unpacks to ${part.measurement.complete ? '' : 'more than '}${formatSize(part.measurement.unpackedBytes)} in ${part.measurement.entries} entries)`,
    ),
    ...(plan.initrds.length === 0 ? ['initrd        none'] : []),
    `environment   ${plan.environment}: ${plan.environmentReason}`,
    `command line  ${plan.cmdline.cmdline}`,
  ];
  if (options.verbose) {
    for (const change of plan.cmdline.removed) lines.push(`  removed     ${change.parameter}: ${change.why}`);
    for (const change of plan.cmdline.added) lines.push(`  added       ${change.parameter}: ${change.why}`);
  }
  if (plan.fit !== undefined) lines.push(...formatFit(plan.fit));
  for (const note of plan.notes) lines.push(`note          ${note}`);
  return lines;
}

/** A size option: "64M", "1G", "1048576" (the kernel's memparse rules). */
export function parseSizeOption(name: string, text: string): number {
  const parsed = parseMemSize(text);
  if (parsed.length !== text.length || parsed.length === 0) throw new UsageError(`--${name} takes a size such as 64M or 1G, not '${text}'.`);
  return Number(parsed.bytes);
}
