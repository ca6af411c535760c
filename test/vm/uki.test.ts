// A Unified Kernel Image built from Debian's own systemd-stub and kernel, loaded inside the VM:
// kexec-ts unpacks it (the kernel cannot take a UKI), and the second kernel boots with the
// UKI's command line plus its addons, and runs the UKI's own initrd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { FIXTURES } from '../image/image-fixtures.js';
import { bootVm, describeVmRun, hasMarker, secondKernelConsole, vmTestOptions } from './harness.js';
import { NewcWriter } from '../../src/binary/newc-writer.js';
import { STEP_FUNCTION, stepResult } from './scenario.js';

/**
 * busybox and a /bin/sh, no /init: the UKI's own /init must be the one that runs. That init
 * ends with `exec /bin/sh`; this /bin/sh runs scripts through busybox but, called bare, powers
 * the machine off, so the VM ends instead of waiting at a prompt.
 */
function busyboxOnlyInitrd(): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-busybox-initrd-'));
  const path = join(dir, 'busybox.cpio');
  const fd = openSync(path, 'w');
  try {
    const writer = new NewcWriter(fd);
    writer.directory('/bin');
    writer.hostFile('/bin/busybox', '/bin/busybox', 0o755);
    writer.file('/bin/sh', '#!/bin/busybox sh\nif [ $# -gt 0 ]; then exec /bin/busybox sh "$@"; fi\n/bin/busybox poweroff -f\n', 0o755);
    writer.finish();
    return readFileSync(path);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a UKI is unpacked and booted: its initrd runs and the new kernel has its command line plus addons', vmTestOptions(), async (t) => {
  const fixtures = [FIXTURES.debianCloudUki(), FIXTURES.ukiConsoleAddon(), FIXTURES.ukiDebugAddon()];
  const missing = fixtures.filter((path) => !existsSync(path));
  if (missing.length > 0) {
    if (process.env.CI === 'true') assert.fail(`fixtures missing: ${missing.join(', ')}`);
    return t.skip(`fixtures missing: ${missing.join(', ')}`);
  }
  const vm = await bootVm({
    timeoutMs: 150_000,
    extraFiles: [
      { guestPath: '/fixtures/uki.efi', hostPath: FIXTURES.debianCloudUki() },
      { guestPath: '/fixtures/uki.efi.extra.d/10-console.addon.efi', hostPath: FIXTURES.ukiConsoleAddon() },
      { guestPath: '/fixtures/uki.efi.extra.d/50-debug.addon.efi', hostPath: FIXTURES.ukiDebugAddon() },
      { guestPath: '/fixtures/busybox.cpio', content: busyboxOnlyInitrd() },
    ],
    body: `${STEP_FUNCTION}
step UKI-LOAD kexec-ts load /fixtures/uki.efi --initrd /fixtures/busybox.cpio
kexec-ts exec --force
`,
  });
  const load = stepResult(vm, 'UKI-LOAD');
  assert.equal(load.exitCode, ExitCode.OK, JSON.stringify(load.json));
  const ukiCmdline = readFileSync(join(FIXTURES.debianCloudUki(), '..', 'cmdline.txt'), 'utf8').trim();
  assert.ok((load.json.cmdline as string).startsWith(`${ukiCmdline} `), load.json.cmdline);
  assert.match(load.json.kernel.realPath, /^memfd:kexec-ts-kernel/);
  // After the hand-off: the new kernel states its command line, then the UKI's /init speaks.
  const secondKernel = secondKernelConsole(vm);
  const commandLine = /^\[[^\]]*\] Command line: (.*)$/m.exec(secondKernel)?.[1]?.trim();
  assert.equal(commandLine, load.json.cmdline, `the new kernel said ${JSON.stringify(commandLine)}; ${describeVmRun(vm)}`);
  assert.ok(secondKernel.includes('KEXEC_TS_UKI_INITRD'), describeVmRun(vm));
  // The first guest's /init never reached its end: the machine was handed off, not shut down.
  assert.ok(!hasMarker(vm.serial, 'GUEST-DONE'), describeVmRun(vm));
  assert.equal(vm.timedOut, false, describeVmRun(vm));
});
