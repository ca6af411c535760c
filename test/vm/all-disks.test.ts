// `kexec-ts reboot --all-disks` in the VM: the guest has two NVMe disks besides its initramfs,
// one a whole-disk ext4 system with a grub.cfg, the other a GPT with a swap partition and an
// ext4 partition of BLS entries. In one boot: `list --all-disks` finds both file systems' entries
// with their devices (the GPT's PARTUUIDs included) and skips the swap; a dry run picks the BLS
// partition's default by PARTUUID; the guest's own mounts never show the disks; then
// `reboot --all-disks LABEL:1` boots the second menu entry of the other disk, whose command line
// the second kernel prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeVmRun, hasMarker, requireMarker, runQemu, vmTestOptions } from './harness.js';
import { cloudKernelFixture } from './fixtures.js';
import { secondStageInitrd, sharedLibrariesOf, writeScenarioInitramfs, SECOND_KERNEL_CMDLINE_MARKER, SECOND_KERNEL_UP_MARKER, type GuestFile } from './initramfs.js';
import { STEP_FUNCTION, stepResult } from './scenario.js';

const VM_TIMEOUT_MS = 240_000;
const SYSTEM_LABEL = 'KTS-SYSTEM';
const BLS_LABEL = 'KTS-XBOOT';
const HOST_BLKID = ['/usr/sbin/blkid', '/sbin/blkid'].find((candidate) => fs.existsSync(candidate));

function tool(name: string): string {
  const found = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].map((dir) => path.join(dir, name)).find((candidate) => fs.existsSync(candidate));
  if (found === undefined) throw new Error(`${name} is needed for the disk images (e2fsprogs, util-linux, fdisk)`);
  return found;
}

function run(command: string, args: string[], input?: string): string {
  const result = spawnSync(tool(command), args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

/** A file system image of `sizeMiB` made from `tree` (written first). */
function ext4Image(file: string, sizeMiB: number, label: string, tree: Record<string, string | Uint8Array>, dir: string): void {
  const root = fs.mkdtempSync(path.join(dir, 'tree-'));
  for (const [name, content] of Object.entries(tree)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), content);
  }
  fs.writeFileSync(file, '');
  fs.truncateSync(file, sizeMiB << 20);
  run('mkfs.ext4', ['-q', '-F', '-L', label, '-d', root, file]);
}

interface Disks {
  system: string;
  gpt: string;
  swapPartuuid: string;
  blsPartuuid: string;
}

function buildDisks(dir: string): Disks {
  const kernel = fs.readFileSync(cloudKernelFixture().vmlinuzPath);
  const initrd = secondStageInitrd();
  const menuentry = (title: string, marker: string) =>
    `menuentry '${title}' {\n\tlinux /boot/vmlinuz-6.1-disk console=ttyS0 kexec_ts.entry=${marker}\n\tinitrd /boot/initrd.img-6.1-disk\n}\n`;
  const system = path.join(dir, 'system.img');
  ext4Image(system, 64, SYSTEM_LABEL, {
    'etc/hostname': 'other-system\n',
    'boot/vmlinuz-6.1-disk': kernel,
    'boot/initrd.img-6.1-disk': initrd,
    'boot/grub/grub.cfg': `set default=0\n${menuentry('Disk first', 'disk-first')}${menuentry('Disk second', 'disk-second')}`,
  }, dir);
  // The GPT disk: partition 1 swap at 1 MiB, partition 2 ext4 after it, each made on its own and copied in.
  const bls = path.join(dir, 'bls.img');
  ext4Image(bls, 48, BLS_LABEL, {
    'loader/entries/test-6.1.conf': 'title BLS on a partition\nversion 6.1\nlinux /vmlinuz-6.1\ninitrd /initrd.img-6.1\noptions console=ttyS0 kexec_ts.entry=bls-part\n',
    'vmlinuz-6.1': kernel,
    'initrd.img-6.1': initrd,
  }, dir);
  const swap = path.join(dir, 'swap.img');
  fs.writeFileSync(swap, '');
  fs.truncateSync(swap, 8 << 20);
  run('mkswap', ['-q', swap]);
  const gpt = path.join(dir, 'gpt.img');
  fs.writeFileSync(gpt, '');
  fs.truncateSync(gpt, (1 + 8 + 48 + 1) << 20);
  run('sfdisk', ['-q', gpt], 'label: gpt\nstart=1MiB, size=8MiB, type=S, name="swap"\nstart=9MiB, size=48MiB, type=L, name="boot"\n');
  const fd = fs.openSync(gpt, 'r+');
  try {
    fs.writeSync(fd, fs.readFileSync(swap), 0, 8 << 20, 1 << 20);
    fs.writeSync(fd, fs.readFileSync(bls), 0, 48 << 20, 9 << 20);
  } finally {
    fs.closeSync(fd);
  }
  return { system, gpt, swapPartuuid: run('sfdisk', ['--part-uuid', gpt, '1']).toLowerCase(), blsPartuuid: run('sfdisk', ['--part-uuid', gpt, '2']).toLowerCase() };
}

/** util-linux's blkid and its libraries (busybox's blkid cannot probe). */
function blkidInGuest(): GuestFile[] {
  if (HOST_BLKID === undefined) throw new Error("util-linux's blkid is needed in the guest");
  return [{ guestPath: '/usr/sbin/blkid', hostPath: HOST_BLKID, mode: 0o755 }, ...sharedLibrariesOf(HOST_BLKID).map((library) => ({ guestPath: library, hostPath: library, mode: 0o755 }))];
}

test('reboot --all-disks boots a menu entry of another disk, found by LABEL; list --all-disks names every device, GPT partitions by PARTUUID', vmTestOptions(), async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexec-ts-vm-disks-'));
  try {
    const disks = buildDisks(dir);
    const initramfs = path.join(dir, 'initramfs.cpio');
    writeScenarioInitramfs(initramfs, {
      extraFiles: blkidInGuest(),
      body: `${STEP_FUNCTION}
step LIST kexec-ts list --all-disks
step DRY kexec-ts reboot --all-disks PARTUUID=${disks.blsPartuuid} --dry-run
echo "KTS-OUR-MOUNTS:$(grep -c -e nvme -e kexec-ts-disks /proc/self/mountinfo)"
kexec-ts list --all-disks
kexec-ts reboot --all-disks LABEL=${SYSTEM_LABEL}:1 --force
echo "KTS-REBOOT-RETURNED:$?"
`,
    });
    const vm = await runQemu([
      '-accel', 'tcg', '-smp', '1', '-m', '1024', '-nographic', '-no-reboot', '-nic', 'none',
      '-kernel', cloudKernelFixture().vmlinuzPath, '-initrd', initramfs, '-append', 'console=ttyS0 panic=-1 quiet',
      // NVMe is built into Debian's cloud kernel; virtio-blk is a module.
      '-drive', `file=${disks.system},if=none,id=system,format=raw`, '-device', 'nvme,drive=system,serial=kts-system',
      '-drive', `file=${disks.gpt},if=none,id=gpt,format=raw`, '-device', 'nvme,drive=gpt,serial=kts-gpt',
    ], VM_TIMEOUT_MS);

    const list = stepResult(vm, 'LIST');
    assert.equal(list.exitCode, 0, JSON.stringify(list.json));
    const volumes = list.json.volumes as Array<Record<string, any>>;
    const system = volumes.find((volume) => volume.device.label === SYSTEM_LABEL);
    assert.ok(system, JSON.stringify(list.json));
    assert.equal(system.loader, 'grub');
    assert.equal(system.configFile, '/boot/grub/grub.cfg');
    const bls = volumes.find((volume) => volume.device.partuuid === disks.blsPartuuid);
    assert.ok(bls, JSON.stringify(list.json));
    assert.equal(bls.device.label, BLS_LABEL);
    assert.equal(bls.loader, 'bls');
    assert.match(bls.device.path, /^\/dev\/nvme\dn1p2$/);
    const entries = list.json.entries as Array<Record<string, any>>;
    assert.deepEqual(entries.filter((entry) => entry.device.label === SYSTEM_LABEL).map((entry) => [entry.title, entry.isDefault, entry.kernelFile]), [
      ['Disk first', true, '/boot/vmlinuz-6.1-disk'],
      ['Disk second', false, '/boot/vmlinuz-6.1-disk'],
    ]);
    assert.deepEqual(entries.filter((entry) => entry.device.partuuid === disks.blsPartuuid).map((entry) => entry.select), [`PARTUUID=${disks.blsPartuuid}:0`]);
    const swap = (list.json.skipped as Array<Record<string, any>>).find((skip) => skip.device.partuuid === disks.swapPartuuid);
    assert.equal(swap?.code, 'SWAP', JSON.stringify(list.json.skipped));
    // The GPT disk itself holds no file system: its partitions speak for it.
    assert.ok(![...volumes, ...list.json.skipped].some((item: Record<string, any>) => /^\/dev\/nvme\dn1$/.test(item.device.path) && item.device.fstype === null && item.code === 'NO_FILESYSTEM'));

    const dry = stepResult(vm, 'DRY');
    assert.equal(dry.exitCode, 0, JSON.stringify(dry.json));
    assert.equal(dry.json.device.partuuid, disks.blsPartuuid);
    assert.equal(dry.json.kernel.path, '/vmlinuz-6.1');
    assert.match(dry.json.cmdline, /kexec_ts\.entry=bls-part/);
    assert.equal(requireMarker(vm, 'OUR-MOUNTS'), '0', 'the guest never sees the disks mounted');

    assert.ok(!hasMarker(vm.serial, 'REBOOT-RETURNED'), describeVmRun(vm));
    assert.ok(hasMarker(vm.serial, SECOND_KERNEL_UP_MARKER), describeVmRun(vm));
    assert.match(requireMarker(vm, SECOND_KERNEL_CMDLINE_MARKER), /kexec_ts\.entry=disk-second( |$)/);
    assert.equal(vm.timedOut, false, describeVmRun(vm));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
