// A minimal writer for the "newc" cpio format the kernel unpacks as initramfs
// (Documentation/driver-api/early-userspace/buffer-format.rst).
//
// Why not Debian's `cpio -o -H newc`: it archives a directory tree, so the ~120 MB guest would be
// copied into a staging directory first, and the /dev/console node the kernel needs before /init
// runs could only be created there with mknod, i.e. as root. Writing the format directly streams
// host files straight into the archive, records every entry as root-owned whoever builds it,
// and creates device nodes without privileges.
import fs from 'node:fs';
import path from 'node:path';

const NEWC_MAGIC = '070701';
const NEWC_HEADER_BYTES = 110;
const TRAILER_NAME = 'TRAILER!!!';
/** GNU cpio pads archives to 512-byte blocks; doing the same keeps any archive appended after
 * this one 4-byte aligned, which the kernel requires between concatenated archives. */
const ARCHIVE_BLOCK_BYTES = 512;
const COPY_CHUNK_BYTES = 1024 * 1024;

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const PERMISSION_BITS = 0o7777;

interface EntryHeader {
  mode: number;
  fileSizeBytes: number;
  rdevMajor?: number;
  rdevMinor?: number;
}

/** Writes one newc archive at the current end of `fd` (open it for writing or appending). */
export class NewcArchiveWriter {
  private bytesWritten = 0;
  private nextInode = 1;
  private readonly emittedDirectories = new Set<string>();

  constructor(private readonly fd: number) {}

  directory(guestPath: string, mode = 0o755): void {
    const name = archiveName(guestPath);
    if (this.emittedDirectories.has(name)) return;
    this.ensureParentDirectories(name);
    this.emittedDirectories.add(name);
    this.writeHeader(name, { mode: S_IFDIR | mode, fileSizeBytes: 0 });
  }

  file(guestPath: string, content: string | Uint8Array, mode = 0o644): void {
    const name = archiveName(guestPath);
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    this.ensureParentDirectories(name);
    this.writeHeader(name, { mode: S_IFREG | mode, fileSizeBytes: bytes.length });
    this.write(bytes);
    this.padTo(4);
  }

  /** Copies a host file (following symlinks); the mode defaults to the host file's. */
  fileFromHost(guestPath: string, hostPath: string, mode?: number): void {
    const name = archiveName(guestPath);
    const source = fs.openSync(hostPath, 'r');
    try {
      const stat = fs.fstatSync(source);
      if (!stat.isFile()) throw new Error(`${hostPath} is not a regular file`);
      this.ensureParentDirectories(name);
      this.writeHeader(name, { mode: S_IFREG | (mode ?? stat.mode & PERMISSION_BITS), fileSizeBytes: stat.size });
      const chunk = Buffer.allocUnsafe(COPY_CHUNK_BYTES);
      let remaining = stat.size;
      while (remaining > 0) {
        const read = fs.readSync(source, chunk, 0, Math.min(chunk.length, remaining), null);
        if (read === 0) throw new Error(`${hostPath} shrank while being archived`);
        this.write(chunk.subarray(0, read));
        remaining -= read;
      }
      this.padTo(4);
    } finally {
      fs.closeSync(source);
    }
  }

  symlink(guestPath: string, target: string): void {
    const name = archiveName(guestPath);
    const bytes = Buffer.from(target, 'utf8');
    this.ensureParentDirectories(name);
    this.writeHeader(name, { mode: S_IFLNK | 0o777, fileSizeBytes: bytes.length });
    this.write(bytes);
    this.padTo(4);
  }

  characterDevice(guestPath: string, mode: number, major: number, minor: number): void {
    const name = archiveName(guestPath);
    this.ensureParentDirectories(name);
    this.writeHeader(name, { mode: S_IFCHR | mode, fileSizeBytes: 0, rdevMajor: major, rdevMinor: minor });
  }

  /** Writes the trailer and pads the archive; returns its size in bytes. */
  finish(): number {
    this.writeHeader(TRAILER_NAME, { mode: 0, fileSizeBytes: 0 });
    this.padTo(ARCHIVE_BLOCK_BYTES);
    return this.bytesWritten;
  }

  // The kernel does not create missing parents when it unpacks an entry.
  private ensureParentDirectories(name: string): void {
    const parent = path.posix.dirname(name);
    if (parent !== '.' && parent !== '/') this.directory(parent);
  }

  private writeHeader(name: string, entry: EntryHeader): void {
    const nameBytes = Buffer.from(`${name}\0`, 'utf8');
    const fields = [
      this.nextInode++,
      entry.mode,
      0, // uid: root
      0, // gid: root
      (entry.mode & S_IFDIR) === S_IFDIR ? 2 : 1,
      0, // mtime: fixed, so archives of the same inputs are identical
      entry.fileSizeBytes,
      0, // devmajor
      0, // devminor
      entry.rdevMajor ?? 0,
      entry.rdevMinor ?? 0,
      nameBytes.length,
      0, // check: unused by newc (only by the "crc" variant, 070702)
    ];
    const header = NEWC_MAGIC + fields.map((value) => value.toString(16).padStart(8, '0')).join('');
    if (header.length !== NEWC_HEADER_BYTES) throw new Error(`newc header for ${name} is ${header.length} bytes`);
    this.write(Buffer.from(header, 'ascii'));
    this.write(nameBytes);
    this.padTo(4);
  }

  private write(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length) offset += fs.writeSync(this.fd, bytes, offset, bytes.length - offset);
    this.bytesWritten += bytes.length;
  }

  private padTo(alignment: number): void {
    const padding = (alignment - (this.bytesWritten % alignment)) % alignment;
    if (padding > 0) this.write(Buffer.alloc(padding));
  }
}

/** newc names are relative to the root, without a leading slash ("bin/busybox"). */
function archiveName(guestPath: string): string {
  const name = path.posix.normalize(guestPath).replace(/^\/+/, '');
  if (name === '' || name === '.' || name.startsWith('..')) throw new Error(`bad guest path: ${guestPath}`);
  return name;
}
