/**
 * What `list --all-disks` finds: each block device as a person names it, the file systems read
 * (with their boot entries) and the devices passed over with the reason. Plain data: it crosses
 * from the process that mounts (src/bootcfg/disks/child.ts) to the caller as JSON.
 */
import type { ListedEntry } from '../machine.js';
import type { VolumeShape } from '../volume-shape.js';
import type { BootLoaderKind } from '../resolve.js';

/** A block device, with every name a user may give it (`reboot --all-disks DEVICE:ID`). */
export interface DiskDevice {
  /** /dev/NAME. */
  readonly path: string;
  /** The kernel's name (sda1, nvme0n1p2, loop3, dm-0). */
  readonly name: string;
  readonly sizeBytes: number;
  /** What blkid found there: a file system type, crypto_LUKS, LVM2_member, swap...; null for nothing. */
  readonly fstype: string | null;
  /** The file system's UUID (blkid's UUID; for LUKS the header's, for swap its own). */
  readonly uuid: string | null;
  /** The partition's UUID in its GPT (or the MBR's "SIGNATURE-NN"); null for a whole disk. */
  readonly partuuid: string | null;
  readonly label: string | null;
  /** The partition's name in its GPT. */
  readonly partlabel: string | null;
}

/** Why a device was not read, one code per cause; stable (scripts switch on it). */
export const DiskSkipCode = {
  ENCRYPTED: 'ENCRYPTED',
  LVM_PHYSICAL_VOLUME: 'LVM_PHYSICAL_VOLUME',
  SWAP: 'SWAP',
  /** A member of something bigger: RAID, ZFS, bcache; the assembled device is listed if it exists. */
  CONTAINER_MEMBER: 'CONTAINER_MEMBER',
  NO_FILESYSTEM: 'NO_FILESYSTEM',
  /** blkid found more than one signature: mounting either could be wrong. */
  AMBIVALENT: 'AMBIVALENT',
  UNSUPPORTED_FILESYSTEM: 'UNSUPPORTED_FILESYSTEM',
  /** A partition table whose partitions the kernel has not made devices of. */
  PARTITIONS_NOT_VISIBLE: 'PARTITIONS_NOT_VISIBLE',
  /** The device could not be opened or probed. */
  UNREADABLE: 'UNREADABLE',
  MOUNT_FAILED: 'MOUNT_FAILED',
  /** Mounted, but reading its boot configuration failed. */
  READ_FAILED: 'READ_FAILED',
} as const;

export type DiskSkipCode = (typeof DiskSkipCode)[keyof typeof DiskSkipCode];

export interface SkippedDevice {
  readonly device: DiskDevice;
  readonly code: DiskSkipCode;
  /** For people: what was found and why it is not read. */
  readonly reason: string;
  /** The errno of a failed open or mount, by name (EINVAL, EPERM...). */
  readonly errno?: string;
}

/** One file system that was mounted and read. */
export interface DiskVolume {
  readonly device: DiskDevice;
  readonly shape: VolumeShape;
  readonly shapeEvidence: string;
  readonly loader: BootLoaderKind;
  /** Paths from here on are the file system's own, from its root ("/boot/grub/grub.cfg"). */
  readonly configFile: string | null;
  /** The ISO files read from the --iso-dir folders. */
  readonly isoFiles: string[];
  readonly entryCount: number;
  readonly warnings: string[];
}

/** A boot entry of one device: its index and id count on that device (DEVICE:ID). */
export type DiskEntry = ListedEntry & {
  readonly device: DiskDevice;
  readonly indexOnDevice: number;
  /** What `reboot --all-disks` takes to boot exactly this entry. */
  readonly select: string;
};

export interface AllDisksReport {
  readonly volumes: DiskVolume[];
  /** Every device's entries, device by device, each device's own order and default. */
  readonly entries: DiskEntry[];
  readonly skipped: SkippedDevice[];
}
