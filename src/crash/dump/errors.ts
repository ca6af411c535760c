import { ErrorCode, KexecError, type KexecErrorDetails } from '../../errors.js';

/** The dump's file exists complete and `force` was not given: nothing was written. */
export class DumpExistsError extends KexecError {
  readonly path: string;

  constructor(path: string) {
    super(ErrorCode.DUMP_EXISTS, `${path} already exists; it is kept`, {
      remedy: 'Choose another output path, move the existing file away, or overwrite it on purpose (--force).',
    });
    this.name = 'DumpExistsError';
    this.path = path;
  }
}

/**
 * Writing the dump failed part way: out of space (DUMP_NO_SPACE) or another write, sync or
 * rename error (DUMP_WRITE_FAILED). Nothing carries the final name: what was written is in
 * `incompletePath` (undefined for a stream), marked incomplete in its header where possible.
 */
export class DumpWriteError extends KexecError {
  readonly path: string;
  readonly incompletePath: string | undefined;
  /** Bytes that reached the file (or stream) before the failure. */
  readonly bytesWritten: number;
  /** The errno name of the failed call (ENOSPC, EIO, ...), when there was one. */
  readonly errnoName: string | undefined;

  constructor(
    facts: {
      path: string;
      incompletePath: string | undefined;
      bytesWritten: number;
      errnoName: string | undefined;
      what: string;
      /** For a full disk: how the dump could be made smaller, if it can (save.ts knows the level). */
      smaller?: string | undefined;
    },
    details: KexecErrorDetails = {},
  ) {
    const noSpace = facts.errnoName === 'ENOSPC' || facts.errnoName === 'EDQUOT';
    super(
      noSpace ? ErrorCode.DUMP_NO_SPACE : ErrorCode.DUMP_WRITE_FAILED,
      `${facts.what} ${facts.path} failed${facts.errnoName ? ` (${facts.errnoName})` : ''} after ${facts.bytesWritten} bytes` +
        (facts.incompletePath ? `; the partial dump is ${facts.incompletePath}` : ''),
      {
        ...details,
        remedy: noSpace
          ? `Free space or write to a larger filesystem${facts.smaller !== undefined ? `; ${facts.smaller}` : ''}.`
          : facts.errnoName === 'EPIPE'
            ? 'The reader at the other end of the pipe went away before the dump ended (a dropped ssh, a failed command); run both ends again.'
            : 'Check the target filesystem and device (the kernel log says more), then save again.',
      },
    );
    this.name = 'DumpWriteError';
    this.path = facts.path;
    this.incompletePath = facts.incompletePath;
    this.bytesWritten = facts.bytesWritten;
    this.errnoName = facts.errnoName;
  }
}

/**
 * Where output was to go cannot take it, found before a byte was written: the errno as one code
 * and remedy, for the dump, its log and the directory they go in alike.
 */
export function outputPathError(path: string, what: string, cause: unknown): KexecError {
  const errno = (cause as { code?: unknown } | null)?.code;
  switch (errno) {
    case 'EROFS':
      return new KexecError(ErrorCode.OUTPUT_NOT_WRITABLE, `Cannot write the ${what} ${path}: the filesystem is mounted read-only (EROFS).`, {
        cause,
        remedy: 'Write to a filesystem mounted read-write (in a capture kernel, remount it: mount -o remount,rw), or choose another place.',
      });
    case 'EACCES':
    case 'EPERM':
      return new KexecError(ErrorCode.OUTPUT_NOT_WRITABLE, `Cannot write the ${what} ${path}: permission denied (${errno}).`, {
        cause,
        remedy: `Run as root, or choose a directory this user may write to.`,
      });
    case 'ENOTDIR':
    case 'EEXIST':
      return new KexecError(ErrorCode.OUTPUT_WRONG_KIND, `Cannot write the ${what} ${path}: a part of the path that must be a directory is a file (${errno}).`, {
        cause,
        remedy: 'Name a directory (or a path inside one); move the file that is in the way.',
      });
    case 'EISDIR':
      return new KexecError(ErrorCode.OUTPUT_WRONG_KIND, `Cannot write the ${what} ${path}: it is a directory (EISDIR).`, {
        cause,
        remedy: `Name a file inside ${path}, or use --dir ${path}.`,
      });
    case 'ENOSPC':
    case 'EDQUOT':
      return new DumpWriteError({ path, incompletePath: undefined, bytesWritten: 0, errnoName: errno, what: `creating the ${what}` }, { cause });
    default:
      return new DumpWriteError({ path, incompletePath: undefined, bytesWritten: 0, errnoName: typeof errno === 'string' ? errno : undefined, what: `creating the ${what}` }, { cause });
  }
}
