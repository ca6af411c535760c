// One boot of Debian's kernel, no crashkernel=, no lockdown: the refusals the kernel really
// returns, each explained with its actual cause, and a load/unload cycle seen by status.
// kexec_load_disabled comes last because it cannot be undone until reboot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { assertGuestCompleted, bootVm, describeVmRun, requireMarker, vmTestOptions, type VmRun } from './harness.js';
import { GUEST_VMLINUZ_PATH, GUEST_SECOND_INITRD_PATH, RUN_AS_NOBODY } from './initramfs.js';
import { kernelConfigInGuest, STEP_FUNCTION, stepError, stepResult } from './scenario.js';

let run: VmRun | undefined;

async function guest(): Promise<VmRun> {
  run ??= await bootVm({
    timeoutMs: 150_000,
    // Debian keeps the config beside the kernel in /boot; with it, status can say yes for sure.
    extraFiles: [kernelConfigInGuest()],
    body: `${STEP_FUNCTION}
step EXEC-NOTHING kexec-ts exec --force
echo "KTS-STILL-UP:yes"
step PREFLIGHT-NOT-A-KERNEL kexec-ts load /bin/busybox --append ''
step NOT-A-KERNEL kexec-ts load /bin/busybox --append '' --no-preflight
step CRASH-NO-RESERVATION kexec-ts load ${GUEST_VMLINUZ_PATH} --initrd ${GUEST_SECOND_INITRD_PATH} --append '' --crash
step NOT-ROOT ${RUN_AS_NOBODY} kexec-ts load ${GUEST_VMLINUZ_PATH} --append ''
echo "KTS-PROC-CMDLINE:$(cat /proc/cmdline)"
step REUSE kexec-ts load ${GUEST_VMLINUZ_PATH} --reuse-cmdline --append 'kexec_ts.extra=1'
step LOAD kexec-ts load ${GUEST_VMLINUZ_PATH} --initrd ${GUEST_SECOND_INITRD_PATH} --append 'console=ttyS0'
echo "KTS-SYSFS-AFTER-LOAD:$(cat /sys/kernel/kexec_loaded)"
step STATUS-LOADED kexec-ts status
step UNLOAD kexec-ts unload
echo "KTS-SYSFS-AFTER-UNLOAD:$(cat /sys/kernel/kexec_loaded)"
step STATUS-UNLOADED kexec-ts status
echo 1 > /proc/sys/kernel/kexec_load_disabled
step LOAD-DISABLED kexec-ts load ${GUEST_VMLINUZ_PATH} --append ''
step STATUS-DISABLED kexec-ts status
`,
  });
  assertGuestCompleted(run);
  return run;
}

test('exec with nothing loaded is refused and the machine stays up', vmTestOptions(), async () => {
  const vm = await guest();
  const error = stepError(vm, 'EXEC-NOTHING', ExitCode.NOTHING_LOADED);
  assert.equal(error.code, 'NOTHING_LOADED');
  assert.equal(requireMarker(vm, 'STILL-UP'), 'yes', describeVmRun(vm));
});

test('a non-kernel is ENOEXEC, explained, with the kernel\'s own log line attached', vmTestOptions(), async () => {
  const error = stepError(await guest(), 'NOT-A-KERNEL', ExitCode.KERNEL_REFUSED);
  assert.equal(error.code, 'NOT_A_KERNEL');
  assert.equal(error.errnoName, 'ENOEXEC');
  assert.equal(error.errno, 8);
  assert.ok(
    (error.kernelLog as string[]).some((line) => /kexec-bzImage64: Not a bzImage/.test(line)),
    `kernel log: ${JSON.stringify(error.kernelLog)}`,
  );
});

test('without --no-preflight, the same file is refused before the syscall, naming what it is', vmTestOptions(), async () => {
  const error = stepError(await guest(), 'PREFLIGHT-NOT-A-KERNEL', ExitCode.INPUT_REJECTED);
  assert.equal(error.code, 'IMAGE_NOT_LOADABLE');
  assert.match(error.message, /it is an ELF executable for x86_64, and x86_64 takes only a bzImage/);
});

test('a crash load without crashkernel= is EADDRNOTAVAIL, explained as no reservation', vmTestOptions(), async () => {
  const error = stepError(await guest(), 'CRASH-NO-RESERVATION', ExitCode.KERNEL_REFUSED);
  assert.equal(error.errnoName, 'EADDRNOTAVAIL');
  assert.equal(error.code, 'NO_CRASH_RESERVATION');
  assert.match(error.reason, /booted without crashkernel=/);
});

test('a user without CAP_SYS_BOOT gets EPERM explained as that', vmTestOptions(), async () => {
  const error = stepError(await guest(), 'NOT-ROOT', ExitCode.KERNEL_REFUSED);
  assert.equal(error.errnoName, 'EPERM');
  assert.equal(error.code, 'NO_CAP_SYS_BOOT');
  assert.match(error.reason, /uid 65534/);
});

test('load, status says loaded, unload, status says not loaded; sysfs agrees at each step', vmTestOptions(), async () => {
  const vm = await guest();
  const loaded = stepResult(vm, 'LOAD');
  assert.equal(loaded.exitCode, ExitCode.OK, JSON.stringify(loaded.json));
  assert.equal(loaded.json.kernel.path, GUEST_VMLINUZ_PATH);
  assert.equal(loaded.json.cmdline, 'console=ttyS0');
  assert.equal(requireMarker(vm, 'SYSFS-AFTER-LOAD'), '1');
  assert.equal(stepResult(vm, 'STATUS-LOADED').json.status.loaded, true);

  assert.equal(stepResult(vm, 'UNLOAD').exitCode, ExitCode.OK);
  assert.equal(requireMarker(vm, 'SYSFS-AFTER-UNLOAD'), '0');
  const unloaded = stepResult(vm, 'STATUS-UNLOADED').json.status;
  assert.equal(unloaded.loaded, false);
  assert.equal(unloaded.canLoad, true, JSON.stringify(unloaded.blockers));
  assert.match(unloaded.kernelConfigSource, /^\/boot\/config-\d+\.\d+/);
  assert.equal(unloaded.kernelConfig.CONFIG_KEXEC_FILE, 'y');
  assert.equal(unloaded.lockdown, 'none');
});

test('--reuse-cmdline passes this boot\'s command line on, with --append added', vmTestOptions(), async () => {
  const vm = await guest();
  const reused = stepResult(vm, 'REUSE');
  assert.equal(reused.exitCode, ExitCode.OK, JSON.stringify(reused.json));
  assert.equal(reused.json.cmdline, `${requireMarker(vm, 'PROC-CMDLINE')} kexec_ts.extra=1`);
  assert.equal(reused.json.initrd, null);
});

test('after kexec_load_disabled=1, EPERM is explained as that, and status says so', vmTestOptions(), async () => {
  const vm = await guest();
  const error = stepError(vm, 'LOAD-DISABLED', ExitCode.KERNEL_REFUSED);
  assert.equal(error.errnoName, 'EPERM');
  assert.equal(error.code, 'KEXEC_LOAD_DISABLED');
  const status = stepResult(vm, 'STATUS-DISABLED').json.status;
  assert.equal(status.canLoad, false);
  assert.equal(status.kexecLoadDisabled, true);
});
