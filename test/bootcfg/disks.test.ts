// The pure parts of `list --all-disks` (src/bootcfg/disks/): blkid's output, the sysfs listing,
// what is mounted and what is skipped, naming a device, and the report's paths. The root test
// with real disk images is disks-root.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeBlkidValue, parseBlkidUdev } from '../../src/bootcfg/disks/blkid.js';
import { classifyDevice, DISK_MOUNT_FLAGS, explainMountError, type ProbeOutcome } from '../../src/bootcfg/disks/classify.js';
import { mergeIsoLists, volumeRelative } from '../../src/bootcfg/disks/report.js';
import { parseDiskEntrySpec } from '../../src/bootcfg/disks/select.js';
import { readSysfsBlockDevices, type SysfsBlockDevice, type SysfsProbe } from '../../src/bootcfg/disks/sysfs.js';
import { errorForTransport, errorFromTransport } from '../../src/bootcfg/disks/transport.js';
import { mountBaseFor } from '../../src/bootcfg/disks/scan.js';
import { DiskSkipCode, type DiskDevice } from '../../src/bootcfg/disks/types.js';
import { ErrorCode, KexecRefusedError, ValidationError } from '../../src/errors.js';
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY } from '../../src/syscall/numbers.js';
import type { IsoBootEntry } from '../../src/bootcfg/iso9660/boot-entries.js';

// `blkid -p -o udev /dev/loop0` (util-linux 2.38.1) on an ext4 made with `mkfs.ext4 -L 'my label é'`.
const BLKID_EXT4 = `ID_FS_LABEL=my_label_é
ID_FS_LABEL_ENC=my\\x20label\\x20é
ID_FS_UUID=8d06e2da-6197-46a4-9dbb-5457181a8d10
ID_FS_UUID_ENC=8d06e2da-6197-46a4-9dbb-5457181a8d10
ID_FS_VERSION=1.0
ID_FS_BLOCK_SIZE=1024
ID_FS_TYPE=ext4
ID_FS_USAGE=filesystem
`;

test('blkid udev output: the _ENC forms decoded, missing keys null, unknown keys kept', () => {
  const probe = parseBlkidUdev(BLKID_EXT4);
  assert.equal(probe.type, 'ext4');
  assert.equal(probe.usage, 'filesystem');
  assert.equal(probe.label, 'my label é');
  assert.equal(probe.uuid, '8d06e2da-6197-46a4-9dbb-5457181a8d10');
  assert.equal(probe.partEntryUuid, null);
  assert.equal(probe.fields.ID_FS_BLOCK_SIZE, '1024');
  assert.equal(decodeBlkidValue('a\\x2fb\\xc3\\xa9\\x'), 'a/bé\\x');
  assert.equal(parseBlkidUdev('').type, null);
  assert.equal(parseBlkidUdev('garbage\n=x\nlower=1\nID_FS_TYPE=\n').type, null);
});

test('blkid output past its cap is a typed error', () => {
  assert.throws(() => parseBlkidUdev('ID_FS_TYPE=ext4\n'.repeat(5000)), { code: ErrorCode.FORMAT_LIMIT_EXCEEDED });
});

function fakeSysfs(tree: Record<string, string>, links: Record<string, string>): SysfsProbe {
  return {
    list: (dir) => [...new Set(Object.keys(tree).filter((file) => file.startsWith(`${dir}/`)).map((file) => file.slice(dir.length + 1).split('/')[0]!))].sort(),
    readText: (file) => tree[file],
    realPath: (file) => links[file],
  };
}

test('sysfs: partitions know their disk and the disk its partitions; empty and RAM devices are left out', () => {
  const base = '/sys/class/block';
  const devices = readSysfsBlockDevices(fakeSysfs({
    [`${base}/sda/dev`]: '8:0\n', [`${base}/sda/size`]: '2097152\n', [`${base}/sda/ro`]: '0\n',
    [`${base}/sda1/dev`]: '8:1\n', [`${base}/sda1/size`]: '204800\n', [`${base}/sda1/partition`]: '1\n', [`${base}/sda1/holders/dm-0`]: '',
    [`${base}/loop0/dev`]: '7:0\n', [`${base}/loop0/size`]: '0\n',
    [`${base}/loop1/dev`]: '7:1\n', [`${base}/loop1/size`]: '8192\n', [`${base}/loop1/loop/backing_file`]: '/srv/esp.img\n', [`${base}/loop1/ro`]: '1\n',
    [`${base}/ram0/dev`]: '1:0\n', [`${base}/ram0/size`]: '8192\n',
    [`${base}/../evil/dev`]: '9:9\n',
  }, { [`${base}/sda1`]: '/sys/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1' }));
  assert.deepEqual(devices.map((device) => device.name), ['loop1', 'sda', 'sda1']);
  const [loop1, sda, sda1] = devices as [SysfsBlockDevice, SysfsBlockDevice, SysfsBlockDevice];
  assert.equal(sda.sizeBytes, 1 << 30);
  assert.deepEqual(sda.partitions, ['sda1']);
  assert.equal(sda1.parent, 'sda');
  assert.equal(sda1.partition, 1);
  assert.deepEqual(sda1.holders, ['dm-0']);
  assert.equal(loop1.loopBackingFile, '/srv/esp.img');
  assert.equal(loop1.readOnly, true);
  assert.equal(loop1.devPath, '/dev/loop1');
});

const DISK: SysfsBlockDevice = { name: 'sdb', devPath: '/dev/sdb', majorMinor: '8:16', sizeBytes: 1 << 30, partition: undefined, parent: undefined, partitions: [], readOnly: false, holders: [], dmName: undefined, loopBackingFile: undefined };
const found = (fields: string): ProbeOutcome => ({ kind: 'found', probe: parseBlkidUdev(fields) });

test('what is mounted: read-only, nosuid, nodev, noexec; journals not replayed (ext4 noload, XFS norecovery)', () => {
  assert.equal(DISK_MOUNT_FLAGS, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC);
  assert.deepEqual(classifyDevice(DISK, found('ID_FS_TYPE=ext4\n')), { action: 'mount', fstype: 'ext4', flags: DISK_MOUNT_FLAGS, data: 'noload' });
  assert.deepEqual(classifyDevice(DISK, found('ID_FS_TYPE=xfs\n')), { action: 'mount', fstype: 'xfs', flags: DISK_MOUNT_FLAGS, data: 'norecovery' });
  assert.deepEqual(classifyDevice(DISK, found('ID_FS_TYPE=vfat\nID_FS_VERSION=FAT32\n')), { action: 'mount', fstype: 'vfat', flags: DISK_MOUNT_FLAGS, data: null });
  assert.deepEqual(classifyDevice(DISK, found('ID_FS_TYPE=iso9660\n')), { action: 'mount', fstype: 'iso9660', flags: DISK_MOUNT_FLAGS, data: null });
});

test('what is skipped, one code per cause: LUKS, LVM, swap, RAID members, nothing, two signatures, unknown types, an unreadable device', () => {
  const code = (outcome: ProbeOutcome, device = DISK) => {
    const decision = classifyDevice(device, outcome);
    return decision.action === 'skip' ? decision.code : decision.action;
  };
  assert.equal(code(found('ID_FS_TYPE=crypto_LUKS\nID_FS_USAGE=crypto\n')), DiskSkipCode.ENCRYPTED);
  assert.equal(code(found('ID_FS_TYPE=LVM2_member\nID_FS_USAGE=raid\n')), DiskSkipCode.LVM_PHYSICAL_VOLUME);
  assert.equal(code(found('ID_FS_TYPE=swap\nID_FS_USAGE=other\n')), DiskSkipCode.SWAP);
  assert.equal(code(found('ID_FS_TYPE=linux_raid_member\nID_FS_USAGE=raid\n')), DiskSkipCode.CONTAINER_MEMBER);
  assert.equal(code(found('ID_FS_TYPE=hfsplus\nID_FS_USAGE=filesystem\n')), DiskSkipCode.UNSUPPORTED_FILESYSTEM);
  assert.equal(code({ kind: 'nothing' }), DiskSkipCode.NO_FILESYSTEM);
  assert.equal(code({ kind: 'ambivalent' }), DiskSkipCode.AMBIVALENT);
  assert.equal(code(found('ID_PART_TABLE_TYPE=gpt\n')), DiskSkipCode.PARTITIONS_NOT_VISIBLE);
  // A disk whose partitions are devices is said nothing about: its partitions are listed.
  assert.equal(code(found('ID_PART_TABLE_TYPE=gpt\n'), { ...DISK, partitions: ['sdb1'] }), 'omit');
  const unreadable = classifyDevice(DISK, { kind: 'unreadable', errno: 'EPERM' });
  assert.ok(unreadable.action === 'skip' && unreadable.code === DiskSkipCode.UNREADABLE && unreadable.errno === 'EPERM');
  assert.match(unreadable.reason, /EPERM \(Operation not permitted\)/);
});

test('a mount errno in words', () => {
  assert.match(explainMountError('ENODEV', 'btrfs'), /no btrfs driver/);
  assert.match(explainMountError('EINVAL', 'ext4'), /damaged superblock/);
  assert.match(explainMountError('EUCLEAN', 'ext4'), /corrupt/);
  assert.match(explainMountError('ENOTUNIQ', 'vfat'), /ENOTUNIQ \(Name not unique on network\)/);
});

const device = (overrides: Partial<DiskDevice>): DiskDevice => ({ path: '/dev/sda1', name: 'sda1', sizeBytes: 1, fstype: 'ext4', uuid: null, partuuid: null, label: null, partlabel: null, ...overrides });
const ROOT = device({ path: '/dev/sda2', name: 'sda2', uuid: '0f3e1c52-2b7e-4a6b-9d38-5c1d2e3f4a5b', partuuid: '6a1b2c3d-0002-4e5f-8a9b-0c1d2e3f4a5b', label: 'root' });
const ESP = device({ path: '/dev/sda1', name: 'sda1', fstype: 'vfat', uuid: 'B1C2-D3E4', label: 'ESP:A' });
const RESCUE = device({ path: '/dev/sdb1', name: 'sdb1', uuid: '11111111-2222-3333-4444-555555555555', label: 'root' });

test('DEVICE:ID: by UUID (any case), PARTUUID, LABEL, /dev path or NAME=value; no ID is the default', () => {
  const devices = [ROOT, ESP, RESCUE];
  assert.deepEqual(parseDiskEntrySpec('0F3E1C52-2B7E-4A6B-9D38-5C1D2E3F4A5B:3', devices), { device: ROOT, entry: '3' });
  assert.deepEqual(parseDiskEntrySpec('PARTUUID=6a1b2c3d-0002-4e5f-8a9b-0c1d2e3f4a5b:gnulinux-simple-x', devices), { device: ROOT, entry: 'gnulinux-simple-x' });
  assert.deepEqual(parseDiskEntrySpec('/dev/sdb1', devices), { device: RESCUE, entry: undefined });
  assert.deepEqual(parseDiskEntrySpec('/dev/sdb1:', devices), { device: RESCUE, entry: undefined });
  // A label holding ':' is found by trying every split.
  assert.deepEqual(parseDiskEntrySpec('ESP:A:arch.conf', devices), { device: ESP, entry: 'arch.conf' });
  assert.deepEqual(parseDiskEntrySpec('UUID=B1C2-D3E4:Debian*', devices), { device: ESP, entry: 'Debian*' });
});

test('DEVICE:ID: a name two devices share, or none has, is refused naming the devices', () => {
  const devices = [ROOT, ESP, RESCUE];
  assert.throws(() => parseDiskEntrySpec('root:0', devices), (error: Error & { code?: string }) => error.code === ErrorCode.NO_BOOT_ENTRY && /could name 2 devices: \/dev\/sda2 "root".*\/dev\/sdb1 "root"/.test(error.message));
  assert.throws(() => parseDiskEntrySpec('LABEL=data:0', devices), (error: Error & { code?: string; remedy?: string }) => error.code === ErrorCode.NO_BOOT_ENTRY && /\/dev\/sda1 "ESP:A" UUID=B1C2-D3E4/.test(error.remedy ?? ''));
});

test("the report speaks of the file system's own paths and of the device, never of the private mount point", () => {
  const mount = '/tmp/sdb1';
  const rewritten = volumeRelative({ kernelFile: '/tmp/sdb1/boot/vmlinuz', root: '/tmp/sdb1', message: 'kernel /vmlinuz not found (looked for /boot/vmlinuz under /tmp/sdb1)', other: '/tmp/sdb10/x', quoted: "'/tmp/sdb1': gone", n: 3, list: ['/tmp/sdb1/a'] }, mount, RESCUE);
  assert.deepEqual(rewritten, { kernelFile: '/boot/vmlinuz', root: '/', message: 'kernel /vmlinuz not found (looked for /boot/vmlinuz under /dev/sdb1:/)', other: '/tmp/sdb10/x', quoted: "'/dev/sdb1:/': gone", n: 3, list: ['/a'] });
});

test('several ISO files: each keeps its order, only the first default stays one', () => {
  const iso = (id: string, isDefault: boolean) => ({ id, title: id, isDefault } as unknown as IsoBootEntry);
  const merged = mergeIsoLists([{ entries: [iso('a0', false), iso('a1', true)], warnings: [] }, { entries: [iso('b0', true)], warnings: [{ code: 'UNSUPPORTED', message: 'x' }] }]);
  assert.deepEqual(merged.entries.map((entry) => [entry.id, entry.isDefault]), [['a0', false], ['a1', true], ['b0', false]]);
  assert.equal(merged.warnings.length, 1);
});

test('an error from the reading process comes back as its class, code, remedy and facts', () => {
  const refused = new KexecRefusedError(ErrorCode.LOCKDOWN_REFUSED, 'refused', { syscall: 'kexec_file_load', errno: 1, errnoName: 'EPERM', reason: 'locked down', kernelLog: ['Lockdown: ...'] }, { remedy: 'boot without lockdown' });
  const back = errorFromTransport(JSON.parse(JSON.stringify(errorForTransport(refused))));
  assert.ok(back instanceof KexecRefusedError);
  assert.equal(back.code, ErrorCode.LOCKDOWN_REFUSED);
  assert.equal(back.reason, 'locked down');
  assert.deepEqual(back.kernelLog, ['Lockdown: ...']);
  assert.equal(back.remedy, 'boot without lockdown');
  const rejected = errorFromTransport(errorForTransport(new ValidationError(ErrorCode.INPUT_NOT_FOUND, 'gone', { path: '/boot/x' })));
  assert.ok(rejected instanceof ValidationError && rejected.path === '/boot/x');
  // A bug stays a bug (exit 1), not a typed error.
  const bug = errorFromTransport(errorForTransport(new TypeError('x is undefined')));
  assert.equal(bug.constructor, Error);
});

test('the mount points never cover what the reading process still needs: a checkout or node under /tmp moves them on', () => {
  const all = (): boolean => true;
  assert.equal(mountBaseFor(['/work/main', '/usr/bin/node'], all), '/tmp');
  assert.equal(mountBaseFor(['/tmp/ci-clone', '/usr/bin/node'], all), '/mnt', 'a load imports kexec-ts modules after the mount');
  assert.equal(mountBaseFor(['/tmp/x', '/mnt/node/bin/node'], all), '/run');
  assert.equal(mountBaseFor(['/tmpfoo/x'], all), '/tmp', 'only whole path components count');
  assert.equal(mountBaseFor(['/tmp/x'], (path) => path !== '/mnt'), '/run');
  assert.equal(mountBaseFor(['/tmp/a', '/mnt/b', '/run/c'], all), undefined);
});
