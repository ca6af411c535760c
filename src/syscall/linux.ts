import { createRequire } from 'node:module';
import { SyscallError } from '../errors.js';
import { errnoName } from './errno.js';
import {
  LINUX_REBOOT_MAGIC1,
  LINUX_REBOOT_MAGIC2,
  SEEK_END,
  SYSCALL_NUMBERS,
  type KernelArch,
  type SyscallName,
} from './numbers.js';
import type { KexecSyscalls, MountSyscalls } from './types.js';

type Koffi = typeof import('koffi');

/**
 * The only file that loads koffi. It is loaded on first use, not at import, so that importing
 * the library costs nothing and works on hosts where the native module cannot load.
 *
 * Every call goes through libc's variadic syscall(2) with our own numbers: kexec_file_load has
 * no libc wrapper, and one path for all calls means one way errno is read.
 */
let bound: { koffi: Koffi; syscall: (...args: unknown[]) => number | bigint } | undefined;

/** `struct kexec_segment { const void *buf; size_t bufsz; const void *mem; size_t memsz; }`, declared on first bind. */
const KEXEC_SEGMENT_TYPE = 'kexec_segment_t';

const bind = () => {
  if (bound === undefined) {
    const koffi = createRequire(import.meta.url)('koffi') as Koffi;
    const libc = koffi.load('libc.so.6');
    // mem is a physical address, never dereferenced here: an integer of pointer width.
    koffi.struct(KEXEC_SEGMENT_TYPE, { buf: 'const void *', bufsz: 'size_t', mem: 'uintptr_t', memsz: 'size_t' });
    bound = { koffi, syscall: libc.func('long syscall(long number, ...)') as (...args: unknown[]) => number | bigint };
  }
  return bound;
};

/** Calls syscall `name` of `arch` with typed variadic arguments; throws SyscallError on -1. */
function callFor(arch: KernelArch): (name: SyscallName, ...typedArgs: unknown[]) => number {
  const numbers = SYSCALL_NUMBERS[arch];
  return (name, ...typedArgs) => {
    const { koffi, syscall } = bind();
    const result = Number(syscall(numbers[name], ...typedArgs));
    if (result === -1) {
      const errno = koffi.errno();
      throw new SyscallError(name, errno, errnoName(errno));
    }
    return result;
  };
}

export function linuxSyscalls(arch: KernelArch): KexecSyscalls {
  const call = callFor(arch);
  return {
    arch,
    kexecFileLoad(kernelFd, initrdFd, cmdline, flags) {
      // cmdline_len counts the terminating NUL: kimage_file_prepare_segments() rejects a
      // command line whose last byte is not '\0' (kernel/kexec_file.c).
      const cmdlineBytes = Buffer.from(`${cmdline}\0`, 'utf8');
      const cmdlineLength = cmdline.length === 0 ? 0 : cmdlineBytes.length;
      call(
        'kexec_file_load',
        'int', kernelFd,
        'int', initrdFd,
        'unsigned long', cmdlineLength,
        'const uint8_t *', cmdlineLength === 0 ? null : cmdlineBytes,
        'unsigned long', flags,
      );
    },
    kexecLoad(entry, segments, flags) {
      const structs = segments.map((segment) => ({ buf: segment.bytes, bufsz: segment.bytes.length, mem: segment.physicalAddress, memsz: segment.memoryBytes }));
      call('kexec_load', 'unsigned long', entry, 'unsigned long', structs.length, `${KEXEC_SEGMENT_TYPE} *`, structs, 'unsigned long', flags);
    },
    reboot(command) {
      call('reboot', 'int', LINUX_REBOOT_MAGIC1 | 0, 'int', LINUX_REBOOT_MAGIC2, 'unsigned int', command, 'void *', null);
    },
    sync() {
      call('sync');
    },
    memfdCreate(name, flags) {
      return call('memfd_create', 'const char *', name, 'unsigned int', flags);
    },
    seekEnd(fd) {
      call('lseek', 'int', fd, 'long', 0, 'int', SEEK_END);
    },
  };
}

/**
 * unshare(2), mount(2) and umount2(2) for src/bootcfg/disks/. A mount namespace belongs to a
 * thread: unshare(CLONE_NEWNS) moves only the calling thread (Node's main thread here), so the
 * caller must do its path lookups there, with synchronous fs calls (libuv's pool threads stay in
 * the old namespace). Descriptors opened there work from any thread.
 */
export function linuxMountSyscalls(arch: KernelArch): MountSyscalls {
  const call = callFor(arch);
  return {
    unshare(flags) {
      call('unshare', 'unsigned long', flags);
    },
    mount(source, target, fstype, flags, data) {
      call('mount', 'const char *', source, 'const char *', target, 'const char *', fstype, 'unsigned long', flags, 'const char *', data);
    },
    umount2(target, flags) {
      call('umount2', 'const char *', target, 'int', flags);
    },
  };
}
