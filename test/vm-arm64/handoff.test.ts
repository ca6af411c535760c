// arm64, on the kernel built with KEXEC_FILE=y: kexec-ts loads a real Image and hands off to it,
// and does the same with that Image gzip'ed (decompressed into a memfd first), while the kernel's
// own answer to the raw .gz is EINVAL. Two boots, since an exec ends each one:
//   1. status, inspect, load the plain Image, exec;
//   2. the raw .gz with --no-preflight (EINVAL), then the .gz as kexec-ts loads it, exec.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { describeVmRun, hasMarker, requireMarker, type VmRun } from '../vm/harness.js';
import { SECOND_KERNEL_CMDLINE_MARKER, SECOND_KERNEL_UP_MARKER } from '../vm/initramfs.js';
import { STEP_FUNCTION, stepError, stepResult } from '../vm/scenario.js';
import { arm64VmTestOptions, bootArm64Vm } from './harness.js';
import { builtArm64Kernel } from './fixtures.js';
import { GUEST_IMAGE_GZ_PATH, GUEST_IMAGE_PATH, GUEST_SECOND_INITRD_PATH } from './initramfs.js';

/** Quotes and an = inside a value: the line must arrive byte for byte. Each boot has its own. */
const PLAIN_CMDLINE = 'console=ttyAMA0 panic=-1 quiet kexec_ts.marker=arm64-plain dyndbg="file kexec_file.c +p"';
const GZ_CMDLINE = 'console=ttyAMA0 panic=-1 quiet kexec_ts.marker=arm64-gz';
/** Boot, Node's start-up per command (1-3.5 s under TCG), the load and the second kernel. */
const BOOT_TIMEOUT_MS = 180_000;

const HAND_OFF = `kexec-ts exec --force
echo "KTS-EXEC-RETURNED:$?"
`;

let plainRun: Promise<VmRun> | undefined;
let gzRun: Promise<VmRun> | undefined;

function plainImageGuest(): Promise<VmRun> {
  plainRun ??= bootArm64Vm({
    kernel: 'kexec-ts-built',
    timeoutMs: BOOT_TIMEOUT_MS,
    body: `${STEP_FUNCTION}
echo "KTS-UNAME:$(uname -m) $(uname -r)"
echo "KTS-NODE:$(node -p 'process.arch + " " + process.version')"
step STATUS kexec-ts status
step INSPECT kexec-ts inspect ${GUEST_IMAGE_PATH}
step LOAD kexec-ts load ${GUEST_IMAGE_PATH} --initrd ${GUEST_SECOND_INITRD_PATH} --append '${PLAIN_CMDLINE}'
echo "KTS-SYSFS-AFTER-LOAD:$(cat /sys/kernel/kexec_loaded)"
${HAND_OFF}`,
  });
  return plainRun;
}

function gzImageGuest(): Promise<VmRun> {
  gzRun ??= bootArm64Vm({
    kernel: 'kexec-ts-built',
    timeoutMs: BOOT_TIMEOUT_MS,
    body: `${STEP_FUNCTION}
step GZ-AS-IS kexec-ts load ${GUEST_IMAGE_GZ_PATH} --initrd ${GUEST_SECOND_INITRD_PATH} --append '' --no-preflight
echo "KTS-SYSFS-AFTER-GZ-AS-IS:$(cat /sys/kernel/kexec_loaded)"
step LOAD-GZ kexec-ts load ${GUEST_IMAGE_GZ_PATH} --initrd ${GUEST_SECOND_INITRD_PATH} --append '${GZ_CMDLINE}'
${HAND_OFF}`,
  });
  return gzRun;
}

/** The first kernel handed off: exec never returned, and the second one printed exactly `cmdline`. */
function assertSecondKernelBooted(vm: VmRun, cmdline: string): void {
  assert.ok(!hasMarker(vm.serial, 'EXEC-RETURNED'), `exec returned: ${describeVmRun(vm)}`);
  assert.ok(hasMarker(vm.serial, SECOND_KERNEL_UP_MARKER), describeVmRun(vm));
  assert.equal(requireMarker(vm, SECOND_KERNEL_CMDLINE_MARKER), cmdline);
  // The first guest's /init never reached its end: the machine was handed off, not shut down.
  assert.ok(!hasMarker(vm.serial, 'GUEST-DONE'), describeVmRun(vm));
  assert.equal(vm.timedOut, false, describeVmRun(vm));
}

test('arm64: the guest runs the arm64 Node and the built kernel, whose status says kexec_file_load is there', arm64VmTestOptions('kexec-ts-built'), async () => {
  const vm = await plainImageGuest();
  assert.equal(requireMarker(vm, 'UNAME'), `aarch64 ${builtArm64Kernel()!.kernelRelease}`);
  assert.match(requireMarker(vm, 'NODE'), /^arm64 v2\d\./);
  const status = stepResult(vm, 'STATUS');
  assert.equal(status.exitCode, ExitCode.OK, JSON.stringify(status.json));
  assert.equal(status.json.status.arch, 'aarch64');
  assert.equal(status.json.status.canLoad, true, JSON.stringify(status.json.status.blockers));
  // The build has IKCONFIG_PROC: the config comes from the kernel itself, not from /boot.
  assert.equal(status.json.status.kernelConfigSource, '/proc/config.gz');
  assert.equal(status.json.status.kernelConfig.CONFIG_KEXEC_FILE, 'y');
});

test('arm64: inspect calls the built Image an arm64 Image, loadable here', arm64VmTestOptions('kexec-ts-built'), async () => {
  const inspected = stepResult(await plainImageGuest(), 'INSPECT');
  assert.equal(inspected.exitCode, ExitCode.OK, JSON.stringify(inspected.json));
  assert.equal(inspected.json.image.format, 'arm64-image');
  assert.equal(inspected.json.loadable.loadable, true, inspected.json.loadable.because);
});

test('arm64: load of the plain Image + exec boots the second kernel with exactly our command line', arm64VmTestOptions('kexec-ts-built'), async () => {
  const vm = await plainImageGuest();
  const load = stepResult(vm, 'LOAD');
  assert.equal(load.exitCode, ExitCode.OK, JSON.stringify(load.json));
  assert.equal(load.json.kernel.realPath, GUEST_IMAGE_PATH);
  assert.equal(load.json.cmdline, PLAIN_CMDLINE);
  assert.equal(requireMarker(vm, 'SYSFS-AFTER-LOAD'), '1');
  assertSecondKernelBooted(vm, PLAIN_CMDLINE);
});

test('arm64: the .gz handed to the kernel as it is gets EINVAL, the kernel\'s own answer, and nothing is loaded', arm64VmTestOptions('kexec-ts-built'), async () => {
  const vm = await gzImageGuest();
  const error = stepError(vm, 'GZ-AS-IS', ExitCode.KERNEL_REFUSED);
  assert.equal(error.errnoName, 'EINVAL');
  assert.equal(error.errno, 22);
  assert.equal(error.syscall, 'kexec_file_load');
  assert.equal(requireMarker(vm, 'SYSFS-AFTER-GZ-AS-IS'), '0');
});

test('arm64: load of Image.gz decompresses it into a memfd, and exec boots that kernel', arm64VmTestOptions('kexec-ts-built'), async () => {
  const vm = await gzImageGuest();
  const load = stepResult(vm, 'LOAD-GZ');
  assert.equal(load.exitCode, ExitCode.OK, JSON.stringify(load.json));
  assert.ok(load.json.kernel.path.startsWith(GUEST_IMAGE_GZ_PATH), load.json.kernel.path);
  assert.match(load.json.kernel.realPath, /^memfd:/);
  // What the kernel read is the Image itself: the decompressed size is the uncompressed file's.
  assert.equal(load.json.kernel.sizeBytes, statSync(builtArm64Kernel()!.imagePath).size);
  assert.equal(load.json.cmdline, GZ_CMDLINE);
  assertSecondKernelBooted(vm, GZ_CMDLINE);
});
