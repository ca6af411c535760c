import { closeSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ErrorCode, KexecError } from '../../../errors.js';

/**
 * Where the capture initramfs saves dumps when not told: the filesystem that holds the dump
 * directory on this running system (/var/crash on the root filesystem, or on /var when that is
 * its own), named by its UUID so the capture kernel finds it whatever the device is called
 * there — Fedora's kdump.conf default ("path /var/crash" on the root filesystem).
 */

export interface MountEntry {
  readonly majorMinor: string;
  /** The mount point, with the kernel's octal escapes (\040 for a space) decoded. */
  readonly mountPoint: string;
  readonly fstype: string;
  readonly source: string;
}

/** /proc/self/mountinfo (Documentation/filesystems/proc.rst, 3.5): fields, then " - ", then type, source, options. */
export function parseMountinfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const separator = line.indexOf(' - ');
    if (separator === -1) continue;
    const before = line.slice(0, separator).split(' ');
    const after = line.slice(separator + 3).split(' ');
    if (before.length < 5 || after.length < 2) continue;
    entries.push({ majorMinor: before[2]!, mountPoint: unescapeOctal(before[4]!), fstype: after[0]!, source: unescapeOctal(after[1]!) });
  }
  return entries;
}

function unescapeOctal(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_match, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/** The mount that holds `path`: the longest mount point that is a prefix of it (the last one mounted wins). */
export function mountHolding(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const entry of entries) {
    const prefix = entry.mountPoint === '/' ? '/' : `${entry.mountPoint}/`;
    if (path !== entry.mountPoint && !path.startsWith(prefix)) continue;
    if (best === undefined || entry.mountPoint.length >= best.mountPoint.length) best = entry;
  }
  return best;
}

/** Filesystems that are not a disk the capture kernel could mount again. */
const NOT_A_DISK = new Set(['overlay', 'tmpfs', 'ramfs', 'rootfs', 'squashfs', 'nfs', 'nfs4', 'cifs', 'fuse', 'virtiofs', '9p', 'zfs', 'devtmpfs', 'proc', 'sysfs']);

export interface DumpTarget {
  /** "UUID=..." for /init's findfs. */
  readonly device: string;
  /** The block device's number here ("254:1"), to find the drivers it needs. */
  readonly majorMinor: string;
  readonly fstype: string;
  /** The dump directory relative to that filesystem's root. */
  readonly directory: string;
  /** How it was found, for the report. */
  readonly description: string;
}

/** Finds the filesystem holding `dumpDir` on this machine and its UUID; throws, saying what to pass instead, when it cannot. */
export function detectDumpTarget(dumpDir: string, root = '/'): DumpTarget {
  const remedy = 'Say where dumps go: --dump-device UUID=... (or LABEL=..., or a device path) and --dump-fstype; `lsblk -f` lists them.';
  let entries: MountEntry[];
  try {
    entries = parseMountinfo(readFileSync(join(root, 'proc/self/mountinfo'), 'utf8'));
  } catch (cause) {
    throw new KexecError(ErrorCode.CAPTURE_INITRD_INPUT_UNUSABLE, 'Cannot read /proc/self/mountinfo to find the filesystem for dumps.', { cause, remedy });
  }
  const mount = mountHolding(entries, dumpDir);
  if (mount === undefined || NOT_A_DISK.has(mount.fstype) || !mount.source.startsWith('/dev/')) {
    throw new KexecError(
      ErrorCode.CAPTURE_INITRD_INPUT_UNUSABLE,
      `${dumpDir} is on ${mount === undefined ? 'no mounted filesystem' : `${mount.source} (${mount.fstype})`}, not on a disk filesystem the capture kernel can mount.`,
      { remedy },
    );
  }
  const uuid = uuidOf(mount.majorMinor, root) ?? extUuidFromSuperblock(join(root, mount.source), mount.fstype);
  const relativeDir = mount.mountPoint === '/' ? dumpDir : dumpDir.slice(mount.mountPoint.length) || '/';
  const where = `${mount.source} (${mount.fstype}, mounted on ${mount.mountPoint})`;
  if (uuid === undefined) {
    // No udev links and no superblock we read: the device's name, which the same kernel on the
    // same machine gives it again in the capture boot (less sure than a UUID).
    return { device: mount.source, majorMinor: mount.majorMinor, fstype: mount.fstype, directory: relativeDir, description: `${where}, by device name: no UUID found for it` };
  }
  return { device: `UUID=${uuid}`, majorMinor: mount.majorMinor, fstype: mount.fstype, directory: relativeDir, description: where };
}

/**
 * The kernel modules behind a block device on this machine, found in sysfs as udev would: from
 * /sys/dev/block/MAJ:MIN up the device tree, each device's driver and that driver's module
 * (a partition's disk, the disk's controller, the bus it sits on). Built-in drivers have no
 * module link; the caller drops those modules.builtin lists.
 */
export function driverModulesFor(majorMinor: string, root = '/'): string[] {
  let path: string;
  try {
    path = realpathSync(join(root, 'sys/dev/block', majorMinor));
  } catch {
    return [];
  }
  const devices = join(realpathSync(join(root, 'sys')), 'devices');
  const modules: string[] = [];
  for (let directory = path; directory.startsWith(`${devices}/`); directory = dirname(directory)) {
    for (const link of ['driver/module', 'device/driver/module']) {
      try {
        const name = basename(realpathSync(join(directory, link)));
        if (!modules.includes(name)) modules.push(name);
      } catch {
        // no driver here, or a built-in one
      }
    }
  }
  return modules;
}

/** ext2/3/4: s_magic 0xEF53 at 0x38 and the 16-byte s_uuid at 0x68 of the superblock at 1024 (ext4 disk layout). */
function extUuidFromSuperblock(device: string, fstype: string): string | undefined {
  if (!/^ext[234]$/.test(fstype)) return undefined;
  let superblock: Uint8Array;
  try {
    const fd = openSync(device, 'r');
    try {
      superblock = Buffer.alloc(1024);
      if (readSync(fd, superblock, 0, 1024, 1024) !== 1024) return undefined;
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  if (superblock[0x38] !== 0x53 || superblock[0x39] !== 0xef) return undefined;
  const hex = Buffer.from(superblock.subarray(0x68, 0x78)).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function uuidOf(majorMinor: string, root: string): string | undefined {
  const [major, minor] = majorMinor.split(':').map(Number);
  const directory = join(root, 'dev/disk/by-uuid');
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return undefined;
  }
  for (const name of names) {
    try {
      const rdev = statSync(join(directory, name), { bigint: true }).rdev;
      if (majorOf(rdev) === major && minorOf(rdev) === minor) return name;
    } catch {
      // a stale link
    }
  }
  return undefined;
}

/** glibc's gnu_dev_major/minor for Linux's 64-bit dev_t. */
function majorOf(rdev: bigint): number {
  return Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n));
}
function minorOf(rdev: bigint): number {
  return Number((rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n));
}
