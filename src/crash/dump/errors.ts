import { ErrorCode, KexecError, type KexecErrorDetails } from '../../errors.js';

/** The dump's file exists complete and `force` was not given: nothing was written. */
export class DumpExistsError extends KexecError {
  readonly path: string;

  constructor(path: string) {
    super(ErrorCode.DUMP_EXISTS, `${path} already exists; pass force to overwrite it`, {
      remedy: 'Choose another output path, move the existing dump away, or overwrite it on purpose (force).',
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
    facts: { path: string; incompletePath: string | undefined; bytesWritten: number; errnoName: string | undefined; what: string },
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
          ? 'Free space or write to a larger filesystem; a higher dump level (-d 31) or compression makes the dump smaller.'
          : 'Check the target filesystem and device, then save again.',
      },
    );
    this.name = 'DumpWriteError';
    this.path = facts.path;
    this.incompletePath = facts.incompletePath;
    this.bytesWritten = facts.bytesWritten;
    this.errnoName = facts.errnoName;
  }
}
