import { UnsupportedError } from '../errors.js';
import type { KexecSyscalls, MountSyscalls } from './types.js';

/** The explicit "unsupported" twin: importing works everywhere, calling explains why not. */
export function unsupportedSyscalls(platform: string, arch: string): KexecSyscalls {
  const refuse = refuser(platform, arch);
  return {
    arch,
    kexecFileLoad: () => refuse('kexec_file_load'),
    kexecLoad: () => refuse('kexec_load'),
    reboot: () => refuse('reboot'),
    sync: () => refuse('sync'),
    memfdCreate: () => refuse('memfd_create'),
    seekEnd: () => refuse('lseek'),
  };
}

/** The same twin for the mount namespace calls. */
export function unsupportedMountSyscalls(platform: string, arch: string): MountSyscalls {
  const refuse = refuser(platform, arch);
  return {
    unshare: () => refuse('unshare'),
    mount: () => refuse('mount'),
    umount2: () => refuse('umount2'),
  };
}

function refuser(platform: string, arch: string): (what: string) => never {
  return (what: string): never => {
    const why =
      platform !== 'linux'
        ? `kexec exists only on Linux; this is ${platform}`
        : `no syscall table for the ${arch} architecture (supported: x86_64, aarch64, riscv64)`;
    throw new UnsupportedError(`${what} is not available: ${why}`, { platform, arch }, {
      remedy: 'Run kexec-ts on a Linux machine of a supported architecture; the image and boot-config parsers work anywhere.',
    });
  };
}
