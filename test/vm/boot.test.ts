// Smoke test of the VM harness itself: the guest boots, runs the host's node, loads koffi from
// the project, and the unprivileged user the kexec tests rely on really lacks CAP_SYS_BOOT.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertGuestCompleted, bootVm, describeVmRun, hasMarker, requireMarker, vmTestOptions } from './harness.js';
import { GUEST_PROJECT_DIR, RUN_AS_NOBODY } from './initramfs.js';

test('the test guest boots, runs node and the project, and can drop to an unprivileged user', vmTestOptions(), async () => {
  const run = await bootVm({
    timeoutMs: 50_000,
    body: `
node -e "console.log('KTS-NODE:' + process.version)"
(cd ${GUEST_PROJECT_DIR} && node --input-type=module -e "import koffi from 'koffi'; console.log('KTS-KOFFI:' + koffi.version)")
kexec-ts --version || true
echo "KTS-NOBODY-UID:$(${RUN_AS_NOBODY} id -u)"
echo "KTS-NOBODY-CAPEFF:$(${RUN_AS_NOBODY} grep CapEff /proc/self/status | cut -f2)"
`,
  });

  assert.equal(run.timedOut, false, describeVmRun(run));
  assert.ok(hasMarker(run.serial, 'GUEST-READY'), describeVmRun(run));
  assertGuestCompleted(run);
  assert.equal(requireMarker(run, 'NODE'), process.version);
  assert.match(requireMarker(run, 'KOFFI'), /^\d+\.\d+\.\d+/);
  assert.equal(requireMarker(run, 'NOBODY-UID'), '65534');
  assert.equal(requireMarker(run, 'NOBODY-CAPEFF'), '0000000000000000');
});
