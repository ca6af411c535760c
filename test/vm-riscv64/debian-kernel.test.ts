// riscv64, on Debian 13's own riscv64 kernel (6.12, built without CONFIG_KEXEC_FILE), booted by
// OpenSBI in qemu's virt machine: kexec-ts falls back to kexec_load with no purgatory (the
// kernel's relocation code enters the Image with a0 = hart id, a1 = our device tree), says so,
// and exec boots the second kernel (the same Debian kernel) with exactly our command line and
// initrd. One boot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { describeVmRun, hasMarker, requireMarker, type VmRun } from '../vm/harness.js';
import { SECOND_KERNEL_CMDLINE_MARKER, SECOND_KERNEL_UP_MARKER } from '../vm/initramfs.js';
import { STEP_FUNCTION, stepResult } from '../vm/scenario.js';
import { bootRiscv64Vm, riscv64VmTestOptions } from './harness.js';
import { riscv64Fixture } from './fixtures.js';
import { GUEST_IMAGE_PATH, GUEST_SECOND_INITRD_PATH } from './initramfs.js';

/** Quotes and an = inside a value: the line must reach the new kernel byte for byte, through /chosen. */
const SECOND_CMDLINE = 'console=ttyS0 panic=-1 quiet kexec_ts.marker=riscv64-kexec-load dyndbg="file machine_kexec.c +p"';
/** Boot, node's start-up per command under TCG, the load (a 31 MB Image read whole) and the second kernel. */
const BOOT_TIMEOUT_MS = 480_000;

let run: Promise<VmRun> | undefined;

function handoffGuest(): Promise<VmRun> {
  run ??= bootRiscv64Vm({
    timeoutMs: BOOT_TIMEOUT_MS,
    body: `${STEP_FUNCTION}
echo "KTS-UNAME:$(uname -r)"
step STATUS kexec-ts status
step INSPECT kexec-ts inspect ${GUEST_IMAGE_PATH}
step LOAD kexec-ts load ${GUEST_IMAGE_PATH} --initrd ${GUEST_SECOND_INITRD_PATH} --append '${SECOND_CMDLINE}'
echo "KTS-SYSFS-AFTER-LOAD:$(cat /sys/kernel/kexec_loaded)"
# machine_kexec()'s notices ("Will call new kernel at", "FDT image at") get past quiet.
echo 8 > /proc/sys/kernel/printk
kexec-ts exec --force
echo "KTS-EXEC-RETURNED:$?"
`,
  });
  return run;
}

test("riscv64, Debian 13's kernel: status says loads go through kexec_load, as kexec_file_load is not built in", riscv64VmTestOptions(), async () => {
  const vm = await handoffGuest();
  const release = riscv64Fixture()!.kernelRelease;
  assert.equal(requireMarker(vm, 'UNAME'), release);
  const status = stepResult(vm, 'STATUS');
  assert.equal(status.exitCode, ExitCode.OK, JSON.stringify(status.json));
  assert.equal(status.json.status.kernelConfigSource, `/boot/config-${release}`);
  assert.equal(status.json.status.kernelConfig.CONFIG_KEXEC_FILE, 'n', 'Debian builds its riscv64 kernels without it');
  assert.equal(status.json.status.canLoad, true, JSON.stringify(status.json.status.blockers));
  const syscall = (status.json.status.checks as Array<Record<string, string>>).find((check) => check.name === 'load syscall');
  assert.equal(syscall?.value, 'kexec_load', JSON.stringify(status.json.status.checks));
});

test("riscv64, Debian 13's kernel: inspect says Debian's Image is loadable here, through kexec_load", riscv64VmTestOptions(), async () => {
  const inspected = stepResult(await handoffGuest(), 'INSPECT');
  assert.equal(inspected.exitCode, ExitCode.OK, JSON.stringify(inspected.json));
  assert.equal(inspected.json.image.format, 'riscv-image');
  assert.equal(inspected.json.loadable.loadable, true, inspected.json.loadable.because);
  assert.match(inspected.json.loadable.because, /loaded here with kexec_load/);
});

test("riscv64, Debian 13's kernel: load falls back to kexec_load and says so; exec boots the second kernel with exactly our command line and initrd", riscv64VmTestOptions(), async () => {
  const vm = await handoffGuest();
  const load = stepResult(vm, 'LOAD');
  assert.equal(load.exitCode, ExitCode.OK, JSON.stringify(load.json));
  assert.equal(load.json.syscall, 'kexec_load');
  assert.ok((load.json.notes as string[]).some((note) => /^loaded with kexec_load: the running kernel has no kexec_file_load/.test(note)), JSON.stringify(load.json.notes));
  assert.equal(load.json.cmdline, SECOND_CMDLINE);
  // The kernel logged where it would enter the Image and which tree it found (machine_kexec()).
  const entry = /Will call new kernel at ([0-9a-f]+) from hart id 0/.exec(vm.serial)?.[1];
  assert.ok(entry !== undefined, describeVmRun(vm));
  assert.equal(BigInt(`0x${entry}`) % (2n << 20n), 0n, 'the entry is the Image itself, on a PMD boundary: no purgatory');
  assert.match(vm.serial, /FDT image at [0-9a-f]+/);
  assert.equal(requireMarker(vm, 'SYSFS-AFTER-LOAD'), '1');
  assert.ok(!hasMarker(vm.serial, 'EXEC-RETURNED'), `exec returned: ${describeVmRun(vm)}`);
  // The second initrd's /init printed these: the new kernel found it where /chosen said.
  assert.ok(hasMarker(vm.serial, SECOND_KERNEL_UP_MARKER), describeVmRun(vm));
  assert.equal(requireMarker(vm, SECOND_KERNEL_CMDLINE_MARKER), SECOND_CMDLINE);
  assert.equal(vm.timedOut, false, describeVmRun(vm));
});
