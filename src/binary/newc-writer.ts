import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';

/**
 * Writes a newc cpio archive (Documentation/driver-api/early-userspace/buffer-format.rst) to an
 * open file: every entry root-owned with mtime 0, so the same inputs give the same bytes, and
 * device nodes without privileges. Parent directories are added before their first child (the
 * kernel's unpacker does not create missing ones).
 *
 * Why not Debian's `cpio -o -H newc`: it archives a directory tree, so a guest or capture
 * initramfs of ~120 MB would be copied into a staging directory first, and the /dev/console node
 * the kernel needs before /init runs could only be made there with mknod, as root. Writing the
 * format directly streams host files in and needs no privileges.
 */
export class NewcWriter {
  private written = 0;
  private inode = 1;
  private readonly directories = new Set<string>();

  constructor(private readonly fd: number) {}

  get bytesWritten(): number {
    return this.written;
  }

  /** Entries written so far, parent directories included, the trailer not. */
  get entries(): number {
    return this.inode - 1;
  }

  directory(path: string, mode = 0o755): void {
    const name = entryName(path);
    if (this.directories.has(name)) return;
    this.parents(name);
    this.directories.add(name);
    this.header(name, 0o040000 | mode, 0);
  }

  file(path: string, content: string | Uint8Array, mode = 0o644): void {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const name = entryName(path);
    this.parents(name);
    this.header(name, 0o100000 | mode, bytes.length);
    this.write(bytes);
    this.pad(4);
  }

  /** Streams a host file in (symlinks followed); the mode defaults to the host file's. */
  hostFile(path: string, hostPath: string, mode?: number): void {
    const source = openSync(hostPath, 'r');
    try {
      const stats = fstatSync(source);
      if (!stats.isFile()) throw new Error(`${hostPath} is not a regular file`);
      const name = entryName(path);
      this.parents(name);
      this.header(name, 0o100000 | (mode ?? stats.mode & 0o7777), stats.size);
      const chunk = Buffer.allocUnsafe(1 << 20);
      let left = stats.size;
      while (left > 0) {
        const count = readSync(source, chunk, 0, Math.min(chunk.length, left), null);
        if (count === 0) throw new Error(`${hostPath} shrank while it was being archived`);
        this.write(chunk.subarray(0, count));
        left -= count;
      }
      this.pad(4);
    } finally {
      closeSync(source);
    }
  }

  symlink(path: string, target: string): void {
    const bytes = Buffer.from(target, 'utf8');
    const name = entryName(path);
    this.parents(name);
    this.header(name, 0o120000 | 0o777, bytes.length);
    this.write(bytes);
    this.pad(4);
  }

  characterDevice(path: string, mode: number, major: number, minor: number): void {
    const name = entryName(path);
    this.parents(name);
    this.header(name, 0o020000 | mode, 0, major, minor);
  }

  /** The trailer, then padding to 512 bytes (as GNU cpio), so an archive appended later starts aligned. */
  finish(): number {
    this.header('TRAILER!!!', 0, 0);
    this.inode -= 1;
    this.pad(512);
    return this.written;
  }

  private parents(name: string): void {
    const slash = name.lastIndexOf('/');
    if (slash > 0) this.directory(name.slice(0, slash));
  }

  private header(name: string, mode: number, fileSize: number, rdevMajor = 0, rdevMinor = 0): void {
    const nameBytes = Buffer.from(`${name}\0`, 'utf8');
    const isDirectory = (mode & 0o170000) === 0o040000;
    // c_ino c_mode c_uid c_gid c_nlink c_mtime c_filesize c_devmajor c_devminor c_rdevmajor c_rdevminor c_namesize c_check
    const fields = [this.inode++, mode, 0, 0, isDirectory ? 2 : 1, 0, fileSize, 0, 0, rdevMajor, rdevMinor, nameBytes.length, 0];
    this.write(Buffer.from(`070701${fields.map((field) => field.toString(16).padStart(8, '0')).join('')}`, 'ascii'));
    this.write(nameBytes);
    this.pad(4);
  }

  private write(bytes: Uint8Array): void {
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
    this.written += bytes.length;
  }

  private pad(alignment: number): void {
    const count = (alignment - (this.written % alignment)) % alignment;
    if (count > 0) this.write(Buffer.alloc(count));
  }
}

/** newc names are relative: "bin/busybox". */
function entryName(path: string): string {
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.length === 0 || parts.includes('..')) throw new Error(`not a path inside the archive: ${path}`);
  return parts.join('/');
}
