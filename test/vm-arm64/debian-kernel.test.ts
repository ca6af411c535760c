// arm64, on Debian's own arm64 kernels — 12's 6.1, 13's 6.12 and sid's 7.x, all built without
// CONFIG_KEXEC_FILE: kexec-ts falls back to kexec_load with its own purgatory and device tree,
// says so, and exec boots the second kernel (the same Debian kernel) with exactly our command
// line and initrd; --no-kexec-load gets the kernel's ENOSYS, explained; under lockdown=integrity
// (on 13's kernel) the fallback is refused before the syscall. One boot per kernel, and one more.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { assertGuestCompleted, describeVmRun, hasMarker, requireMarker, type VmRun } from '../vm/harness.js';
import { SECOND_KERNEL_CMDLINE_MARKER, SECOND_KERNEL_UP_MARKER } from '../vm/initramfs.js';
import { STEP_FUNCTION, stepError, stepResult } from '../vm/scenario.js';
import { arm64VmTestOptions, bootArm64Vm, DEFAULT_CPU, type Arm64GuestKernel } from './harness.js';
import { debianArm64Kernel, type DebianArm64Suite } from './fixtures.js';
import { GUEST_DEBIAN_IMAGE_PATH, GUEST_SECOND_INITRD_PATH } from './initramfs.js';

/** Quotes and an = inside a value: the line must reach the new kernel byte for byte, through /chosen. */
const SECOND_CMDLINE = 'console=ttyAMA0 panic=-1 quiet kexec_ts.marker=arm64-kexec-load dyndbg="file kexec.c +p"';
/** Boot, node's start-up per command under TCG, the load (decompressing Debian's Image) and the second kernel. */
const BOOT_TIMEOUT_MS = 300_000;

/**
 * Debian 13's 6.12 oopses in trans_pgd_create_copy() at kexec_load when the CPU has 52-bit
 * virtual addresses (FEAT_LPA2, in QEMU's `max`), before any segment is looked at: a kernel
 * fault of that release (sid's 7.x loads fine there). Its guest gets a CPU without LPA2, as
 * the ARM servers of today are.
 */
const WITHOUT_LPA2 = `${DEFAULT_CPU},lpa2=off`;

const KERNELS = [
  { kernel: 'debian', suite: 'bookworm', name: "Debian 12's kernel" },
  { kernel: 'debian-trixie', suite: 'trixie', name: "Debian 13's kernel", cpu: WITHOUT_LPA2 },
  { kernel: 'debian-sid', suite: 'sid', name: "sid's kernel" },
] as const satisfies readonly { kernel: Arm64GuestKernel; suite: DebianArm64Suite; name: string; cpu?: string }[];

const handoffRuns = new Map<Arm64GuestKernel, Promise<VmRun>>();
let lockdownRun: Promise<VmRun> | undefined;

function handoffGuest(kernel: Arm64GuestKernel): Promise<VmRun> {
  const started = handoffRuns.get(kernel);
  if (started !== undefined) return started;
  const cpu = KERNELS.find((candidate) => candidate.kernel === kernel && 'cpu' in candidate) as { cpu?: string } | undefined;
  const run = bootArm64Vm({
    kernel,
    ...(cpu?.cpu !== undefined ? { cpu: cpu.cpu } : {}),
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
  handoffRuns.set(kernel, run);
  return run;
}

function lockdownGuest(): Promise<VmRun> {
  lockdownRun ??= bootArm64Vm({
    kernel: 'debian-trixie',
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

for (const { kernel, suite, name } of KERNELS) {
  test(`arm64, ${name}: status says loads go through kexec_load, as kexec_file_load is not built in`, arm64VmTestOptions(kernel), async () => {
    const vm = await handoffGuest(kernel);
    const release = debianArm64Kernel(undefined, suite)!.kernelRelease;
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

  test(`arm64, ${name}: inspect says the image is loadable here, through kexec_load`, arm64VmTestOptions(kernel), async () => {
    const inspected = stepResult(await handoffGuest(kernel), 'INSPECT');
    assert.equal(inspected.exitCode, ExitCode.OK, JSON.stringify(inspected.json));
    assert.equal(inspected.json.image.format, 'arm64-image');
    assert.equal(inspected.json.loadable.loadable, true, inspected.json.loadable.because);
    assert.match(inspected.json.loadable.because, /loaded here with kexec_load/);
  });

  test(`arm64, ${name}: with --no-kexec-load the kernel's ENOSYS is explained as the missing CONFIG_KEXEC_FILE`, arm64VmTestOptions(kernel), async () => {
    const vm = await handoffGuest(kernel);
    const error = stepError(vm, 'NO-FALLBACK', ExitCode.KERNEL_REFUSED);
    assert.equal(error.errnoName, 'ENOSYS');
    assert.equal(error.syscall, 'kexec_file_load');
    assert.equal(error.code, 'KEXEC_FILE_NOT_SUPPORTED');
    assert.match(error.reason, /CONFIG_KEXEC_FILE/);
    assert.equal(requireMarker(vm, 'SYSFS-AFTER-NO-FALLBACK'), '0');
  });

  test(`arm64, ${name}: load falls back to kexec_load and says so; exec boots the second kernel with exactly our command line and initrd`, arm64VmTestOptions(kernel), async () => {
    const vm = await handoffGuest(kernel);
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
}

test("arm64, Debian 13's kernel under lockdown=integrity: the kexec_load fallback is refused before the syscall, and explained", arm64VmTestOptions('debian-trixie'), async () => {
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
