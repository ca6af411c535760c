// One boot with lockdown=integrity: Debian's own signed kernel is refused with EPERM (the
// platform keyring is empty without UEFI, so the signature cannot be verified), and kexec-ts
// says it was lockdown, with the kernel's Lockdown: line attached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { assertGuestCompleted, bootVm, requireMarker, vmTestOptions } from './harness.js';
import { GUEST_SECOND_INITRD_PATH, GUEST_VMLINUZ_PATH } from './initramfs.js';
import { kernelConfigInGuest, STEP_FUNCTION, stepError, stepResult } from './scenario.js';

test('under lockdown=integrity, EPERM is explained as lockdown with the kernel\'s line', vmTestOptions(), async () => {
  const vm = await bootVm({
    timeoutMs: 120_000,
    append: 'lockdown=integrity',
    extraFiles: [kernelConfigInGuest()],
    body: `${STEP_FUNCTION}
echo "KTS-LOCKDOWN-FILE:$(cat /sys/kernel/security/lockdown)"
step LOCKED-LOAD kexec-ts load ${GUEST_VMLINUZ_PATH} --initrd ${GUEST_SECOND_INITRD_PATH} --append ''
step LOCKED-STATUS kexec-ts status
kexec-ts load ${GUEST_VMLINUZ_PATH} --append '' 2>&1 | sed 's/^/KTS-TEXT:/'
`,
  });
  assertGuestCompleted(vm);
  assert.equal(requireMarker(vm, 'LOCKDOWN-FILE'), 'none [integrity] confidentiality');
  const error = stepError(vm, 'LOCKED-LOAD', ExitCode.KERNEL_REFUSED);
  assert.equal(error.errnoName, 'EPERM');
  assert.equal(error.code, 'LOCKDOWN_REFUSED');
  assert.match(error.reason, /locked down \(integrity mode\)/);
  assert.ok(
    (error.kernelLog as string[]).some((line) => /Lockdown: .*kexec of unsigned images is restricted/.test(line)),
    `kernel log: ${JSON.stringify(error.kernelLog)}`,
  );
  assert.equal(stepResult(vm, 'LOCKED-STATUS').json.status.lockdown, 'integrity');
  // The same refusal in plain words for a person.
  const text = vm.serial.split('\n').filter((line) => line.includes('KTS-TEXT:')).join('\n');
  assert.match(text, /why\s+the kernel is locked down/);
  assert.match(text, /kernel said\s+\[.*Lockdown:/);
  assert.match(text, /what to do\s+Load a kernel signed/);
});
