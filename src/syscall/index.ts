import { kernelArchOf } from './numbers.js';
import { linuxMountSyscalls, linuxSyscalls } from './linux.js';
import { unsupportedMountSyscalls, unsupportedSyscalls } from './unsupported.js';
import type { KexecSyscalls, MountSyscalls } from './types.js';

export type { KexecSegment, KexecSyscalls, MountSyscalls } from './types.js';
export * from './numbers.js';
export { errnoName, errnoDescription, errnoNumber } from './errno.js';

/**
 * The syscalls for a platform. The defaults are this process's; tests pass others to check
 * the unsupported path on any host.
 */
export function syscallsFor(platform: string = process.platform, nodeArch: string = process.arch): KexecSyscalls {
  const arch = kernelArchOf(nodeArch);
  if (platform !== 'linux' || arch === undefined) return unsupportedSyscalls(platform, arch ?? nodeArch);
  return linuxSyscalls(arch);
}

let defaultSyscalls: KexecSyscalls | undefined;

/** This process's syscalls, made once. */
export function hostSyscalls(): KexecSyscalls {
  defaultSyscalls ??= syscallsFor();
  return defaultSyscalls;
}

/** The mount namespace calls for a platform (src/bootcfg/disks/), chosen as syscallsFor chooses. */
export function mountSyscallsFor(platform: string = process.platform, nodeArch: string = process.arch): MountSyscalls {
  const arch = kernelArchOf(nodeArch);
  if (platform !== 'linux' || arch === undefined) return unsupportedMountSyscalls(platform, arch ?? nodeArch);
  return linuxMountSyscalls(arch);
}
