import { closeSync, readSync, writeSync } from 'node:fs';
import { ErrorCode, KexecError } from '../errors.js';
import type { KexecSyscalls } from '../syscall/index.js';
import { MFD_CLOEXEC } from '../syscall/numbers.js';
import type { ImageRole, OpenedImage } from './open-image.js';

/** Copy in pieces so an initrd of any size costs this much memory, not its size. */
const COPY_CHUNK_BYTES = 1 << 20;

/**
 * The kernel's initramfs unpacker starts every archive after the first at a 4-byte boundary
 * and skips the zero bytes before it (init/initramfs.c: "broken padding" otherwise).
 */
const INITRAMFS_ARCHIVE_ALIGNMENT = 4;

/** Bytes that exist only in memory (a UKI's .initrd, a decompressed Image), named for messages. */
export interface InMemoryPart {
  readonly path: string;
  readonly bytes: Uint8Array;
}

export type InitrdPart = OpenedImage | InMemoryPart;

/**
 * An anonymous file (memfd) holding `bytes`: what kexec_file_load gets for anything kexec-ts
 * prepared, so nothing is written to disk and no path can be swapped underneath.
 */
export function memfdFromBytes(part: InMemoryPart, role: ImageRole, syscalls: KexecSyscalls): OpenedImage {
  const fd = syscalls.memfdCreate(`kexec-ts-${role}`, MFD_CLOEXEC);
  try {
    writeAll(fd, part.bytes);
    return { role, path: part.path, realPath: `memfd:kexec-ts-${role} (${part.path})`, fd, sizeBytes: part.bytes.length };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * Concatenates several initrds into one anonymous file, each part starting 4-byte aligned, so
 * the new kernel unpacks them all in order (later files win on conflicts), instead of the last
 * --initrd silently replacing the others. Opened parts were checked by openImage.
 */
export function concatenateInitrds(parts: readonly InitrdPart[], syscalls: KexecSyscalls): OpenedImage {
  const fd = syscalls.memfdCreate('kexec-ts-initrd', MFD_CLOEXEC);
  try {
    let written = 0;
    for (const part of parts) {
      const padding = (INITRAMFS_ARCHIVE_ALIGNMENT - (written % INITRAMFS_ARCHIVE_ALIGNMENT)) % INITRAMFS_ARCHIVE_ALIGNMENT;
      if (padding > 0) written += writeAll(fd, Buffer.alloc(padding));
      written += 'fd' in part ? copyOpenedFile(part, fd) : writeAll(fd, part.bytes);
    }
    return {
      role: 'initrd',
      path: parts.map((part) => part.path).join(' + '),
      realPath: `memfd:kexec-ts-initrd (${parts.map((part) => ('realPath' in part ? part.realPath : part.path)).join(' + ')})`,
      fd,
      sizeBytes: written,
    };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

function copyOpenedFile(part: OpenedImage, targetFd: number): number {
  const chunk = Buffer.alloc(COPY_CHUNK_BYTES);
  let position = 0;
  for (;;) {
    const length = readSync(part.fd, chunk, 0, chunk.length, position);
    if (length === 0) break;
    position += length;
    writeAll(targetFd, chunk.subarray(0, length));
  }
  if (position !== part.sizeBytes) {
    throw new KexecError(ErrorCode.INPUT_UNREADABLE, `The initrd ${part.path} changed size while it was read (${part.sizeBytes} -> ${position} bytes).`, {
      remedy: 'Wait until whatever writes it has finished, then load again.',
    });
  }
  return position;
}

function writeAll(fd: number, bytes: Uint8Array): number {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
  return bytes.length;
}
