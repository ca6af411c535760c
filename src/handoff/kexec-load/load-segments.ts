/**
 * kexec_load's segments for the files load() opened: the kernel and initrd read through their
 * descriptors (the same ones kexec_file_load would get), the machine described as the running
 * kernel sees it, the segments planned by the architecture's planner.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, KexecError } from '../../errors.js';
import { KEXEC_ARCH, kernelArchOf } from '../../syscall/numbers.js';
import type { HandoffEnvironment } from '../environment.js';
import { readWholeImage, type OpenedImage } from '../open-image.js';
import { planArm64KexecLoad, type KexecLoadPlan } from './arm64.js';
import { readMachineDescription } from './machine-description.js';

export interface PreparedKexecLoad {
  readonly plan: KexecLoadPlan;
  readonly flags: number;
  /** Each segment's name and range, for an explanation that names the one refused. */
  readonly described: readonly { name: string; start: bigint; end: bigint }[];
}

export function kexecLoadSegments(env: HandoffEnvironment, files: { kernel: OpenedImage; initrd?: OpenedImage; cmdline: string }): PreparedKexecLoad {
  const arch = kernelArchOf(process.arch);
  const machine = (env.readMachineDescription ?? (() => readMachineDescription()))();
  if (machine.firmwareFdt === undefined) {
    throw new KexecError(ErrorCode.MACHINE_DESCRIPTION_UNREADABLE, 'kexec_load on arm64 hands the new kernel a device tree, and this machine has none at /sys/firmware/fdt (booted through ACPI without one?).', {
      remedy: 'Boot with a device tree, or a kernel with kexec_file_load.',
    });
  }
  const plan = planArm64KexecLoad({
    kernel: readWholeImage(files.kernel),
    ...(files.initrd !== undefined ? { initrd: readWholeImage(files.initrd) } : {}),
    cmdline: files.cmdline,
    firmwareFdt: machine.firmwareFdt,
    ram: machine.ram,
    pageBytes: machine.pageBytes,
    randomBytes: (count) => new Uint8Array(randomBytes(count)),
  });
  return {
    plan,
    flags: KEXEC_ARCH[arch ?? 'aarch64'],
    described: plan.placements.map((placement) => ({ name: placement.name, start: placement.range.start, end: placement.range.end })),
  };
}
