import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { assessStatus } from '../../src/handoff/status.js';
import { parseLockdown, readMachineFacts } from '../../src/handoff/machine-facts.js';
import { parseKernelConfig } from '../../src/image/kernel-config.js';
import { permissiveFacts } from './facts-fixture.js';

test('a root shell on a kexec-capable kernel: possible', () => {
  const report = assessStatus(permissiveFacts());
  assert.equal(report.canLoad, true);
  assert.deepEqual(report.blockers, []);
  assert.equal(report.canLoadCrash, false, 'no crash reservation');
});

test('each blocker is reported on its own', () => {
  assert.deepEqual(assessStatus(permissiveFacts({ hasCapSysBoot: false, uid: 1000 })).blockers, ['this process lacks CAP_SYS_BOOT (not root)']);
  assert.deepEqual(assessStatus(permissiveFacts({ kexecLoadDisabled: true })).blockers, ['kernel.kexec_load_disabled is 1 (until reboot)']);
  assert.deepEqual(
    assessStatus(permissiveFacts({ kernelConfig: parseKernelConfig('# CONFIG_KEXEC_FILE is not set\n') })).blockers,
    ['the running kernel is built without CONFIG_KEXEC_FILE'],
  );
  assert.deepEqual(assessStatus(permissiveFacts({ arch: 's390x' })).blockers, ['kexec-ts has no syscall table for s390x']);
});

test('unreadable facts make the verdict unknown, not yes', () => {
  const report = assessStatus(permissiveFacts({ hasCapSysBoot: undefined, kernelConfig: undefined, kernelConfigSource: undefined }));
  assert.equal(report.canLoad, 'unknown');
});

test('a crash reservation makes a crash load possible', () => {
  const report = assessStatus(permissiveFacts({ crashReservationBytes: 256 << 20, crashkernelParameter: 'crashkernel=256M' }));
  assert.equal(report.canLoadCrash, true);
  assert.equal(report.checks.find((check) => check.name === 'crash reservation')?.value, '256 MiB');
});

test('lockdown is read from its bracketed mode', () => {
  assert.equal(parseLockdown('none [integrity] confidentiality\n'), 'integrity');
  assert.equal(parseLockdown('[none] integrity confidentiality'), 'none');
  assert.equal(parseLockdown('none integrity [confidentiality]'), 'confidentiality');
  assert.equal(parseLockdown('garbage'), undefined);
});

test('facts are read from where the kernel publishes them', () => {
  const root = mkdtempSync(join(tmpdir(), 'kexec-ts-root-'));
  const files: Record<string, string | Buffer> = {
    'proc/cmdline': 'BOOT_IMAGE=/vmlinuz root=/dev/vda1 crashkernel=256M quiet\n',
    'proc/sys/kernel/osrelease': '6.1.0-41-cloud-amd64\n',
    'proc/sys/kernel/kexec_load_disabled': '1\n',
    'proc/sys/kernel/kexec_load_limit_reboot': '-1\n',
    // CapEff with only CAP_SYS_BOOT (bit 22) clear: a root shell that dropped it.
    'proc/self/status': 'Name:\tsh\nUid:\t0\t0\t0\t0\nCapEff:\t000001ffffbfffff\n',
    'proc/1/comm': 'systemd\n',
    'sys/kernel/security/lockdown': 'none integrity [confidentiality]\n',
    'sys/kernel/kexec_loaded': '1\n',
    'sys/kernel/kexec_crash_loaded': '0\n',
    'sys/kernel/kexec_crash_size': '268435456\n',
    'proc/config.gz': gzipSync('CONFIG_KEXEC_FILE=y\nCONFIG_KEXEC_SIG_FORCE=y\n'),
    'sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c': Buffer.from([6, 0, 0, 0, 1]),
  };
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  const facts = readMachineFacts(root, 'arm64');
  assert.equal(facts.arch, 'aarch64');
  assert.equal(facts.hasCapSysBoot, false);
  assert.equal(facts.uid, 0);
  assert.equal(facts.kexecLoadDisabled, true);
  assert.equal(facts.loadLimitReboot, -1);
  assert.equal(facts.lockdown, 'confidentiality');
  assert.equal(facts.kexecLoaded, true);
  assert.equal(facts.kexecCrashLoaded, false);
  assert.equal(facts.crashReservationBytes, 268435456);
  assert.equal(facts.crashkernelParameter, 'crashkernel=256M');
  assert.equal(facts.kernelConfigSource, '/proc/config.gz');
  assert.equal(facts.kernelConfig?.options.get('CONFIG_KEXEC_SIG_FORCE'), 'y');
  assert.equal(facts.secureBoot, true);
  assert.equal(facts.initSystem, 'systemd');

  const empty = readMachineFacts(mkdtempSync(join(tmpdir(), 'kexec-ts-empty-')));
  assert.equal(empty.kexecLoaded, undefined);
  assert.equal(empty.lockdown, undefined);
  assert.match(empty.lockdownUnknownReason ?? '', /securityfs is not mounted/);
});
