import { ErrorCode, KexecError, KexecRefusedError, UnsupportedError, UsageError, ValidationError } from '../errors.js';

/** Exit codes of the kexec-ts command, documented in the README; stable. */
export const ExitCode = {
  OK: 0,
  /** A bug in kexec-ts: please report it. */
  INTERNAL_ERROR: 1,
  USAGE: 2,
  /** Input rejected before any syscall (missing file, bad command line): nothing changed. */
  INPUT_REJECTED: 3,
  /** The kernel refused the call; the message says why. */
  KERNEL_REFUSED: 4,
  /** Not Linux, an architecture without a syscall table, or a kernel that cannot kexec (a dry run says so). */
  UNSUPPORTED: 5,
  /** exec with no kernel loaded. */
  NOTHING_LOADED: 6,
  /** The init system did not take the orderly hand-off. */
  HANDOFF_FAILED: 7,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export function exitCodeFor(error: unknown): ExitCode {
  if (error instanceof UsageError) return ExitCode.USAGE;
  if (error instanceof ValidationError) return ExitCode.INPUT_REJECTED;
  if (error instanceof UnsupportedError) return ExitCode.UNSUPPORTED;
  if (error instanceof KexecRefusedError) return ExitCode.KERNEL_REFUSED;
  if (error instanceof KexecError) {
    if (error.code === ErrorCode.NOTHING_LOADED) return ExitCode.NOTHING_LOADED;
    if (error.code === ErrorCode.ORDERLY_HANDOFF_FAILED) return ExitCode.HANDOFF_FAILED;
    if (error.code === ErrorCode.SYSCALL_FAILED) return ExitCode.KERNEL_REFUSED;
    if (error.code === ErrorCode.MACHINE_CANNOT_KEXEC) return ExitCode.UNSUPPORTED;
    return ExitCode.INPUT_REJECTED;
  }
  return ExitCode.INTERNAL_ERROR;
}
