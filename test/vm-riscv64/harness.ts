// Boots the riscv64 test guest: qemu-system-riscv64 -M virt under TCG, OpenSBI as its firmware
// (-bios default: qemu's opensbi-riscv64-generic-fw_dynamic.bin), Debian 13's own riscv64
// kernel (built without kexec_file_load). Same contract as test/vm: the guest prints
// KTS-GUEST-READY, runs the scenario body, prints markers, and QEMU is always bounded by a
// timeout and killed with this process; the marker helpers are test/vm's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findOnPath, runQemu, vmTestOptionsFor, type VmRun } from '../vm/harness.js';
import { writeScenarioInitramfs, type GuestFile } from '../vm/initramfs.js';
import { riscv64Fixture } from './fixtures.js';
import { ensureRiscv64BaseInitramfs } from './initramfs.js';

const QEMU_BINARY = 'qemu-system-riscv64';
/** One hart: under TCG a second one only slows the guest down. */
const MACHINE_ARGS = ['-M', 'virt', '-smp', '1', '-accel', 'tcg', '-bios', 'default'];
/** As test/vm's, on virt's NS16550 UART. */
const BASE_KERNEL_CMDLINE = 'console=ttyS0 panic=-1 quiet';
/** Node's binary and libnode unpack into the initramfs's tmpfs, which may use half of RAM. */
const DEFAULT_MEMORY_MIB = 2048;

export interface BootRiscv64VmOptions {
  /** Shell text the guest's /init runs after printing KTS-GUEST-READY. */
  body: string;
  append?: string;
  /** QEMU is killed (SIGKILL) this long after it starts. */
  timeoutMs: number;
  extraFiles?: GuestFile[];
}

/** Why the riscv64 VM tests cannot run here, or undefined when they can. */
export function riscv64VmSkipReason(): string | undefined {
  const missing: string[] = [];
  if (!findOnPath(QEMU_BINARY)) missing.push(`${QEMU_BINARY} (Debian package qemu-system-misc)`);
  if (!riscv64Fixture()) missing.push("Debian 13's riscv64 kernel and userland (scripts/fixtures/riscv64-guest.mjs)");
  return missing.length > 0 ? `riscv64 VM tests need ${missing.join('; ')} (run: node scripts/prepare-tests.mjs)` : undefined;
}

export function riscv64VmTestOptions(): { skip?: string } {
  return vmTestOptionsFor(riscv64VmSkipReason());
}

export async function bootRiscv64Vm(options: BootRiscv64VmOptions): Promise<VmRun> {
  const reason = riscv64VmSkipReason();
  const fixture = riscv64Fixture();
  if (reason || !fixture) throw new Error(`cannot boot the riscv64 test VM: ${reason}`);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexec-ts-vm-riscv64-'));
  try {
    const initrdPath = path.join(workDir, 'initramfs.cpio');
    writeScenarioInitramfs(initrdPath, { body: options.body, extraFiles: options.extraFiles ?? [] }, ensureRiscv64BaseInitramfs(fixture));
    const qemuArgs = [
      ...MACHINE_ARGS,
      '-m', String(DEFAULT_MEMORY_MIB),
      '-nographic',
      '-no-reboot',
      '-nic', 'none',
      '-kernel', fixture.vmlinuzPath,
      '-initrd', initrdPath,
      '-append', options.append ? `${BASE_KERNEL_CMDLINE} ${options.append}` : BASE_KERNEL_CMDLINE,
    ];
    return await runQemu(qemuArgs, options.timeoutMs, QEMU_BINARY);
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}
