// arm64, on Debian's own arm64 kernel, which is built without CONFIG_KEXEC_FILE: kexec-ts falls
// back to kexec_load with its own purgatory and device tree, says so, and exec boots the second
// kernel with exactly our command line and initrd; --no-kexec-load gets the kernel's ENOSYS,
// explained; under lockdown=integrity the fallback is refused before the syscall. Two boots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { assertGuestCompleted, describeVmRun, hasMarker, requireMarker, type VmRun } from '../vm/harness.js';
import { SECOND_KERNEL_CMDLINE_MARKER, SECOND_KERNEL_UP_MARKER } from '../vm/initramfs.js';
import { STEP_FUNCTION, stepError, stepResult } from '../vm/scenario.js';
import { arm64VmTestOptions, bootArm64Vm } from './harness.js';
import { debianArm64Kernel } from './fixtures.js';
import { GUEST_DEBIAN_IMAGE_PATH, GUEST_SECOND_INITRD_PATH } from './initramfs.js';

/** Quotes and an = inside a value: the line must reach the new kernel byte for byte, through /chosen. */
const SECOND_CMDLINE = 'console=ttyAMA0 panic=-1 quiet kexec_ts.marker=arm64-kexec-load dyndbg="file kexec.c +p"';
/** Boot, node's start-up per command under TCG, the load (decompressing Debian's Image) and the second kernel. */
const BOOT_TIMEOUT_MS = 300_000;

let handoffRun: Promise<VmRun> | undefined;
let lockdownRun: Promise<VmRun> | undefined;

function handoffGuest(): Promise<VmRun> {
  handoffRun ??= bootArm64Vm({
    kernel: 'debian',
    timeoutMs: BOOT_TIMEOUT_MS,
    body: `${STEP_FUNCTION}
echo "KTS-UNAME:$(uname -r)"
step STATUS kexec-ts status
step INSPECT kexec-ts inspect ${GUEST_DEBIAN_IMAGE_PATH}
step NO-FALLBACK kexec-ts load ${GUEST_DEBIAN_IMAGE_PATH} --initrd ${GUEST_SECOND_INITRD_PATH} --append 'console=ttyAMA0' --no-kexec-load
echo "KTS-SYSFS-AFTER-NO-FALLBACK:$(cat /sys/kernel/kexec_loaded)"
step LOAD kexec-ts load ${GUEST_DEBIAN_IMAGE_PATH} --initrd ${GUEST_SECOND_INITRD_PATH} --append '${SECOND_CMDLINE}'
echo "KTS-SYSFS-AFTER-LOAD:$(cat /sys/kernel/kexec_loaded)"
kexec-ts exec --force
echo "KTS-EXEC-RETURNED:$?"
`,
  });
  return handoffRun;
}

function lockdownGuest(): Promise<VmRun> {
  lockdownRun ??= bootArm64Vm({
    kernel: 'debian',
    append: 'lockdown=integrity',
    timeoutMs: BOOT_TIMEOUT_MS,
    body: `${STEP_FUNCTION}
echo "KTS-LOCKDOWN:$(cat /sys/kernel/security/lockdown 2>&1)"
step STATUS kexec-ts status
step LOAD kexec-ts load ${GUEST_DEBIAN_IMAGE_PATH} --initrd ${GUEST_SECOND_INITRD_PATH} --append 'console=ttyAMA0'
step FORCED kexec-ts load ${GUEST_DEBIAN_IMAGE_PATH} --initrd ${GUEST_SECOND_INITRD_PATH} --append 'console=ttyAMA0' --kexec-load
echo "KTS-SYSFS-AFTER-LOAD:$(cat /sys/kernel/kexec_loaded)"
`,
  });
  return lockdownRun;
}

test("arm64, Debian's kernel: status says loads go through kexec_load, as kexec_file_load is not built in", arm64VmTestOptions('debian'), async () => {
  const vm = await handoffGuest();
  const release = debianArm64Kernel()!.kernelRelease;
  assert.equal(requireMarker(vm, 'UNAME'), release);
  const status = stepResult(vm, 'STATUS');
  assert.equal(status.exitCode, ExitCode.OK, JSON.stringify(status.json));
  assert.equal(status.json.status.kernelConfigSource, `/boot/config-${release}`);
  assert.equal(status.json.status.kernelConfig.CONFIG_KEXEC_FILE, 'n', 'Debian builds its arm64 kernels without it');
  assert.equal(status.json.status.canLoad, true, JSON.stringify(status.json.status.blockers));
  const syscall = (status.json.status.checks as Array<Record<string, string>>).find((check) => check.name === 'load syscall');
  assert.equal(syscall?.value, 'kexec_load', JSON.stringify(status.json.status.checks));
  assert.match(syscall?.detail ?? '', /CONFIG_KEXEC_FILE is off/);
});

test("arm64, Debian's kernel: inspect says the image is loadable here, through kexec_load", arm64VmTestOptions('debian'), async () => {
  const inspected = stepResult(await handoffGuest(), 'INSPECT');
  assert.equal(inspected.exitCode, ExitCode.OK, JSON.stringify(inspected.json));
  assert.equal(inspected.json.image.format, 'arm64-image');
  assert.equal(inspected.json.loadable.loadable, true, inspected.json.loadable.because);
  assert.match(inspected.json.loadable.because, /loaded here with kexec_load/);
});

test("arm64, Debian's kernel: with --no-kexec-load the kernel's ENOSYS is explained as the missing CONFIG_KEXEC_FILE", arm64VmTestOptions('debian'), async () => {
  const vm = await handoffGuest();
  const error = stepError(vm, 'NO-FALLBACK', ExitCode.KERNEL_REFUSED);
  assert.equal(error.errnoName, 'ENOSYS');
  assert.equal(error.syscall, 'kexec_file_load');
  assert.equal(error.code, 'KEXEC_FILE_NOT_SUPPORTED');
  assert.match(error.reason, /CONFIG_KEXEC_FILE/);
  assert.equal(requireMarker(vm, 'SYSFS-AFTER-NO-FALLBACK'), '0');
});

test("arm64, Debian's kernel: load falls back to kexec_load and says so; exec boots the second kernel with exactly our command line and initrd", arm64VmTestOptions('debian'), async () => {
  const vm = await handoffGuest();
  const load = stepResult(vm, 'LOAD');
  assert.equal(load.exitCode, ExitCode.OK, JSON.stringify(load.json));
  assert.equal(load.json.syscall, 'kexec_load');
  assert.ok((load.json.notes as string[]).some((note) => /^loaded with kexec_load: the running kernel has no kexec_file_load/.test(note)), JSON.stringify(load.json.notes));
  assert.equal(load.json.cmdline, SECOND_CMDLINE);
  assert.equal(requireMarker(vm, 'SYSFS-AFTER-LOAD'), '1');
  assert.ok(!hasMarker(vm.serial, 'EXEC-RETURNED'), `exec returned: ${describeVmRun(vm)}`);
  // The second initrd's /init printed these: the new kernel found it where /chosen said.
  assert.ok(hasMarker(vm.serial, SECOND_KERNEL_UP_MARKER), describeVmRun(vm));
  assert.equal(requireMarker(vm, SECOND_KERNEL_CMDLINE_MARKER), SECOND_CMDLINE);
  assert.equal(vm.timedOut, false, describeVmRun(vm));
});

test("arm64, Debian's kernel under lockdown=integrity: the kexec_load fallback is refused before the syscall, and explained", arm64VmTestOptions('debian'), async () => {
  const vm = await lockdownGuest();
  assertGuestCompleted(vm);
  assert.match(requireMarker(vm, 'LOCKDOWN'), /\[integrity\]/);
  const status = stepResult(vm, 'STATUS');
  assert.equal(status.json.status.canLoad, false);
  assert.ok((status.json.status.blockers as string[]).some((blocker) => /refused under lockdown \(integrity\)/.test(blocker)), JSON.stringify(status.json.status.blockers));
  for (const step of ['LOAD', 'FORCED']) {
    const error = stepError(vm, step, ExitCode.INPUT_REJECTED);
    assert.equal(error.code, 'KEXEC_LOAD_NOT_ALLOWED');
    assert.match(error.message, /locked down \(integrity\) and refuses kexec_load/);
  }
  assert.equal(requireMarker(vm, 'SYSFS-AFTER-LOAD'), '0');
});
