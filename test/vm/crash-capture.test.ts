// kdump end to end, in one boot of Debian's kernel with crashkernel=256M (-m 1024) and an NVMe
// disk for the dump: crash status sees the reservation; an initrd that unpacks to 300 MiB is
// refused before the syscall; the capture initramfs from kexec-ts crash initrd (built here on
// the host) is armed; a sysrq crash boots the capture kernel, whose /init runs node and kexec-ts
// from that initramfs: it reads the crashed kernel's log from /proc/vmcore, saves the dump to
// the disk and powers off. The host then reads the disk: the dump and vmcore-dmesg.txt are there.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, closeSync, openSync, ftruncateSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { buildCaptureInitrd, type CaptureInitrdResult } from '../../src/crash/arm/capture-initrd/build.js';
import { extractDmesg } from '../../src/crash/index.js';
import { CAPTURE_MEMORY_MODEL } from '../../src/crash/arm/fit.js';
import { cloudKernelFixture } from './fixtures.js';
import { describeVmRun, findOnPath, hasMarker, markerLines, requireMarker, runQemu, vmSkipReason, vmTestOptions, type VmRun } from './harness.js';
import { findRepoRoot, GUEST_VMLINUZ_PATH, writeScenarioInitramfs } from './initramfs.js';
import { STEP_FUNCTION, stepError, stepResult } from './scenario.js';
import { judge, makedumpfileDmesg } from '../crash/vmcore-fixtures.js';

const MIB = 1024 * 1024;
const CAPTURE_INITRD_PATH = '/fixtures/capture.img';
const TOO_BIG_INITRD_PATH = '/fixtures/too-big.img';
const DUMP_LABEL = 'KTSDUMP';
/** Written to the kernel log just before the crash; the capture side must find it in /proc/vmcore. */
const MARK = `KTS_CRASH_MARK_${randomBytes(8).toString('hex')}`;
/** The harness's own line (test/vm/harness.ts), with the reservation. */
const FIRST_CMDLINE = 'console=ttyS0 panic=-1 quiet crashkernel=256M';
const VM_TIMEOUT_MS = 420_000;
const DISK_BYTES = 1024 * MIB;

interface CaptureRun {
  vm: VmRun;
  capture: CaptureInitrdResult;
  disk: string;
  workDir: string;
}

let pending: Promise<CaptureRun> | undefined;

function e2fsTool(name: string): string | undefined {
  return findOnPath(name) ?? ['/usr/sbin', '/sbin'].map((dir) => path.join(dir, name)).find((candidate) => existsSync(candidate));
}

function crashSaveAvailable(): boolean {
  return existsSync(path.join(findRepoRoot(), 'dist/src/cli/commands/crash-save.js'));
}

/** Pre-save hook: what the capture side sees, as markers. */
const PRE_HOOK = `#!/bin/sh
echo KTS-CAPTURE-UP
echo "KTS-CAPTURE-VMCORE:$([ -e /proc/vmcore ] && stat -c %s /proc/vmcore || echo missing)"
echo "KTS-CAPTURE-CMDLINE:$(cat /proc/cmdline)"
echo "KTS-CAPTURE-ROOTFS:$(grep '^rootfs / ' /proc/mounts)"
echo "KTS-CAPTURE-MEMFREE-KB:$(awk '/MemFree/ {print $2}' /proc/meminfo)"
echo "KTS-CAPTURE-MEMAVAILABLE-KB:$(awk '/MemAvailable/ {print $2}' /proc/meminfo)"
echo "KTS-CAPTURE-NODE:$(node -e 'console.log(process.version)')"
kexec-ts crash dmesg /proc/vmcore > /tmp/dmesg.txt 2>/tmp/dmesg.err
echo "KTS-CAPTURE-DMESG-RC:$?"
echo "KTS-CAPTURE-DMESG-LINES:$(wc -l < /tmp/dmesg.txt)"
grep KTS_CRASH_MARK_ /tmp/dmesg.txt | sed 's/^/KTS-CAPTURE-DMESG-MARK:/'
head -c 300 /tmp/dmesg.err | sed 's/^/KTS-CAPTURE-DMESG-ERR:/'
# Free memory while the save runs, for the post-save hook.
( while :; do awk '/MemAvailable/ {print $2}' /proc/meminfo; sleep 0.5; done ) > /tmp/memfree.log &
`;

const POST_HOOK = `#!/bin/sh
echo "KTS-CAPTURE-SAVE-STATUS:$KEXEC_TS_SAVE_STATUS"
echo "KTS-CAPTURE-SAVE-MIN-MEMAVAILABLE-KB:$(sort -n /tmp/memfree.log | head -n 1)"
`;

/** A gzip'ed newc archive of 20 files of 15 MiB of zeros: a 300 KB file that unpacks to 300 MiB. */
function tooBigInitrd(): Buffer {
  const parts: Buffer[] = [];
  let length = 0;
  const push = (bytes: Buffer) => (parts.push(bytes), (length += bytes.length));
  const pad = (to: number) => push(Buffer.alloc((to - (length % to)) % to));
  const entry = (name: string, mode: number, data: Buffer) => {
    const fields = [parts.length + 1, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0];
    push(Buffer.from(`070701${fields.map((field) => field.toString(16).padStart(8, '0')).join('')}${name}\0`, 'latin1'));
    pad(4);
    push(data);
    pad(4);
  };
  const zeros = Buffer.alloc(15 * MIB);
  for (let index = 0; index < 20; index++) entry(`filler-${index}`, 0o100644, zeros);
  entry('TRAILER!!!', 0, Buffer.alloc(0));
  pad(512);
  return gzipSync(Buffer.concat(parts));
}

async function bootAndCrash(): Promise<CaptureRun> {
  const reason = vmSkipReason();
  if (reason) throw new Error(`cannot boot the test VM: ${reason}`);
  const mkfs = e2fsTool('mkfs.ext4');
  if (mkfs === undefined) throw new Error('mkfs.ext4 (Debian package e2fsprogs) is needed for the dump disk');
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'kexec-ts-crash-vm-'));
  const hooks = { pre: path.join(workDir, 'pre-save.sh'), post: path.join(workDir, 'post-save.sh') };
  writeFileSync(hooks.pre, PRE_HOOK, { mode: 0o755 });
  writeFileSync(hooks.post, POST_HOOK, { mode: 0o755 });
  const capture = await buildCaptureInitrd({
    out: path.join(workDir, 'capture.img'),
    dumpDevice: `LABEL=${DUMP_LABEL}`,
    dumpFstype: 'ext4',
    dumpDir: '/var/crash',
    preSaveHooks: [hooks.pre],
    postSaveHooks: [hooks.post],
    deviceTimeoutSeconds: 30,
    onFailure: 'poweroff',
    finalAction: 'poweroff',
  });
  const disk = path.join(workDir, 'dump.img');
  const fd = openSync(disk, 'w');
  ftruncateSync(fd, DISK_BYTES);
  closeSync(fd);
  const formatted = spawnSync(mkfs, ['-q', '-F', '-L', DUMP_LABEL, disk], { encoding: 'utf8' });
  if (formatted.status !== 0) throw new Error(`mkfs.ext4 failed: ${formatted.stderr}`);

  const initramfs = path.join(workDir, 'initramfs.cpio');
  writeScenarioInitramfs(initramfs, {
    extraFiles: [
      { guestPath: CAPTURE_INITRD_PATH, hostPath: capture.path },
      { guestPath: TOO_BIG_INITRD_PATH, content: tooBigInitrd() },
    ],
    body: `${STEP_FUNCTION}
plan="--kernel ${GUEST_VMLINUZ_PATH} --initrd ${CAPTURE_INITRD_PATH}"
step STATUS kexec-ts crash status $plan
step TOO-BIG kexec-ts crash load --kernel ${GUEST_VMLINUZ_PATH} --initrd ${TOO_BIG_INITRD_PATH}
echo "KTS-LOADED-AFTER-TOO-BIG:$(cat /sys/kernel/kexec_crash_loaded)"
step LOAD kexec-ts crash load $plan
echo "KTS-LOADED-AFTER-LOAD:$(cat /sys/kernel/kexec_crash_loaded)"
step STATUS-LOADED kexec-ts crash status $plan
echo "${MARK}" > /dev/kmsg
echo KTS-CRASHING
# Let the UART drain: a panic stops the console mid-line.
sleep 1
echo c > /proc/sysrq-trigger
echo KTS-STILL-RUNNING
`,
  });
  const vm = await runQemu(
    [
      '-accel', 'tcg',
      '-smp', '1',
      '-m', '1024',
      '-nographic',
      '-no-reboot',
      '-nic', 'none',
      '-kernel', cloudKernelFixture().vmlinuzPath,
      '-initrd', initramfs,
      '-append', FIRST_CMDLINE,
      // NVMe is built into Debian's cloud kernel: the capture kernel needs no module for it.
      '-drive', `file=${disk},if=none,id=dump,format=raw`,
      '-device', 'nvme,drive=dump,serial=kexects',
    ],
    VM_TIMEOUT_MS,
  );
  return { vm, capture, disk, workDir };
}

function captureRun(): Promise<CaptureRun> {
  pending ??= bootAndCrash();
  return pending;
}

process.on('exit', () => {
  void pending?.then((run) => rmSync(run.workDir, { recursive: true, force: true }));
});

test('crash status --json shows the 256 MiB reservation from sysfs and /proc/iomem, and that the capture initramfs fits on ramfs', vmTestOptions(), async () => {
  const { vm } = await captureRun();
  const status = stepResult(vm, 'STATUS');
  assert.equal(status.exitCode, ExitCode.OK, JSON.stringify(status.json));
  const reservation = status.json.reservation;
  assert.equal(reservation.sysfsBytes, 256 * MIB);
  assert.equal(reservation.ranges.length, 1);
  assert.equal(reservation.ranges[0].sizeBytes, 256 * MIB);
  assert.match(reservation.ranges[0].start, /^0x[0-9a-f]+$/);
  assert.equal(reservation.parameter, 'crashkernel=256M');
  assert.equal(reservation.requestedBytes, 256 * MIB);
  assert.equal(status.json.loaded, false);
  const fit = status.json.plan.fit;
  assert.equal(fit.fits, true, JSON.stringify(fit.problems));
  assert.equal(fit.switchToRamfs, true);
  assert.equal(fit.parts.kernelResidentSource, 'running kernel (/proc/iomem)');
  assert.equal(status.json.plan.environment, 'capture-initrd');
});

test('an initrd that unpacks to 300 MiB is refused before the syscall, naming the sizes', vmTestOptions(), async () => {
  const { vm } = await captureRun();
  const error = stepError(vm, 'TOO-BIG', ExitCode.INPUT_REJECTED);
  assert.equal(error.code, 'CRASH_RESERVATION_TOO_SMALL');
  assert.match(error.message, /crashkernel=256M reserves 256 MiB/);
  assert.match(error.message, /its contents (more than )?\d+(\.\d)? MiB/);
  assert.match(error.remedy, /smaller initrd|crashkernel=/);
  assert.equal(error.path, TOO_BIG_INITRD_PATH);
  assert.equal(requireMarker(vm, 'LOADED-AFTER-TOO-BIG'), '0', 'nothing was loaded');
});

test('crash load arms the capture kernel with the capture initramfs: kexec_crash_loaded is 1, rootfstype=ramfs added', vmTestOptions(), async () => {
  const { vm } = await captureRun();
  const load = stepResult(vm, 'LOAD');
  assert.equal(load.exitCode, ExitCode.OK, JSON.stringify(load.json));
  assert.equal(requireMarker(vm, 'LOADED-AFTER-LOAD'), '1');
  const cmdline: string = load.json.plan.cmdline;
  assert.match(cmdline, /\birqpoll nr_cpus=1 reset_devices\b/);
  assert.match(cmdline, / rootfstype=ramfs$/);
  assert.doesNotMatch(cmdline, /crashkernel=/);
  assert.equal(load.json.load.crash, true);
  const loaded = stepResult(vm, 'STATUS-LOADED').json;
  assert.equal(loaded.loaded, true);
  assert.equal(loaded.loadedRecord.kernel, GUEST_VMLINUZ_PATH);
  assert.deepEqual(loaded.loadedRecord.initrds, [CAPTURE_INITRD_PATH]);
});

test('a crash boots the capture kernel; its /init runs node and kexec-ts, which find the mark in /proc/vmcore', vmTestOptions(), async () => {
  const { vm } = await captureRun();
  assert.ok(hasMarker(vm.serial, 'CRASHING'), describeVmRun(vm));
  assert.ok(!hasMarker(vm.serial, 'STILL-RUNNING'), describeVmRun(vm));
  assert.ok(hasMarker(vm.serial, 'CAPTURE-UP'), describeVmRun(vm));
  assert.ok(Number(requireMarker(vm, 'CAPTURE-VMCORE')) > 500 * MIB, 'the crashed kernel\'s memory is there');
  const captureCmdline = requireMarker(vm, 'CAPTURE-CMDLINE');
  assert.match(captureCmdline, /^elfcorehdr=0x[0-9a-f]+ /, 'the kernel adds where the core headers are');
  assert.match(captureCmdline, /rootfstype=ramfs/);
  // ramfs shows no size= option; a tmpfs rootfs would.
  assert.doesNotMatch(requireMarker(vm, 'CAPTURE-ROOTFS'), /size=/);
  assert.match(requireMarker(vm, 'CAPTURE-NODE'), /^v\d+\./);
  assert.equal(requireMarker(vm, 'CAPTURE-DMESG-RC'), '0', markerLines(vm.serial, 'CAPTURE-DMESG-ERR').join('\n'));
  assert.ok(markerLines(vm.serial, 'CAPTURE-DMESG-MARK').some((line) => line.includes(MARK)), describeVmRun(vm));
  assert.equal(vm.timedOut, false, describeVmRun(vm));
});

test('the capture initramfs saves the dump and vmcore-dmesg.txt to the disk; the host reads both', vmTestOptions(), async (t: TestContext) => {
  if (!crashSaveAvailable() && process.env.CI !== 'true') return t.skip('kexec-ts crash save is not built yet');
  const run = await captureRun();
  assert.equal(requireMarker(run.vm, 'CAPTURE-SAVE-STATUS'), '0', describeVmRun(run.vm));
  // The fit check reserves this much for the capture userspace beyond its rootfs: the save stays inside it.
  const before = Number(requireMarker(run.vm, 'CAPTURE-MEMAVAILABLE-KB'));
  const lowest = Number(requireMarker(run.vm, 'CAPTURE-SAVE-MIN-MEMAVAILABLE-KB'));
  assert.ok((before - lowest) * 1024 < CAPTURE_MEMORY_MODEL.userspaceBytes['capture-initrd'], `the save took ${before - lowest} KiB of ${before} KiB available`);
  const debugfs = e2fsTool('debugfs');
  if (debugfs === undefined) return t.skip('debugfs (e2fsprogs) is needed to read the dump disk');
  const listing = spawnSync(debugfs, ['-R', 'ls -p /var/crash', run.disk], { encoding: 'utf8' });
  const stamps = listing.stdout.split('\n').map((line) => line.split('/')[5]).filter((name): name is string => name !== undefined && /^\d{8}-\d{6}/.test(name));
  assert.equal(stamps.length, 1, listing.stdout + listing.stderr);
  const copied = { dmesg: path.join(run.workDir, 'vmcore-dmesg.txt'), vmcore: path.join(run.workDir, 'vmcore') };
  for (const [name, target] of [['vmcore-dmesg.txt', copied.dmesg], ['vmcore', copied.vmcore]] as const) {
    const dumped = spawnSync(debugfs, ['-R', `dump /var/crash/${stamps[0]}/${name} ${target}`, run.disk], { encoding: 'utf8' });
    assert.ok(existsSync(target), `${name}: ${dumped.stderr}`);
  }
  assert.ok(readFileSync(copied.dmesg, 'utf8').includes(MARK));
  // Dump level 31 of a 1 GiB guest: tens of MB, not the ~850 MB of /proc/vmcore.
  const size = readFileSync(copied.vmcore).length;
  assert.ok(size > MIB && size < 200 * MIB, `${size} bytes`);
  assert.ok((await extractDmesg(copied.vmcore)).some((line) => line.includes(MARK)));
  const makedumpfile = judge(t, 'makedumpfile');
  if (makedumpfile !== undefined) assert.ok(makedumpfileDmesg(makedumpfile, copied.vmcore).some((line) => line.includes(MARK)), 'makedumpfile reads our dump too');
});
