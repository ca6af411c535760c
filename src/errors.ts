/**
 * One error hierarchy for the whole library. `code` is stable API (scripts switch on it, the
 * CLI's --json prints it); `message` is for people and may change. Causes are never dropped.
 */

export const ErrorCode = {
  // Bad input caught before any syscall.
  INPUT_NOT_FOUND: 'INPUT_NOT_FOUND',
  INPUT_NOT_REGULAR_FILE: 'INPUT_NOT_REGULAR_FILE',
  INPUT_EMPTY: 'INPUT_EMPTY',
  INPUT_UNREADABLE: 'INPUT_UNREADABLE',
  /** Larger than the named limit for what it is (checked before any of it is read). */
  INPUT_TOO_LARGE: 'INPUT_TOO_LARGE',
  /** The path's symlinks form a loop (ELOOP). */
  INPUT_SYMLINK_LOOP: 'INPUT_SYMLINK_LOOP',
  CMDLINE_HAS_NUL: 'CMDLINE_HAS_NUL',
  CMDLINE_TOO_LONG: 'CMDLINE_TOO_LONG',
  CMDLINE_MISSING: 'CMDLINE_MISSING',
  IMAGE_NOT_LOADABLE: 'IMAGE_NOT_LOADABLE',
  INITRD_NOT_RECOGNIZED: 'INITRD_NOT_RECOGNIZED',
  USAGE: 'USAGE',
  // Refusals of kexec_file_load(2), one per cause we can tell apart.
  NO_CAP_SYS_BOOT: 'NO_CAP_SYS_BOOT',
  KEXEC_LOAD_DISABLED: 'KEXEC_LOAD_DISABLED',
  KEXEC_LOAD_LIMIT_REACHED: 'KEXEC_LOAD_LIMIT_REACHED',
  LOCKDOWN_REFUSED: 'LOCKDOWN_REFUSED',
  SIGNATURE_REJECTED: 'SIGNATURE_REJECTED',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  NOT_A_KERNEL: 'NOT_A_KERNEL',
  NO_CRASH_RESERVATION: 'NO_CRASH_RESERVATION',
  KEXEC_BUSY: 'KEXEC_BUSY',
  FILE_OPEN_FOR_WRITING: 'FILE_OPEN_FOR_WRITING',
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  OUT_OF_MEMORY: 'OUT_OF_MEMORY',
  IMAGE_TOO_LARGE: 'IMAGE_TOO_LARGE',
  KEXEC_FILE_NOT_SUPPORTED: 'KEXEC_FILE_NOT_SUPPORTED',
  SYSCALL_FAILED: 'SYSCALL_FAILED',
  // kexec_load(2), where the kernel has no kexec_file_load: kexec-ts places the segments itself.
  /** The segments (kernel, initrd, device tree, purgatory) do not fit the usable System RAM. */
  NO_ROOM_FOR_SEGMENTS: 'NO_ROOM_FOR_SEGMENTS',
  /** kexec_load would be needed but may not be used: lockdown refuses it, or --no-kexec-load was given. */
  KEXEC_LOAD_NOT_ALLOWED: 'KEXEC_LOAD_NOT_ALLOWED',
  /** What kexec_load needs of the running machine (its device tree, its memory map) cannot be read. */
  MACHINE_DESCRIPTION_UNREADABLE: 'MACHINE_DESCRIPTION_UNREADABLE',
  // Hand-off.
  NO_BOOT_ENTRY: 'NO_BOOT_ENTRY',
  NOTHING_LOADED: 'NOTHING_LOADED',
  ORDERLY_HANDOFF_FAILED: 'ORDERLY_HANDOFF_FAILED',
  // Platform.
  UNSUPPORTED_PLATFORM: 'UNSUPPORTED_PLATFORM',
  /** The running kernel cannot kexec at all (no CONFIG_KEXEC_FILE, kexec_load_disabled, no loads left): found by a dry run. */
  MACHINE_CANNOT_KEXEC: 'MACHINE_CANNOT_KEXEC',
  // Parsers (image, bootcfg, crash readers): bytes or text that are not what they claim.
  FORMAT_TRUNCATED: 'FORMAT_TRUNCATED',
  FORMAT_INVALID: 'FORMAT_INVALID',
  FORMAT_UNRECOGNIZED: 'FORMAT_UNRECOGNIZED',
  FORMAT_LIMIT_EXCEEDED: 'FORMAT_LIMIT_EXCEEDED',
  DECOMPRESSION_FAILED: 'DECOMPRESSION_FAILED',
  // Arming the capture kernel (crash load): checked before the syscall.
  /** The capture kernel, its initrd, or what they need at run time does not fit the crashkernel= reservation. */
  CRASH_RESERVATION_TOO_SMALL: 'CRASH_RESERVATION_TOO_SMALL',
  /** What `crash initrd` needs from the host (a static busybox, node, its libraries) is missing or unusable. */
  CAPTURE_INITRD_INPUT_UNUSABLE: 'CAPTURE_INITRD_INPUT_UNUSABLE',
  /** `crash save` outside a capture kernel: there is no /proc/vmcore (or the given file is missing). */
  VMCORE_NOT_FOUND: 'VMCORE_NOT_FOUND',
  // Saving a crash dump.
  /** The dump's file already exists complete; it is kept unless the caller forces overwriting it. */
  DUMP_EXISTS: 'DUMP_EXISTS',
  /** The filesystem ran out of space while the dump was written: it is incomplete. */
  DUMP_NO_SPACE: 'DUMP_NO_SPACE',
  /** Writing, syncing or renaming the dump failed (I/O error, permissions): it is incomplete. */
  DUMP_WRITE_FAILED: 'DUMP_WRITE_FAILED',
  // Where output goes, refused before anything is written.
  /** No permission to create the file there, or the filesystem is mounted read-only (EACCES, EPERM, EROFS). */
  OUTPUT_NOT_WRITABLE: 'OUTPUT_NOT_WRITABLE',
  /** A directory was named where a file goes, or a file where a directory goes (EISDIR, ENOTDIR, EEXIST). */
  OUTPUT_WRONG_KIND: 'OUTPUT_WRONG_KIND',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface KexecErrorDetails {
  cause?: unknown;
  /** What the user can do about it, in one or two sentences. */
  remedy?: string;
}

export class KexecError extends Error {
  readonly code: ErrorCode;
  readonly remedy: string | undefined;

  constructor(code: ErrorCode, message: string, details: KexecErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'KexecError';
    this.code = code;
    this.remedy = details.remedy;
  }
}

/** Input rejected before any syscall was made: nothing on the machine changed. */
export class ValidationError extends KexecError {
  readonly path: string | undefined;

  constructor(code: ErrorCode, message: string, details: KexecErrorDetails & { path?: string } = {}) {
    super(code, message, details);
    this.name = 'ValidationError';
    this.path = details.path;
  }
}

export class UsageError extends KexecError {
  constructor(message: string, details: KexecErrorDetails = {}) {
    super(ErrorCode.USAGE, message, details);
    this.name = 'UsageError';
  }
}

/** The running platform cannot make this call at all (not Linux, or an arch we have no table for). */
export class UnsupportedError extends KexecError {
  readonly platform: string;
  readonly arch: string;

  constructor(message: string, where: { platform: string; arch: string }, details: KexecErrorDetails = {}) {
    super(ErrorCode.UNSUPPORTED_PLATFORM, message, details);
    this.name = 'UnsupportedError';
    this.platform = where.platform;
    this.arch = where.arch;
  }
}

export type ParseErrorCode =
  | typeof ErrorCode.FORMAT_TRUNCATED
  | typeof ErrorCode.FORMAT_INVALID
  | typeof ErrorCode.FORMAT_UNRECOGNIZED
  | typeof ErrorCode.FORMAT_LIMIT_EXCEEDED
  | typeof ErrorCode.DECOMPRESSION_FAILED;

/**
 * The one error a parser throws: which format, where (byte offset, and the field as the spec
 * spells it), and what was wrong. Never a RangeError from a bad offset.
 */
export class ParseError extends KexecError {
  readonly format: string;
  readonly offset: number | undefined;
  readonly field: string | undefined;
  /** What was wrong, without the format and the location the message adds. */
  readonly detail: string;

  constructor(
    code: ParseErrorCode,
    format: string,
    message: string,
    where: { offset?: number; field?: string } = {},
    details: KexecErrorDetails = {},
  ) {
    const location = [where.field, where.offset !== undefined ? `at offset ${where.offset} (0x${where.offset.toString(16)})` : undefined]
      .filter((part) => part !== undefined)
      .join(' ');
    super(code, `${format}: ${message}${location ? ` [${location}]` : ''}`, details);
    this.name = 'ParseError';
    this.format = format;
    this.offset = where.offset;
    this.field = where.field;
    this.detail = message;
  }

  /**
   * The same error for bytes that lie at `baseOffset` in `container` (a payload inside a file):
   * its offset becomes the container's, and the message says where the inner bytes start.
   */
  within(container: string, baseOffset: number): ParseError {
    return new ParseError(
      this.code as ParseErrorCode,
      this.format,
      `${this.detail} (in ${container}, whose ${this.format} data starts at offset ${baseOffset})`,
      { ...(this.offset !== undefined ? { offset: baseOffset + this.offset } : {}), ...(this.field !== undefined ? { field: this.field } : {}) },
      { cause: this, ...(this.remedy !== undefined ? { remedy: this.remedy } : {}) },
    );
  }
}

/** A boot configuration that cannot be read as such, pointing at the file and line. */
export class ConfigError extends KexecError {
  readonly file: string | undefined;
  readonly line: number | undefined;

  constructor(message: string, where: { file?: string; line?: number } = {}, details: KexecErrorDetails = {}) {
    super(ErrorCode.FORMAT_INVALID, `${where.file ?? 'config'}${where.line !== undefined ? `:${where.line}` : ''}: ${message}`, details);
    this.name = 'ConfigError';
    this.file = where.file;
    this.line = where.line;
  }
}

/** A raw syscall failure, as the syscall layer reports it: no interpretation yet. */
export class SyscallError extends KexecError {
  readonly syscall: string;
  readonly errno: number;
  readonly errnoName: string;

  constructor(syscall: string, errno: number, errnoName: string, details: KexecErrorDetails = {}) {
    super(ErrorCode.SYSCALL_FAILED, `${syscall} failed: ${errnoName} (${errno})`, details);
    this.name = 'SyscallError';
    this.syscall = syscall;
    this.errno = errno;
    this.errnoName = errnoName;
  }
}

/**
 * A kexec refusal explained: the errno, the cause we established by checking the machine, the
 * kernel's own log lines written during the call, and what to do.
 */
export class KexecRefusedError extends KexecError {
  readonly syscall: string;
  readonly errno: number;
  readonly errnoName: string;
  /** Why, in plain words: the cause we found, not a guess from the errno alone. */
  readonly reason: string;
  /** Lines the kernel logged (from /dev/kmsg) while the call ran. */
  readonly kernelLog: readonly string[];

  constructor(
    code: ErrorCode,
    message: string,
    facts: { syscall: string; errno: number; errnoName: string; reason: string; kernelLog: readonly string[] },
    details: KexecErrorDetails = {},
  ) {
    super(code, message, details);
    this.name = 'KexecRefusedError';
    this.syscall = facts.syscall;
    this.errno = facts.errno;
    this.errnoName = facts.errnoName;
    this.reason = facts.reason;
    this.kernelLog = facts.kernelLog;
  }
}

export function isKexecError(value: unknown): value is KexecError {
  return value instanceof KexecError;
}
