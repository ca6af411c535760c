// One boot with crashkernel=256M: arm a crash kernel, then load a real kernel and initrd and
// hand off to it. The second kernel's /init prints a marker and its /proc/cmdline.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { assertGuestCompleted, bootVm, describeVmRun, hasMarker, requireMarker, vmTestOptions, type VmRun } from './harness.js';
import { GUEST_SECOND_INITRD_PATH, GUEST_VMLINUZ_PATH, SECOND_KERNEL_CMDLINE_MARKER, SECOND_KERNEL_UP_MARKER } from './initramfs.js';
import { kernelConfigInGuest, STEP_FUNCTION, stepResult } from './scenario.js';
import { NewcWriter } from '../../src/binary/newc-writer.js';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Spaces, quotes and an = inside a value: the line must arrive byte for byte.
const SECOND_CMDLINE = 'console=ttyS0 quiet kexec_ts.marker=handoff-1 dyndbg="file kexec_file.c +p" panic=-1';

const EXTRA_INITRD_PATH = '/fixtures/extra-initrd.cpio';

/**
 * A second initrd for the second kernel: it brings a file of its own and replaces /init with
 * one that shows both archives arrived (busybox from the first, the file from this one).
 */
function extraInitrd(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-extra-initrd-'));
  const path = join(dir, 'extra.cpio');
  const fd = openSync(path, 'w');
  try {
    const writer = new NewcWriter(fd);
    writer.file('/extra-marker', 'from-the-second-initrd\n', 0o644);
    writer.file(
      '/init',
      `#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
echo "KTS-EXTRA-INITRD:$(/bin/busybox cat /extra-marker)"
echo KTS-${SECOND_KERNEL_UP_MARKER}
echo "KTS-${SECOND_KERNEL_CMDLINE_MARKER}:$(/bin/busybox cat /proc/cmdline)"
/bin/busybox poweroff -f
`,
      0o755,
    );
    writer.finish();
    return readFileSync(path);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

let run: VmRun | undefined;

async function guest(): Promise<VmRun> {
  run ??= await bootVm({
    timeoutMs: 150_000,
    append: 'crashkernel=256M',
    extraFiles: [kernelConfigInGuest(), { guestPath: EXTRA_INITRD_PATH, content: extraInitrd() }],
    body: `${STEP_FUNCTION}
step CRASH-LOAD kexec-ts load ${GUEST_VMLINUZ_PATH} --initrd ${GUEST_SECOND_INITRD_PATH} --append 'console=ttyS0 irqpoll nr_cpus=1' --crash
echo "KTS-SYSFS-CRASH-LOADED:$(cat /sys/kernel/kexec_crash_loaded)"
step STATUS-CRASH kexec-ts status
step CRASH-UNLOAD kexec-ts unload --crash
echo "KTS-SYSFS-CRASH-AFTER-UNLOAD:$(cat /sys/kernel/kexec_crash_loaded)"
step LOAD kexec-ts load ${GUEST_VMLINUZ_PATH} --initrd ${GUEST_SECOND_INITRD_PATH} --initrd ${EXTRA_INITRD_PATH} --append '${SECOND_CMDLINE}'
kexec-ts exec --force
echo "KTS-EXEC-RETURNED:$?"
`,
  });
  return run;
}

test('with crashkernel=256M a crash kernel loads, sysfs and status agree, and it unloads', vmTestOptions(), async () => {
  const vm = await guest();
  const crash = stepResult(vm, 'CRASH-LOAD');
  assert.equal(crash.exitCode, ExitCode.OK, JSON.stringify(crash.json));
  assert.equal(crash.json.crash, true);
  assert.equal(requireMarker(vm, 'SYSFS-CRASH-LOADED'), '1');
  const status = stepResult(vm, 'STATUS-CRASH').json.status;
  assert.equal(status.crashLoaded, true);
  assert.equal(status.crashReservationBytes, 256 * 1024 * 1024);
  assert.equal(status.canLoadCrash, true);
  assert.equal(stepResult(vm, 'CRASH-UNLOAD').exitCode, ExitCode.OK);
  assert.equal(requireMarker(vm, 'SYSFS-CRASH-AFTER-UNLOAD'), '0');
});

test('load + exec with two --initrd files boots the second kernel with both unpacked and exactly our /proc/cmdline', vmTestOptions(), async () => {
  const vm = await guest();
  const load = stepResult(vm, 'LOAD');
  assert.equal(load.exitCode, ExitCode.OK, JSON.stringify(load.json));
  assert.equal(load.json.cmdline, SECOND_CMDLINE);
  assert.ok(!hasMarker(vm.serial, 'EXEC-RETURNED'), `exec returned: ${describeVmRun(vm)}`);
  assert.ok(hasMarker(vm.serial, SECOND_KERNEL_UP_MARKER), describeVmRun(vm));
  assert.equal(requireMarker(vm, SECOND_KERNEL_CMDLINE_MARKER), SECOND_CMDLINE);
  // busybox came from the first initrd, /init and its marker file from the second.
  assert.equal(requireMarker(vm, 'EXTRA-INITRD'), 'from-the-second-initrd');
  assert.match(load.json.initrd.realPath, /^memfd:kexec-ts-initrd/);
  // The first guest's /init never reached its end: the machine was handed off, not shut down.
  assert.ok(!hasMarker(vm.serial, 'GUEST-DONE'), describeVmRun(vm));
  assert.equal(vm.timedOut, false);
});
