import { closeSync, constants, fstatSync, openSync, realpathSync, statSync, type Stats } from 'node:fs';
import { ErrorCode, ValidationError } from './errors.js';
import { readFully } from './read-fully.js';

/**
 * The one way a command opens a file the user named (a kernel, an initrd, an image to inspect,
 * a vmcore, a dump, an ISO): every check made before a byte is read, and every errno turned
 * into the same code and remedy whichever command met it.
 *
 * - A stat before the open refuses FIFOs, devices, sockets and directories: opening a FIFO
 *   blocks until a writer comes, and reading a device can have side effects. O_NONBLOCK covers
 *   the race between that stat and the open; the fstat after it is the check that holds (the
 *   file cannot be swapped between it and the reads, which go through this descriptor).
 * - A size limit, when the caller gives one, is checked on that fstat, before any allocation.
 */
export interface InputFile {
  /** As the caller gave it. */
  readonly path: string;
  /** After resolving symlinks: what was actually opened. */
  readonly realPath: string;
  readonly fd: number;
  readonly sizeBytes: number;
}

export interface InputFileOptions {
  /** What the file is, for messages: "kernel image", "vmcore", "ISO image". */
  readonly what: string;
  /** Refuse a file larger than this, before reading any of it. */
  readonly maxBytes?: { readonly bytes: number; readonly why: string; readonly remedy?: string };
  /** An empty file is refused unless this is set. */
  readonly allowEmpty?: boolean;
}

export function openInputFile(path: string, options: InputFileOptions): InputFile {
  const { what } = options;
  let realPath: string;
  let stats: Stats;
  try {
    realPath = realpathSync(path);
    stats = statSync(realPath);
  } catch (cause) {
    throw inputFileError(path, what, cause);
  }
  rejectNonRegular(stats, path, what);
  let fd: number;
  try {
    // O_CLOEXEC is not in fs.constants because libuv adds it to every open(2) itself
    // (checked in test/handoff/open-image.test.ts through /proc/self/fdinfo).
    fd = openSync(realPath, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (cause) {
    throw inputFileError(path, what, cause);
  }
  try {
    const opened = fstatSync(fd);
    rejectNonRegular(opened, path, what);
    if (opened.size === 0 && options.allowEmpty !== true) {
      throw new ValidationError(ErrorCode.INPUT_EMPTY, `The ${what} ${path} is empty (0 bytes).`, {
        path,
        remedy: `Check that ${path} was written completely (a full disk or an interrupted copy leaves an empty file).`,
      });
    }
    if (options.maxBytes !== undefined && opened.size > options.maxBytes.bytes) {
      throw new ValidationError(
        ErrorCode.INPUT_TOO_LARGE,
        `The ${what} ${path} is ${opened.size} bytes, more than ${options.maxBytes.bytes}: ${options.maxBytes.why}.`,
        { path, remedy: options.maxBytes.remedy ?? `Check that ${path} is the file you meant.` },
      );
    }
    return { path, realPath, fd, sizeBytes: opened.size };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

export function closeInputFile(file: InputFile | undefined): void {
  if (file !== undefined) closeSync(file.fd);
}

/** The whole file through its open descriptor (positional reads: the file offset is untouched). */
export function readInputFile(file: InputFile): Uint8Array {
  return readFully(file.fd, file.sizeBytes);
}

/** Opens, reads whole and closes: for inputs small enough to hold (the limit says how small). */
export function readWholeInputFile(path: string, options: InputFileOptions): Uint8Array {
  const file = openInputFile(path, options);
  try {
    return readInputFile(file);
  } finally {
    closeInputFile(file);
  }
}

/**
 * Opens an input read once from start to end (a flattened dump): a regular file or a FIFO, the
 * other end of a pipe, which is what that format is for. Directories, devices and sockets are
 * refused; errnos are typed as for every input. Returns the descriptor; the caller closes it.
 */
export function openSequentialInput(path: string, what: string): number {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (cause) {
    throw inputFileError(path, what, cause);
  }
  if (!stats.isFIFO()) rejectNonRegular(stats, path, what);
  try {
    return openSync(path, constants.O_RDONLY | constants.O_NOCTTY);
  } catch (cause) {
    throw inputFileError(path, what, cause);
  }
}

/**
 * An errno met while opening or reading an input, as the error every command reports for it:
 * one code and one remedy per cause.
 */
export function inputFileError(path: string, what: string, cause: unknown): ValidationError {
  const errno = (cause as NodeJS.ErrnoException).code ?? 'error';
  switch (errno) {
    case 'ENOENT':
      return new ValidationError(ErrorCode.INPUT_NOT_FOUND, `The ${what} ${path} does not exist.`, {
        path,
        cause,
        remedy: `Check the path; \`ls -l ${path}\` shows whether it (or a symlink's target) is there.`,
      });
    case 'ENOTDIR':
      return new ValidationError(ErrorCode.INPUT_NOT_FOUND, `The ${what} ${path} does not exist: a part of the path before its last name is a file, not a directory (ENOTDIR).`, {
        path,
        cause,
        remedy: 'Check each directory of the path.',
      });
    case 'ELOOP':
      return new ValidationError(ErrorCode.INPUT_SYMLINK_LOOP, `The ${what} ${path} cannot be reached: its symlinks form a loop (ELOOP).`, {
        path,
        cause,
        remedy: `Fix the symlink loop; \`namei -l ${path}\` shows each step.`,
      });
    case 'EACCES':
    case 'EPERM':
      return new ValidationError(ErrorCode.INPUT_UNREADABLE, `The ${what} ${path} cannot be read: permission denied (${errno}).`, {
        path,
        cause,
        remedy: `Run as root, or make ${path} (and each directory above it) readable to this user.`,
      });
    case 'EISDIR':
      return new ValidationError(ErrorCode.INPUT_NOT_REGULAR_FILE, `The ${what} ${path} is a directory, not a regular file.`, {
        path,
        cause,
        remedy: `Name the ${what} file inside ${path}.`,
      });
    case 'EIO':
      return new ValidationError(ErrorCode.INPUT_UNREADABLE, `The ${what} ${path} cannot be read: the device reported an I/O error (EIO).`, {
        path,
        cause,
        remedy: 'The disk or medium may be failing: check the kernel log (dmesg) and copy the file elsewhere if you can.',
      });
    default:
      return new ValidationError(ErrorCode.INPUT_UNREADABLE, `The ${what} ${path} cannot be read (${errno}).`, {
        path,
        cause,
        remedy: `Check ${path} with \`ls -l\` and the kernel log.`,
      });
  }
}

function rejectNonRegular(stats: Stats, path: string, what: string): void {
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
      ? `Name the ${what} file inside ${path}.`
      : `Give the path of a regular file (copy the data into one first); a FIFO or a device would block or change as it is read.`,
  });
}
