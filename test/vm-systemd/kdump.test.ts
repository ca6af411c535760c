// kdump through the system's own kernel, initrd and systemd, as a user sets it up: the units of
// contrib/systemd from the npm package, crashkernel= on the command line, sysrq-c. The capture
// kernel boots the release's own initrd, systemd runs only kexec-ts-crash-save.service, the dump
// lands in /var/crash and the machine reboots. /var/crash is a disk of its own here, because the
// root disk's writes end with the QEMU run; the host then reads it with debugfs and judges the
// dump with the makedumpfile of the same release.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { describeVmRun, markerLines, vmTestOptionsFor } from '../vm/harness.js';
import { stepResult } from '../vm/scenario.js';
import { makedumpfileDmesg, releaseJudge } from '../crash/vmcore-fixtures.js';
import { bootMarker, bootSystemdGuest, systemdGuestSkipReason } from './guest.js';
import type { GuestScenario } from './guest-scripts.js';

const CRASH_DISK_LABEL = 'kexects-crash';
const CRASH_DISK_BYTES = 3 * 1024 * 1024 * 1024;
/** What Debian's kernel, its initrd, systemd and kexec-ts on node need in the capture boot (crash status checks it). */
const CRASHKERNEL = '384M';
const MARKER = `KEXEC_TS_SYSTEMD_KDUMP_${process.pid}`;

const KDUMP_SCENARIO: GuestScenario = {
  name: 'kdump',
  boots: [
    `
units=/usr/local/lib/node_modules/kexec-ts/contrib/systemd
cp "$units/kexec-ts-crash-load.service" "$units/kexec-ts-crash-save.service" /etc/systemd/system/
# kexec-ts itself is on the test disk at /usr/local: the capture boot mounts it first.
mkdir -p /etc/systemd/system/kexec-ts-crash-save.service.d
printf '[Unit]\\nRequiresMountsFor=/usr/local\\n' >/etc/systemd/system/kexec-ts-crash-save.service.d/test-disk.conf
mkdir -p /var/crash
printf '[Mount]\\nWhat=LABEL=${CRASH_DISK_LABEL}\\nWhere=/var/crash\\nType=ext4\\n' >/etc/systemd/system/var-crash.mount
systemctl daemon-reload
systemctl enable kexec-ts-crash-load.service >/dev/null 2>&1
systemctl start kexec-ts-crash-load.service
mark ARM-RESULT "$boot $(systemctl is-active kexec-ts-crash-load.service)"
mark CRASH-LOADED "$boot $(cat /sys/kernel/kexec_crash_loaded)"
step CRASH-STATUS kexec-ts crash status
echo ${MARKER} >/dev/kmsg
sync
echo c >/proc/sysrq-trigger
mark STILL-ALIVE "$boot"
power_off
`,
  ],
};

const options = { ...vmTestOptionsFor(systemdGuestSkipReason(['trixie'])), timeout: 20 * 60_000 };

test('Debian 13: the shipped units arm at boot, a crash saves the dump through the system initrd into /var/crash, the machine reboots, and trixie\'s makedumpfile reads the dump with the marker', options, async (t) => {
  const makedumpfile = releaseJudge(t, 'trixie', 'makedumpfile');
  if (!makedumpfile) return;
  const work = mkdtempSync(join(tmpdir(), 'kexec-ts-systemd-kdump-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));
  const crashDisk = join(work, 'crash.img');
  writeFileSync(crashDisk, '');
  truncateSync(crashDisk, CRASH_DISK_BYTES);
  const mkfs = spawnSync('mkfs.ext4', ['-q', '-F', '-L', CRASH_DISK_LABEL, crashDisk], { encoding: 'utf8' });
  assert.equal(mkfs.status, 0, mkfs.stderr);

  const run = await bootSystemdGuest('trixie', KDUMP_SCENARIO, 12 * 60_000, { append: `crashkernel=${CRASHKERNEL}`, extraDisks: [crashDisk] });
  const context = describeVmRun(run);
  assert.equal(bootMarker(run, 'ARM-RESULT', 1), 'active', `kexec-ts-crash-load.service armed: ${context}`);
  assert.equal(bootMarker(run, 'CRASH-LOADED', 1), '1', context);
  const status = stepResult(run, 'CRASH-STATUS');
  assert.equal(status.exitCode, 0, JSON.stringify(status.json));
  assert.equal(status.json.loaded, true, 'crash status sees it armed');
  assert.equal(status.json.loadedRecord?.kernel, `/boot/vmlinuz-${run.manifest.kernelRelease}`, 'by kexec-ts crash load: the system kernel');
  assert.equal(status.json.plan?.environment, 'system', 'through the system initrd');
  assert.equal(status.json.plan?.fit?.fits, true, `crashkernel=${CRASHKERNEL} is enough, as crash status reckons it: ${JSON.stringify(status.json.plan?.fit?.problems)}`);
  assert.equal(status.json.reservation.sysfsBytes, 384 * 1024 * 1024);
  assert.deepEqual(markerLines(run.serial, 'STILL-ALIVE'), [], 'the crash happened');
  // The save unit writes to the console itself (no journald in the capture boot), then reboots.
  assert.match(run.serial, /Saved \/var\/crash\/\d{8}-\d{6}\/vmcore: .*dump level 31/, context);
  assert.doesNotMatch(run.serial, /write \[[░█]+\]/, 'no progress bar on the serial console');
  assert.equal(run.timedOut, false, `the capture boot rebooted after saving: ${context}`);

  // The crash disk, read on the host.
  const out = join(work, 'crash');
  mkdirSync(out);
  const rdump = spawnSync('debugfs', ['-R', `rdump / ${out}`, crashDisk], { encoding: 'utf8' });
  assert.equal(rdump.status, 0, rdump.stderr);
  const dated = readdirSync(out).filter((name) => /^\d{8}-\d{6}$/.test(name));
  assert.equal(dated.length, 1, `one dump directory: ${readdirSync(out).join(', ')}`);
  const dir = join(out, dated[0]!);
  assert.deepEqual(readdirSync(dir).sort(), ['kexec-ts-save.log', 'vmcore', 'vmcore-dmesg.txt']);
  assert.match(readFileSync(join(dir, 'kexec-ts-save.log'), 'utf8'), /^Saved \/var\/crash\//m);
  assert.ok(readFileSync(join(dir, 'vmcore-dmesg.txt'), 'utf8').includes(MARKER), 'our vmcore-dmesg.txt has the marker');
  const theirs = makedumpfileDmesg(makedumpfile, join(dir, 'vmcore'));
  assert.ok(theirs.some((line) => line.endsWith(MARKER)), "trixie's makedumpfile reads the dump, marker included");
});
