/**
 * The block devices the kernel has, from /sys/class/block (Documentation/ABI/stable/sysfs-block):
 * one entry per disk and partition, whatever made it (SCSI, NVMe, virtio, loop, device mapper).
 * Pure: the tree comes through a probe, so tests hand in a listing.
 */

export interface SysfsProbe {
  /** Names in a directory, sorted; [] when it is not one. */
  list(dir: string): string[];
  /** A small attribute file's text, or undefined. */
  readText(file: string): string | undefined;
  /** The directory a /sys/class/block/NAME link points to, or undefined. */
  realPath(file: string): string | undefined;
}

export interface SysfsBlockDevice {
  /** The kernel's name, which is also its name under /dev (devtmpfs). */
  readonly name: string;
  readonly devPath: string;
  /** MAJOR:MINOR as `dev` says. */
  readonly majorMinor: string;
  /** `size` counts 512-byte sectors whatever the device's block size. */
  readonly sizeBytes: number;
  /** Its number in its disk's table, for a partition. */
  readonly partition: number | undefined;
  /** The disk a partition is on. */
  readonly parent: string | undefined;
  /** The kernel names of its partitions. */
  readonly partitions: string[];
  readonly readOnly: boolean;
  /** Devices built on this one (dm-crypt, LVM, md): it is in use by them. */
  readonly holders: string[];
  /** For device mapper: its name (/dev/mapper/NAME). */
  readonly dmName: string | undefined;
  /** For a loop device: the file behind it. */
  readonly loopBackingFile: string | undefined;
}

export const SYSFS_BLOCK = '/sys/class/block';

/** Caps on what sysfs may list: a big storage server has thousands of devices. */
export const SYSFS_LIMITS = { devices: 4096 } as const;

/**
 * Devices that cannot hold a file system to boot from: RAM disks (the `brd` driver, major 1) are
 * the machine's own memory, and a device of size 0 has nothing in it (a loop device with no file,
 * a drive with no medium).
 */
function worthProbing(device: SysfsBlockDevice): boolean {
  return device.sizeBytes > 0 && !device.majorMinor.startsWith('1:');
}

export function readSysfsBlockDevices(probe: SysfsProbe, root = SYSFS_BLOCK): SysfsBlockDevice[] {
  const names = probe.list(root).slice(0, SYSFS_LIMITS.devices);
  const devices = names.flatMap((name): SysfsBlockDevice[] => {
    // A name is a directory name under /dev: nothing that could climb out of it.
    if (!/^[A-Za-z0-9._:+-]+$/.test(name) || name.startsWith('.')) return [];
    const dir = `${root}/${name}`;
    const text = (file: string): string | undefined => probe.readText(`${dir}/${file}`)?.trim();
    const partitionText = text('partition');
    const partition = partitionText !== undefined && /^\d+$/.test(partitionText) ? Number(partitionText) : undefined;
    const real = probe.realPath(dir);
    const parent = partition !== undefined && real !== undefined ? real.split('/').at(-2) : undefined;
    const sectors = Number(text('size'));
    const backing = text('loop/backing_file');
    const dmName = text('dm/name');
    return [{
      name,
      devPath: `/dev/${name}`,
      majorMinor: text('dev') ?? '',
      sizeBytes: Number.isSafeInteger(sectors * 512) && sectors >= 0 ? sectors * 512 : 0,
      partition,
      parent,
      partitions: [],
      readOnly: text('ro') === '1',
      holders: probe.list(`${dir}/holders`),
      dmName: dmName === '' ? undefined : dmName,
      loopBackingFile: backing === '' ? undefined : backing,
    }];
  });
  const byName = new Map(devices.map((device) => [device.name, device]));
  for (const device of devices) {
    if (device.parent !== undefined) byName.get(device.parent)?.partitions.push(device.name);
  }
  return devices.filter(worthProbing);
}
