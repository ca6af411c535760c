/**
 * Every attached disk's boot entries (`list --all-disks`, `reboot --all-disks DEVICE:ID`).
 * all-disks.ts is the API; the decisions are pure (sysfs.ts, blkid.ts, classify.ts, select.ts,
 * report.ts); scan.ts and child.ts do the mounting, in a process of their own.
 */
export { readAllDisks, loadFromDisk, type AllDisksOptions, type LoadFromDiskOptions } from './all-disks.js';
export type { DiskLoadOutcome } from './protocol.js';
export { parseBlkidUdev, type BlkidProbe } from './blkid.js';
export { classifyDevice, explainMountError, DISK_MOUNT_FLAGS, type DeviceDecision, type ProbeOutcome } from './classify.js';
export { parseDiskEntrySpec, devicesNamed, preferredDeviceName, type DiskEntrySpec } from './select.js';
export { readSysfsBlockDevices, type SysfsBlockDevice, type SysfsProbe } from './sysfs.js';
export { DiskSkipCode, type AllDisksReport, type DiskDevice, type DiskEntry, type DiskVolume, type SkippedDevice } from './types.js';
