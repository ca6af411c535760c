/**
 * What to do with each block device: mount it (read-only, with the options that keep the driver
 * from writing) or pass it over with the reason. Pure: the device comes from sysfs.ts, the
 * probe from blkid.ts; the caller mounts.
 */
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY } from '../../syscall/numbers.js';
import { errnoDescription, errnoNumber } from '../../syscall/errno.js';
import type { BlkidProbe } from './blkid.js';
import type { SysfsBlockDevice } from './sysfs.js';
import { DiskSkipCode, type DiskDevice } from './types.js';

/** What probing a device gave. */
export type ProbeOutcome =
  | { readonly kind: 'found'; readonly probe: BlkidProbe }
  /** blkid exit 2: no signature. */
  | { readonly kind: 'nothing' }
  /** blkid exit 8: several signatures. */
  | { readonly kind: 'ambivalent' }
  /** The device could not be opened (EPERM from a device cgroup, EACCES, ENOMEDIUM...). */
  | { readonly kind: 'unreadable'; readonly errno: string }
  | { readonly kind: 'failed'; readonly message: string };

export type DeviceDecision =
  | { readonly action: 'mount'; readonly fstype: string; readonly flags: number; readonly data: string | null }
  | { readonly action: 'skip'; readonly code: DiskSkipCode; readonly reason: string; readonly errno?: string }
  /** A disk whose partitions are listed on their own: nothing to say about the disk itself. */
  | { readonly action: 'omit' };

/** Read-only, and nothing on it runs or opens devices (mount(2) flags). */
export const DISK_MOUNT_FLAGS = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;

/**
 * blkid's TYPE -> the kernel's file system name and the data that keeps a read-only mount from
 * writing. A journal is replayed even on a read-only mount unless told not to (ext4 `noload`,
 * XFS `norecovery`, btrfs `nologreplay`: each driver's documentation under
 * Documentation/filesystems/); the others do not write when mounted read-only.
 */
const MOUNTABLE: Readonly<Record<string, { readonly fstype: string; readonly data: string | null }>> = {
  ext2: { fstype: 'ext2', data: null },
  ext3: { fstype: 'ext3', data: 'noload' },
  ext4: { fstype: 'ext4', data: 'noload' },
  vfat: { fstype: 'vfat', data: null },
  exfat: { fstype: 'exfat', data: null },
  xfs: { fstype: 'xfs', data: 'norecovery' },
  btrfs: { fstype: 'btrfs', data: 'nologreplay' },
  f2fs: { fstype: 'f2fs', data: null },
  iso9660: { fstype: 'iso9660', data: null },
  udf: { fstype: 'udf', data: null },
  squashfs: { fstype: 'squashfs', data: null },
  erofs: { fstype: 'erofs', data: null },
  ntfs: { fstype: 'ntfs3', data: null },
};

const ENCRYPTED = new Set(['crypto_LUKS', 'BitLocker', 'TrueCrypt', 'VeraCrypt']);
const SWAP = new Set(['swap', 'swsuspend']);
const MEMBERS: Readonly<Record<string, string>> = {
  linux_raid_member: 'a Linux software RAID (md) member',
  isw_raid_member: 'an Intel RAID member',
  ddf_raid_member: 'a DDF RAID member',
  zfs_member: 'a ZFS pool member',
  bcache: 'a bcache backing or cache device',
  drbd: 'a DRBD device',
  ceph: 'a Ceph OSD',
};

export function classifyDevice(device: SysfsBlockDevice, outcome: ProbeOutcome): DeviceDecision {
  const skip = (code: DiskSkipCode, reason: string, errno?: string): DeviceDecision => ({ action: 'skip', code, reason, ...(errno !== undefined ? { errno } : {}) });
  switch (outcome.kind) {
    case 'unreadable':
      return skip(DiskSkipCode.UNREADABLE, `cannot be opened: ${outcome.errno} (${errnoDescription(errnoNumber(outcome.errno) ?? -1)})${outcome.errno === 'EPERM' ? ', the device may be denied to this process (a container\'s device rules)' : ''}`, outcome.errno);
    case 'failed':
      return skip(DiskSkipCode.UNREADABLE, `could not be probed: ${outcome.message}`);
    case 'ambivalent':
      return skip(DiskSkipCode.AMBIVALENT, 'blkid found more than one signature on it; it is not mounted, since either reading could be wrong (wipefs shows them)');
    case 'nothing':
      if (device.partitions.length > 0) return { action: 'omit' };
      return skip(DiskSkipCode.NO_FILESYSTEM, 'no file system or other signature found (empty, garbage, or a format blkid does not know)');
    case 'found':
      break;
  }
  const { type, usage, partTableType } = outcome.probe;
  if (type === null) {
    if (device.partitions.length > 0) return { action: 'omit' };
    if (partTableType !== null) {
      return skip(DiskSkipCode.PARTITIONS_NOT_VISIBLE, `a ${partTableType} partition table whose partitions the kernel has not made devices of (partprobe, or losetup -P for a loop device)`);
    }
    return skip(DiskSkipCode.NO_FILESYSTEM, 'no file system signature found');
  }
  if (ENCRYPTED.has(type) || usage === 'crypto') {
    return skip(DiskSkipCode.ENCRYPTED, `encrypted (${type}): open it first (cryptsetup open); the opened device is then listed`);
  }
  if (type === 'LVM2_member' || type === 'LVM1_member') {
    return skip(DiskSkipCode.LVM_PHYSICAL_VOLUME, `an LVM physical volume: its logical volumes are listed once active (vgchange -ay)`);
  }
  if (SWAP.has(type)) return skip(DiskSkipCode.SWAP, `swap space (${type}), no files on it`);
  const member = MEMBERS[type];
  if (member !== undefined || usage === 'raid') {
    return skip(DiskSkipCode.CONTAINER_MEMBER, `${member ?? `a member of a ${type} array`}: the assembled device is listed when it exists`);
  }
  const mountable = MOUNTABLE[type];
  if (mountable === undefined) {
    return skip(DiskSkipCode.UNSUPPORTED_FILESYSTEM, `a ${type} file system, which kexec-ts does not mount (it reads ${Object.keys(MOUNTABLE).join(', ')})`);
  }
  return { action: 'mount', fstype: mountable.fstype, flags: DISK_MOUNT_FLAGS, data: mountable.data };
}

/** mount(2)'s errno for this file system, in words (mount(2) ERRORS, and what drivers return). */
export function explainMountError(errno: string, fstype: string): string {
  switch (errno) {
    case 'ENODEV':
      return `this kernel has no ${fstype} driver (not built, or its module not loaded: modprobe ${fstype})`;
    case 'EINVAL':
      return `the ${fstype} driver refused it: a damaged superblock, a feature this kernel's driver lacks, or an option it does not take`;
    case 'EUCLEAN':
      return `the ${fstype} driver found the file system corrupt (fsck it)`;
    case 'EIO':
      return 'the device reported an I/O error while the superblock was read (dmesg says more)';
    case 'EBUSY':
      return 'the device is held exclusively by something else (device mapper, md, or a mount that excludes others)';
    case 'EPERM':
    case 'EACCES':
      return `not permitted (${errno}): CAP_SYS_ADMIN is missing, or a security module or the device's rules refuse it`;
    case 'ENXIO':
    case 'ENOENT':
    case 'ENOTBLK':
      return `the device is gone or is not a block device (${errno})`;
    case 'ENOMEDIUM':
      return 'there is no medium in the drive';
    default:
      return `mount failed with ${errno} (${errnoDescription(errnoNumber(errno) ?? -1)})`;
  }
}

/** The device as the report names it. */
export function diskDevice(device: SysfsBlockDevice, outcome: ProbeOutcome): DiskDevice {
  const probe = outcome.kind === 'found' ? outcome.probe : undefined;
  return {
    path: device.devPath,
    name: device.name,
    sizeBytes: device.sizeBytes,
    fstype: probe?.type ?? null,
    uuid: probe?.uuid ?? null,
    partuuid: probe?.partEntryUuid ?? null,
    label: probe?.label ?? null,
    partlabel: probe?.partEntryName ?? null,
  };
}
