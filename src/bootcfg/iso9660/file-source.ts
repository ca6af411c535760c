/**
 * The I/O edge of the ISO reader: an image file as an IsoSource (opened once, read with
 * positional reads on its descriptor, never whole), and where an image file sits on its file
 * system, which is what a loopback.cfg's `${iso_path}` means. The only file under iso9660/ that
 * touches the machine.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openIso, type Iso, type OpenIsoOptions } from './iso.js';
import type { IsoSource } from './source.js';
import { readFully } from '../../read-fully.js';
import { openInputFile } from '../../input-file.js';

export interface IsoFileSource extends IsoSource {
  readonly path: string;
  readonly fd: number;
  close(): void;
}

/** Opens an image file for reading; close() it (or use withIsoFile). */
export function openIsoFile(file: string): IsoFileSource {
  // The one input path: a FIFO or a device is refused before it can block, errnos are typed.
  const { fd, sizeBytes } = openInputFile(file, { what: 'ISO image' });
  let closed = false;
  return {
    path: file,
    fd,
    sizeBytes,
    readAt: (offset, length) => readFully(fd, Math.max(0, Math.min(length, sizeBytes - offset)), offset),
    close() {
      if (closed) return;
      closed = true;
      fs.closeSync(fd);
    },
  };
}

/** Opens `file`, reads it as an ISO image inside `use`, and closes it whatever happens. */
export function withIsoFile<T>(file: string, use: (iso: Iso, source: IsoFileSource) => T, options: OpenIsoOptions = {}): T {
  const source = openIsoFile(file);
  try {
    return use(openIso(source, options), source);
  } finally {
    source.close();
  }
}

export interface IsoFileLocation {
  /** The image's path on the file system that holds it: what `${iso_path}` is in a loopback.cfg. */
  isoPath: string;
  /** Where that file system is mounted here. */
  mountPoint: string;
  /** The file system's UUID (/dev/disk/by-uuid), when udev knows it. */
  fsUuid?: string;
}

/** mountinfo escapes space, tab, newline and backslash as octal (proc(5)). */
function unescapeMountinfo(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/**
 * Where an image file lies on its file system: the loopback convention passes the path from
 * that file system's root (the kernel's initrd mounts the device and looks there), not from
 * ours; a bind mount's source directory (mountinfo's root field) is part of that path.
 */
export function locateIsoFile(file: string, mountinfo = '/proc/self/mountinfo'): IsoFileLocation {
  const real = fs.realpathSync(file);
  const stats = fs.statSync(real);
  const major = Number((BigInt(stats.dev) >> 8n) & 0xfffn) | Number((BigInt(stats.dev) >> 32n) & ~0xfffn);
  const minor = Number(BigInt(stats.dev) & 0xffn) | Number((BigInt(stats.dev) >> 12n) & ~0xffn);
  let best: { mountPoint: string; root: string; source: string } | undefined;
  for (const line of fs.readFileSync(mountinfo, 'utf8').split('\n')) {
    const fields = line.split(' ');
    const separator = fields.indexOf('-');
    if (fields.length < 5 || separator < 0 || fields[2] !== `${major}:${minor}`) continue;
    const mountPoint = unescapeMountinfo(fields[4]!);
    const inside = mountPoint === '/' || real === mountPoint || real.startsWith(`${mountPoint}/`);
    if (inside && (best === undefined || mountPoint.length > best.mountPoint.length)) {
      best = { mountPoint, root: unescapeMountinfo(fields[3]!), source: unescapeMountinfo(fields[separator + 2] ?? '') };
    }
  }
  if (best === undefined) return { isoPath: real, mountPoint: '/' };
  const relative = best.mountPoint === '/' ? real : real.slice(best.mountPoint.length);
  const location: IsoFileLocation = { isoPath: path.posix.join(best.root, relative), mountPoint: best.mountPoint };
  const fsUuid = filesystemUuid(stats.dev, best.source);
  if (fsUuid !== undefined) location.fsUuid = fsUuid;
  return location;
}

/** The /dev/disk/by-uuid name whose device is `dev` (or the mount's source device, for btrfs). */
function filesystemUuid(dev: number, mountSource: string): string | undefined {
  const dir = '/dev/disk/by-uuid';
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return undefined;
  }
  const sourceReal = (() => {
    try {
      return mountSource.startsWith('/dev/') ? fs.realpathSync(mountSource) : undefined;
    } catch {
      return undefined;
    }
  })();
  for (const name of names) {
    try {
      const target = fs.realpathSync(path.join(dir, name));
      if (fs.statSync(target).rdev === dev || target === sourceReal) return name;
    } catch {
      continue;
    }
  }
  return undefined;
}
