// arm64, on Debian's own arm64 kernel, which is built without CONFIG_KEXEC_FILE: status says
// kexec_file_load is missing and why, load gets ENOSYS explained the same way, and inspect still
// judges the image itself (a good arm64 Image). One boot; nothing is handed off.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { assertGuestCompleted, requireMarker, type VmRun } from '../vm/harness.js';
import { STEP_FUNCTION, stepError, stepResult } from '../vm/scenario.js';
import { arm64VmTestOptions, bootArm64Vm } from './harness.js';
import { debianArm64Kernel } from './fixtures.js';
import { GUEST_DEBIAN_IMAGE_PATH, GUEST_SECOND_INITRD_PATH } from './initramfs.js';

let run: Promise<VmRun> | undefined;

async function guest(): Promise<VmRun> {
  run ??= bootArm64Vm({
    kernel: 'debian',
    timeoutMs: 180_000,
    body: `${STEP_FUNCTION}
echo "KTS-UNAME:$(uname -r)"
step STATUS kexec-ts status
step LOAD kexec-ts load ${GUEST_DEBIAN_IMAGE_PATH} --initrd ${GUEST_SECOND_INITRD_PATH} --append 'console=ttyAMA0'
echo "KTS-SYSFS-AFTER-LOAD:$(cat /sys/kernel/kexec_loaded)"
step INSPECT kexec-ts inspect ${GUEST_DEBIAN_IMAGE_PATH}
`,
  });
  const vm = await run;
  assertGuestCompleted(vm);
  return vm;
}

test("arm64, Debian's kernel: status says kexec_file_load cannot work, naming CONFIG_KEXEC_FILE", arm64VmTestOptions('debian'), async () => {
  const vm = await guest();
  const release = debianArm64Kernel()!.kernelRelease;
  assert.equal(requireMarker(vm, 'UNAME'), release);
  const status = stepResult(vm, 'STATUS');
  assert.equal(status.exitCode, ExitCode.OK, JSON.stringify(status.json));
  assert.equal(status.json.status.canLoad, false);
  assert.equal(status.json.status.kernelConfigSource, `/boot/config-${release}`);
  assert.equal(status.json.status.kernelConfig.CONFIG_KEXEC_FILE, 'n', 'Debian builds its arm64 kernels without it');
  assert.ok(
    (status.json.status.blockers as string[]).some((blocker) => /CONFIG_KEXEC_FILE/.test(blocker)),
    JSON.stringify(status.json.status.blockers),
  );
});

test("arm64, Debian's kernel: load is ENOSYS, explained as the missing CONFIG_KEXEC_FILE", arm64VmTestOptions('debian'), async () => {
  const vm = await guest();
  const error = stepError(vm, 'LOAD', ExitCode.KERNEL_REFUSED);
  assert.equal(error.errnoName, 'ENOSYS');
  assert.equal(error.errno, 38);
  assert.equal(error.code, 'KEXEC_FILE_NOT_SUPPORTED');
  assert.match(error.reason, /CONFIG_KEXEC_FILE/);
  assert.equal(requireMarker(vm, 'SYSFS-AFTER-LOAD'), '0');
});

test("arm64, Debian's kernel: inspect says the image is a fine arm64 Image but this kernel lacks kexec_file_load", arm64VmTestOptions('debian'), async () => {
  const inspected = stepResult(await guest(), 'INSPECT');
  assert.equal(inspected.exitCode, ExitCode.OK, JSON.stringify(inspected.json));
  assert.equal(inspected.json.image.format, 'arm64-image');
  assert.equal(inspected.json.loadable.loadable, false, inspected.json.loadable.because);
  assert.match(inspected.json.loadable.because, /it is an arm64 Image that kexec_file_load on aarch64 takes, but the running kernel has no kexec_file_load \(CONFIG_KEXEC_FILE is not set/);
});
