/**
 * kexec_load's segments for the files load() opened: the kernel and initrd read through their
 * descriptors (the same ones kexec_file_load would get), the machine described as the running
 * kernel sees it, the segments planned by the architecture's planner.
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode, KexecError } from '../../errors.js';
import { KEXEC_ARCH, type KernelArch } from '../../syscall/numbers.js';
import type { HandoffEnvironment } from '../environment.js';
import { readWholeImage, type OpenedImage } from '../open-image.js';
import { planArm64KexecLoad } from './arm64.js';
import type { KexecLoadPlan } from './plan-segments.js';
import { planRiscv64KexecLoad } from './riscv64.js';
import { readMachineDescription } from './machine-description.js';

export interface PreparedKexecLoad {
  readonly plan: KexecLoadPlan;
  readonly flags: number;
  /** Each segment's name and range, for an explanation that names the one refused. */
  readonly described: readonly { name: string; start: bigint; end: bigint }[];
}

/** The planner for each architecture that boots from a device tree handed over by kexec_load. */
const PLANNERS: Partial<Record<KernelArch, typeof planArm64KexecLoad>> = {
  aarch64: planArm64KexecLoad,
  riscv64: planRiscv64KexecLoad,
};

/** `arch`: the running kernel's, as the facts the syscall was chosen by say it. */
export function kexecLoadSegments(env: HandoffEnvironment, arch: string, files: { kernel: OpenedImage; initrd?: OpenedImage; cmdline: string }): PreparedKexecLoad {
  const planner = PLANNERS[arch as KernelArch];
  if (planner === undefined) {
    throw new KexecError(ErrorCode.KEXEC_LOAD_NOT_ALLOWED, `kexec-ts builds kexec_load segments for arm64 and riscv64, not ${arch}.`, { remedy: 'Use a kernel with kexec_file_load on this architecture.' });
  }
  const machine = (env.readMachineDescription ?? (() => readMachineDescription()))();
  if (machine.firmwareFdt === undefined) {
    throw new KexecError(ErrorCode.MACHINE_DESCRIPTION_UNREADABLE, `kexec_load on ${arch} hands the new kernel a device tree, and this machine has none at /sys/firmware/fdt (booted through ACPI without one?).`, {
      remedy: 'Boot with a device tree, or a kernel with kexec_file_load.',
    });
  }
  const plan = planner({
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
    flags: KEXEC_ARCH[arch as KernelArch],
    described: plan.placements.map((placement) => ({ name: placement.name, start: placement.range.start, end: placement.range.end })),
  };
}
