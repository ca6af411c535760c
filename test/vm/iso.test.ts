// An ISO image's own boot entry booted with kexec: the grub-mkrescue image built from Debian's
// netboot installer lies in the guest as a file; `kexec-ts reboot --iso` reads its grub.cfg and
// loopback.cfg straight from the image, extracts the installer's kernel and initrd into memfds
// and hands off. The installer kernel's banner and its command line (with the image's loopback
// argument) on the console are the proof; the installer itself never powers off, so the VM is
// stopped once they are seen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bootVm, describeVmRun, hasMarker, secondKernelConsole, vmTestOptions } from './harness.js';
import { kexecTsCacheDir } from './fixtures.js';

const ISO = join(kexecTsCacheDir(), 'iso', 'netboot-grub-rescue.iso');
const GUEST_ISO = '/isos/netboot.iso';

test("reboot --iso boots the image's default entry: the installer kernel comes up with iso-scan/filename", vmTestOptions(), async (t) => {
  if (!existsSync(ISO)) {
    if (process.env.CI === 'true') assert.fail(`fixture missing: ${ISO}`);
    return t.skip(`fixture missing: ${ISO}`);
  }
  const vm = await bootVm({
    timeoutMs: 180_000,
    memoryMiB: 1536,
    extraFiles: [{ guestPath: GUEST_ISO, hostPath: ISO }],
    stopWhen: /Command line: [^\r\n]*iso-scan\/filename[^\r\n]*\r?\n/,
    body: `
kexec-ts list --iso ${GUEST_ISO}
kexec-ts reboot --iso ${GUEST_ISO} --append 'console=ttyS0 loglevel=7' --force
echo "KTS-REBOOT-RETURNED:$?"
`,
  });
  assert.ok(!hasMarker(vm.serial, 'REBOOT-RETURNED'), describeVmRun(vm));
  const secondKernel = secondKernelConsole(vm);
  assert.match(secondKernel, /Linux version 6\.\d+\.\d+-\d+-amd64 \(debian-kernel@lists\.debian\.org\)/, describeVmRun(vm));
  const commandLine = /^\[[^\]]*\] Command line: (.*)$/m.exec(secondKernel)?.[1] ?? '';
  assert.match(commandLine, new RegExp(`iso-scan/filename=${GUEST_ISO}( |$)`), describeVmRun(vm));
  assert.match(commandLine, /console=ttyS0 loglevel=7$/, describeVmRun(vm));
  assert.equal(vm.timedOut, false, describeVmRun(vm));
});
