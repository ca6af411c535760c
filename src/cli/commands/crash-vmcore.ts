import { statSync } from 'node:fs';
import { ErrorCode, ValidationError } from '../../errors.js';
import { DEFAULT_VMCORE_PATH } from '../../crash/index.js';

/**
 * Checks, before the dump readers open it, that the vmcore is there and readable, so a missing
 * /proc/vmcore is explained as "not a capture kernel" rather than as ENOENT.
 */
export function requireVmcore(path: string): void {
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) throw new ValidationError(ErrorCode.INPUT_NOT_REGULAR_FILE, `${path} is a directory, not a dump.`, { path, remedy: 'Give the dump file (or /proc/vmcore in the capture kernel).' });
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES') throw new ValidationError(ErrorCode.INPUT_UNREADABLE, `${path} cannot be read (EACCES).`, { path, cause: error, remedy: 'Run as root.' });
    throw new ValidationError(
      ErrorCode.VMCORE_NOT_FOUND,
      path === DEFAULT_VMCORE_PATH
        ? `There is no ${DEFAULT_VMCORE_PATH}: this is not a capture kernel (the kernel creates it only when it was booted by a crash).`
        : `The dump ${path} does not exist.`,
      {
        path,
        cause: error,
        remedy:
          path === DEFAULT_VMCORE_PATH
            ? 'Run this in the capture kernel (kexec-ts crash load arms one), or give a saved dump: --vmcore FILE.'
            : `Check the path; \`ls -l ${path}\` shows whether it is there.`,
      },
    );
  }
}
