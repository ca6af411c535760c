import { statSync } from 'node:fs';
import { ErrorCode, ValidationError } from '../../errors.js';
import { DEFAULT_VMCORE_PATH } from '../../crash/index.js';
import { inputFileError } from '../../input-file.js';

/**
 * Checks, before the dump readers open it, that the vmcore is there, so a missing /proc/vmcore
 * is explained as "not a capture kernel" rather than as ENOENT. Every other problem (a FIFO, no
 * permission, a symlink loop) is the one input path's to report, with its codes.
 */
export function requireVmcore(path: string): void {
  try {
    statSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw inputFileError(path, 'dump', error);
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
