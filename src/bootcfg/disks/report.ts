/**
 * Turning what was read on a mounted file system into the report's terms. Pure.
 *
 * Inside the reading process a file system lies under a mount point of its own
 * (`/tmp/kexec-ts-disks/sdb1`) that exists nowhere else; the report speaks of the file system's
 * own paths instead (`/boot/vmlinuz-6.1`), and of the device where a message named the mount.
 */
import type { BootList, ListedEntry } from '../machine.js';
import type { IsoBootEntry } from '../iso9660/boot-entries.js';
import type { BootConfigWarning } from '../types.js';
import { preferredDeviceName } from './select.js';
import type { DiskDevice, DiskEntry } from './types.js';

/** Every string in `value`: a path under `mountDir` becomes the file system's own path; the mount named inside a message becomes `DEVICE:/`. */
export function volumeRelative<T>(value: T, mountDir: string, device: DiskDevice): T {
  // The mount point as a whole path component: /tmp/sdb1 in "/tmp/sdb1/boot", not in "/tmp/sdb10".
  const inText = new RegExp(`${mountDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:/|(?![^\\s)'",;]))`, 'g');
  const rewrite = (text: string): string => {
    if (text === mountDir) return '/';
    if (text.startsWith(`${mountDir}/`)) return text.slice(mountDir.length);
    return text.replace(inText, `${device.path}:/`);
  };
  const walk = (member: unknown): unknown => {
    if (typeof member === 'string') return rewrite(member);
    if (Array.isArray(member)) return member.map(walk);
    if (member !== null && typeof member === 'object' && !(member instanceof Uint8Array)) {
      return Object.fromEntries(Object.entries(member).map(([key, inner]) => [key, walk(inner)]));
    }
    return member;
  };
  return walk(value) as T;
}

/**
 * The entries of several ISO files as the one ISO list bootList takes: each image keeps its
 * entries' order; only the first image's default may stay one (bootList lets an ISO default
 * count only when the volume has nothing else).
 */
export function mergeIsoLists(lists: ReadonlyArray<{ entries: IsoBootEntry[]; warnings: BootConfigWarning[] }>): { entries: IsoBootEntry[]; warnings: BootConfigWarning[] } {
  let defaultSeen = false;
  const entries = lists.flatMap((list) => list.entries).map((entry) => {
    const isDefault = entry.isDefault && !defaultSeen;
    if (isDefault) defaultSeen = true;
    return { ...entry, isDefault };
  });
  return { entries, warnings: lists.flatMap((list) => list.warnings) };
}

/** One device's list as report entries: its index and `select` (DEVICE:INDEX) on each. */
export function diskEntries(list: Pick<BootList, 'entries'>, device: DiskDevice): DiskEntry[] {
  return list.entries.map((entry: ListedEntry, index): DiskEntry => ({ ...entry, device, indexOnDevice: index, select: `${preferredDeviceName(device)}:${index}` }));
}

/** An ISO file name as the --iso-dir scan takes it: `*.iso`, any case. */
export function isIsoFileName(name: string): boolean {
  return name.toLowerCase().endsWith('.iso') && !name.startsWith('.');
}
