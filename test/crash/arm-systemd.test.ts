import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRASH_SAVE_UNIT } from '../../src/crash/arm/capture-cmdline.js';
import { findRepoRoot } from '../vm/initramfs.js';
import { scratchDir } from './vmcore-fixtures.js';

const UNITS = ['kexec-ts-crash-load.service', 'kexec-ts-crash-save.service'];
const SYSTEM_UNIT_DIRS = ['/usr/lib/systemd/system', '/lib/systemd/system'];

function systemdAnalyze(t: TestContext): string | undefined {
  const found = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((path) => existsSync(path));
  if (found !== undefined) return found;
  const reason = 'systemd-analyze is not installed (Debian package systemd): npm test installs it when run as root';
  if (process.env.CI === 'true') assert.fail(reason);
  t.skip(reason);
  return undefined;
}

/**
 * `systemd-analyze verify --root=DIR` over a scratch root holding the system's own units (for
 * local-fs.target and friends), ours, and a stand-in kexec-ts in /usr/bin: verify checks that
 * a relative command resolves in systemd's search path, and kexec-ts need not be installed here.
 */
function verify(t: TestContext, analyze: string, units: Record<string, string>): { status: number | null; output: string } {
  const root = scratchDir(t, 'kexec-ts-systemd-');
  const systemUnits = SYSTEM_UNIT_DIRS.find((dir) => existsSync(join(dir, 'local-fs.target')));
  assert.ok(systemUnits !== undefined, 'the system has its units');
  cpSync(systemUnits, join(root, 'usr/lib/systemd/system'), { recursive: true, dereference: false });
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  writeFileSync(join(root, 'usr/bin/kexec-ts'), '#!/bin/sh\n');
  chmodSync(join(root, 'usr/bin/kexec-ts'), 0o755);
  for (const [name, text] of Object.entries(units)) writeFileSync(join(root, 'etc/systemd/system', name), text);
  const run = spawnSync(analyze, ['verify', `--root=${root}`, ...Object.keys(units)], { encoding: 'utf8', cwd: root, timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}

function readUnit(name: string): string {
  return readFileSync(join(findRepoRoot(), 'contrib/systemd', name), 'utf8');
}

test('the shipped units pass systemd-analyze verify without a warning', (t) => {
  const analyze = systemdAnalyze(t);
  if (analyze === undefined) return;
  const result = verify(t, analyze, Object.fromEntries(UNITS.map((name) => [name, readUnit(name)])));
  assert.equal(result.status, 0, result.output);
  assert.equal(result.output, '');
});

test('verify is a real judge here: a misspelt key and a missing command are reported', (t) => {
  const analyze = systemdAnalyze(t);
  if (analyze === undefined) return;
  const broken = readUnit('kexec-ts-crash-save.service').replace('SuccessAction=', 'SucessAction=').replace('ExecStart=kexec-ts', 'ExecStart=kexec-ts-missing');
  const result = verify(t, analyze, { 'kexec-ts-crash-save.service': broken });
  assert.match(result.output, /Unknown key 'SucessAction'/);
  assert.match(result.output, /Command kexec-ts-missing is not executable/);
});

test('the save unit runs only in a capture kernel, saves into /var/crash, reboots either way; crash load names it', () => {
  const save = readUnit(CRASH_SAVE_UNIT);
  assert.match(save, /^ConditionPathExists=\/proc\/vmcore$/m);
  assert.match(save, /^ExecStart=kexec-ts crash save --dir \/var\/crash /m);
  assert.match(save, /^SuccessAction=reboot-force$/m);
  assert.match(save, /^FailureAction=reboot-force$/m);
  // No journald in the capture boot: its output must not depend on it.
  assert.match(save, /^StandardOutput=tty$/m);
  assert.match(save, /^TTYPath=\/dev\/console$/m);
  assert.doesNotMatch(save, /^Standard(Output|Error)=.*journal/m);
  // Without sysinit.target no udev runs, and a /var/crash mounted by label or UUID never appears.
  assert.doesNotMatch(save, /^DefaultDependencies=no$/m);
  const load = readUnit('kexec-ts-crash-load.service');
  assert.match(load, /^ConditionKernelCommandLine=crashkernel$/m);
  assert.match(load, /^ConditionPathExists=!\/proc\/vmcore$/m);
  assert.match(load, /^ExecStart=kexec-ts crash load \$KEXEC_TS_CRASH_LOAD_ARGS$/m);
  assert.match(load, /^ExecStop=kexec-ts crash unload$/m);
});
