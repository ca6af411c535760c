/**
 * `reboot --all-disks DEVICE:ID`: which device the user means, and which of its entries. Pure.
 *
 * DEVICE is a /dev path, a UUID, a PARTUUID or a LABEL (also written `UUID=...`, `PARTUUID=...`,
 * `LABEL=...` as in fstab); ID is what `reboot ENTRY` takes on that device's own list (id, title,
 * index, glob), or nothing for that device's default. Labels and /dev/disk/by-path names may
 * hold ':' themselves, so every ':' is tried as the split; exactly one reading may name a device.
 */
import { ErrorCode, KexecError } from '../../errors.js';
import type { DiskDevice } from './types.js';

export interface DiskEntrySpec {
  readonly device: DiskDevice;
  /** undefined: the device's default entry. */
  readonly entry: string | undefined;
}

/** Every name `device` answers to, with whether the match ignores case (UUIDs are hex). */
function deviceNames(device: DiskDevice): Array<{ name: string; ignoreCase: boolean }> {
  const names: Array<{ name: string; ignoreCase: boolean }> = [{ name: device.path, ignoreCase: false }, { name: device.name, ignoreCase: false }];
  if (device.uuid !== null) names.push({ name: device.uuid, ignoreCase: true }, { name: `UUID=${device.uuid}`, ignoreCase: true });
  if (device.partuuid !== null) names.push({ name: device.partuuid, ignoreCase: true }, { name: `PARTUUID=${device.partuuid}`, ignoreCase: true });
  if (device.label !== null) names.push({ name: device.label, ignoreCase: false }, { name: `LABEL=${device.label}`, ignoreCase: false });
  if (device.partlabel !== null) names.push({ name: `PARTLABEL=${device.partlabel}`, ignoreCase: false });
  return names;
}

export function devicesNamed(devices: readonly DiskDevice[], name: string): DiskDevice[] {
  return devices.filter((device) => deviceNames(device).some((known) => (known.ignoreCase ? known.name.toLowerCase() === name.toLowerCase() : known.name === name)));
}

/** How a device is shown in messages and in an entry's `select`: its most stable name. */
export function preferredDeviceName(device: DiskDevice): string {
  return device.partuuid !== null ? `PARTUUID=${device.partuuid}` : device.uuid !== null ? `UUID=${device.uuid}` : device.path;
}

function describe(device: DiskDevice): string {
  return `${device.path}${device.label !== null ? ` "${device.label}"` : ''}${device.uuid !== null ? ` UUID=${device.uuid}` : ''}`;
}

export function parseDiskEntrySpec(spec: string, devices: readonly DiskDevice[]): DiskEntrySpec {
  const readings: Array<{ devices: DiskDevice[]; entry: string | undefined }> = [];
  const whole = devicesNamed(devices, spec);
  if (whole.length > 0) readings.push({ devices: whole, entry: undefined });
  for (let at = spec.indexOf(':'); at !== -1; at = spec.indexOf(':', at + 1)) {
    const named = devicesNamed(devices, spec.slice(0, at));
    if (named.length > 0) readings.push({ devices: named, entry: spec.slice(at + 1) === '' ? undefined : spec.slice(at + 1) });
  }
  const remedy = `Name the device by UUID, PARTUUID, LABEL or /dev path; \`kexec-ts list --all-disks\` shows them (devices: ${devices.map(describe).join('; ') || 'none'}).`;
  if (readings.length === 0) {
    throw new KexecError(ErrorCode.NO_BOOT_ENTRY, `No block device is named by '${spec}' (DEVICE or DEVICE:ID).`, { remedy });
  }
  const named = new Set(readings.flatMap((reading) => reading.devices));
  if (named.size > 1) {
    throw new KexecError(ErrorCode.NO_BOOT_ENTRY, `'${spec}' could name ${named.size} devices: ${[...named].map(describe).join('; ')}.`, { remedy: 'Name it by a name only one device has: its PARTUUID or UUID, or its /dev path.' });
  }
  // One device; if several splits name it (a label "a:b" and "a"), the longest device name wins.
  const reading = readings.at(-1)!;
  return { device: reading.devices[0]!, entry: reading.entry };
}
