import { closeSync, constants, fstatSync, openSync, realpathSync, statSync } from 'node:fs';
import { readFully } from '../read-fully.js';
import { LIMITS } from '../limits.js';
import { ErrorCode, ValidationError } from '../errors.js';

export type ImageRole = 'kernel' | 'initrd';

/** A file opened once for the kernel to read: this fd is what kexec_file_load gets. */
export interface OpenedImage {
  readonly role: ImageRole;
  /** As the caller gave it. */
  readonly path: string;
  /** After resolving symlinks: what was actually opened. */
  readonly realPath: string;
  readonly fd: number;
  readonly sizeBytes: number;
}

/**
 * Opens a kernel or initrd for kexec_file_load after checking it is a non-empty regular file.
 * The checks that matter are made on the opened fd (fstat), so the file cannot be swapped
 * between the check and the syscall. A stat before the open only keeps us from opening a FIFO
 * or a device (which could block or have side effects); O_NONBLOCK covers the race there.
 */
export function openImage(path: string, role: ImageRole): OpenedImage {
  const what = role === 'kernel' ? 'kernel image' : 'initrd';
  let realPath: string;
  try {
    realPath = realpathSync(path);
  } catch (cause) {
    throw notFound(path, what, cause);
  }
  rejectNonRegular(statOrThrow(realPath, path, what), path, what);

  let fd: number;
  try {
    // O_CLOEXEC is not in fs.constants because libuv adds it to every open(2) itself
    // (checked in test/handoff/open-image.test.ts through /proc/self/fdinfo).
    fd = openSync(realPath, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (cause) {
    throw unreadable(path, what, cause);
  }
  try {
    const stats = fstatSync(fd);
    rejectNonRegular(stats, path, what);
    if (stats.size === 0) {
      throw new ValidationError(ErrorCode.INPUT_EMPTY, `The ${what} ${path} is empty (0 bytes).`, {
        path,
        remedy: `Check that ${path} was written completely (a full disk or an interrupted copy leaves an empty file).`,
      });
    }
    return { role, path, realPath, fd, sizeBytes: stats.size };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

export function closeImage(image: OpenedImage | undefined): void {
  if (image !== undefined) closeSync(image.fd);
}

function statOrThrow(realPath: string, path: string, what: string) {
  try {
    return statSync(realPath);
  } catch (cause) {
    throw notFound(path, what, cause);
  }
}

function rejectNonRegular(stats: ReturnType<typeof statSync> & object, path: string, what: string): void {
  if (stats.isFile()) return;
  const kind = stats.isDirectory()
    ? 'a directory'
    : stats.isBlockDevice()
      ? 'a block device'
      : stats.isCharacterDevice()
        ? 'a character device'
        : stats.isFIFO()
          ? 'a FIFO'
          : stats.isSocket()
            ? 'a socket'
            : 'not a regular file';
  throw new ValidationError(ErrorCode.INPUT_NOT_REGULAR_FILE, `The ${what} ${path} is ${kind}, not a regular file.`, {
    path,
    remedy: stats.isDirectory()
      ? `Name the ${what} file inside ${path} (for example ${path.replace(/\/$/, '')}/vmlinuz-VERSION).`
      : `Give the path of ${what === "initrd" ? "an" : "a"} ${what} file; kexec reads whole regular files only.`,
  });
}

function notFound(path: string, what: string, cause: unknown): ValidationError {
  const code = (cause as NodeJS.ErrnoException).code;
  if (code === 'EACCES') return unreadable(path, what, cause);
  return new ValidationError(ErrorCode.INPUT_NOT_FOUND, `The ${what} ${path} does not exist${code === 'ENOENT' ? '' : ` (${code})`}.`, {
    path,
    cause,
    remedy: code === 'ELOOP' ? `Fix the symlink loop at ${path}.` : `Check the path; \`ls -l ${path}\` shows whether it (or a symlink's target) is there.`,
  });
}

function unreadable(path: string, what: string, cause: unknown): ValidationError {
  const code = (cause as NodeJS.ErrnoException).code ?? 'error';
  return new ValidationError(ErrorCode.INPUT_UNREADABLE, `The ${what} ${path} cannot be opened for reading (${code}).`, {
    path,
    cause,
    remedy: 'Run as root or make the file readable; loading a kernel needs root anyway.',
  });
}

/**
 * The whole file, read through the already-open descriptor (positional reads: the kernel reads
 * from offset 0 itself, so the file position does not matter). Bounded by the largest file
 * kexec_file_load reads at all.
 */
export function readWholeImage(image: OpenedImage): Uint8Array {
  if (image.sizeBytes > LIMITS.kernelFileBytes) {
    throw new ValidationError(ErrorCode.INPUT_UNREADABLE, `The ${image.role} ${image.path} is ${image.sizeBytes} bytes, more than kexec_file_load reads (${LIMITS.kernelFileBytes}).`, {
      path: image.path,
      remedy: 'Use a smaller file.',
    });
  }
  return readFully(image.fd, image.sizeBytes);
}

/** The first `length` bytes (fewer if the file is shorter), through the open descriptor. */
export function readHead(image: OpenedImage, length: number): Uint8Array {
  return readFully(image.fd, Math.min(length, image.sizeBytes));
}
