// `kexec-ts reboot` inside the VM: it reads the boot configuration placed in the guest (a BLS
// entries directory in one boot, a grub.cfg in the other), picks the default entry by the
// loader's own rules, loads it and hands off; the second kernel's /proc/cmdline carries that
// entry's marker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootVm, describeVmRun, hasMarker, requireMarker, vmTestOptions, type VmRun } from './harness.js';
import { cloudKernelFixture } from './fixtures.js';
import { GUEST_SECOND_INITRD_PATH, SECOND_KERNEL_CMDLINE_MARKER, SECOND_KERNEL_UP_MARKER } from './initramfs.js';

const KERNEL = { guestPath: '/boot/vmlinuz-6.1-test', hostPath: cloudKernelFixture().vmlinuzPath };

async function rebootInGuest(files: Array<{ guestPath: string; content: string }>): Promise<VmRun> {
  return bootVm({
    timeoutMs: 150_000,
    extraFiles: [KERNEL, ...files],
    body: `
cp ${GUEST_SECOND_INITRD_PATH} /boot/initrd.img-6.1-test
kexec-ts list
kexec-ts reboot --dry-run
kexec-ts reboot --force
echo "KTS-REBOOT-RETURNED:$?"
`,
  });
}

function assertBootedWith(vm: VmRun, marker: string): void {
  assert.ok(!hasMarker(vm.serial, 'REBOOT-RETURNED'), describeVmRun(vm));
  assert.ok(hasMarker(vm.serial, SECOND_KERNEL_UP_MARKER), describeVmRun(vm));
  assert.match(requireMarker(vm, SECOND_KERNEL_CMDLINE_MARKER), new RegExp(`kexec_ts\\.entry=${marker}( |$)`));
}

test('reboot picks the BLS default (the newest version; a "+0" entry with no tries left goes last) and boots it', vmTestOptions(), async () => {
  const entry = (version: string, marker: string) =>
    `title Test ${version}\nversion ${version}\nlinux /vmlinuz-6.1-test\ninitrd /initrd.img-6.1-test\noptions console=ttyS0 kexec_ts.entry=${marker}\n`;
  const vm = await rebootInGuest([
    { guestPath: '/boot/loader/entries/test-6.1.2.conf', content: entry('6.1.2', 'bls-older') },
    { guestPath: '/boot/loader/entries/test-6.1.10.conf', content: entry('6.1.10', 'bls-newest') },
    { guestPath: '/boot/loader/entries/test-6.1.11+0-3.conf', content: entry('6.1.11', 'bls-bad') },
  ]);
  // 6.1.10 > 6.1.2 by the UAPI version comparison (not by text), and 6.1.11 has used up its tries.
  assertBootedWith(vm, 'bls-newest');
});

test('reboot follows grub.cfg\'s set default= and boots that menu entry', vmTestOptions(), async () => {
  const menuentry = (title: string, marker: string) =>
    `menuentry '${title}' --class debian {\n\tlinux /boot/vmlinuz-6.1-test console=ttyS0 kexec_ts.entry=${marker}\n\tinitrd /boot/initrd.img-6.1-test\n}\n`;
  const vm = await rebootInGuest([
    {
      guestPath: '/boot/grub/grub.cfg',
      content: `set default="1"\nset timeout=5\n${menuentry('First', 'grub-first')}${menuentry('Second', 'grub-second')}`,
    },
  ]);
  assertBootedWith(vm, 'grub-second');
});
