/**
 * Syscall numbers per architecture. x86_64 has its own table
 * (arch/x86/entry/syscalls/syscall_64.tbl, installed as asm/unistd_64.h); aarch64 and riscv64
 * use the generic one (include/uapi/asm-generic/unistd.h). test/syscall/numbers.test.ts reads
 * both installed headers and compares, so a typo here cannot pass.
 */

export type KernelArch = 'x86_64' | 'aarch64' | 'riscv64';

export type SyscallName = 'kexec_file_load' | 'kexec_load' | 'reboot' | 'sync' | 'memfd_create' | 'lseek' | 'unshare' | 'mount' | 'umount2';

const GENERIC_NUMBERS: Readonly<Record<SyscallName, number>> = {
  kexec_file_load: 294,
  kexec_load: 104,
  reboot: 142,
  sync: 81,
  memfd_create: 279,
  lseek: 62,
  unshare: 97,
  mount: 40,
  umount2: 39,
};

export const SYSCALL_NUMBERS: Readonly<Record<KernelArch, Readonly<Record<SyscallName, number>>>> = {
  x86_64: {
    kexec_file_load: 320,
    kexec_load: 246,
    reboot: 169,
    sync: 162,
    memfd_create: 319,
    lseek: 8,
    unshare: 272,
    mount: 165,
    umount2: 166,
  },
  aarch64: GENERIC_NUMBERS,
  riscv64: GENERIC_NUMBERS,
};

/** Node's process.arch -> the kernel's name for it; undefined for an arch we have no table for. */
export function kernelArchOf(nodeArch: string): KernelArch | undefined {
  switch (nodeArch) {
    case 'x64':
      return 'x86_64';
    case 'arm64':
      return 'aarch64';
    case 'riscv64':
      return 'riscv64';
    default:
      return undefined;
  }
}

// include/uapi/linux/kexec.h
export const KEXEC_FILE_UNLOAD = 0x00000001;
/** kexec_load(2) flags: the low bits are options, the high 16 the architecture of the image. */
export const KEXEC_ON_CRASH = 0x00000001;
export const KEXEC_ARCH_MASK = 0xffff0000;
/** The ELF machine numbers, shifted: EM_X86_64 62, EM_AARCH64 183, EM_RISCV 243. */
export const KEXEC_ARCH: Readonly<Record<KernelArch, number>> = {
  x86_64: 62 << 16,
  aarch64: 183 << 16,
  riscv64: 243 << 16,
};
/** The most segments kexec_load takes (KEXEC_SEGMENT_MAX). */
export const KEXEC_SEGMENT_MAX = 16;
export const KEXEC_FILE_ON_CRASH = 0x00000002;
export const KEXEC_FILE_NO_INITRAMFS = 0x00000004;
/** Linux 6.8+: the kernel prints what it does with the segments (kexec_dprintk). */
export const KEXEC_FILE_DEBUG = 0x00000008;

/**
 * The first kernel release that knows each optional flag. kexec_file_load refuses any flag it
 * does not know with EINVAL ("flags != (flags & KEXEC_FILE_FLAGS)" in kernel/kexec_file.c), so
 * such a flag is sent only to a kernel at least this new.
 */
export const KEXEC_FILE_FLAG_SINCE: Readonly<Record<string, readonly [major: number, minor: number]>> = {
  KEXEC_FILE_DEBUG: [6, 8],
};

/** Whether a kernel release string ("6.1.0-26-amd64") is at least major.minor. */
export function releaseAtLeast(release: string | undefined, [major, minor]: readonly [number, number]): boolean | undefined {
  const match = release === undefined ? null : /^(\d+)\.(\d+)/.exec(release);
  if (match === null) return undefined;
  const [releaseMajor, releaseMinor] = [Number(match[1]), Number(match[2])];
  return releaseMajor > major || (releaseMajor === major && releaseMinor >= minor);
}

// include/uapi/linux/reboot.h
export const LINUX_REBOOT_MAGIC1 = 0xfee1dead;
export const LINUX_REBOOT_MAGIC2 = 672274793;
export const LINUX_REBOOT_CMD_KEXEC = 0x45584543;

// include/uapi/linux/memfd.h
export const MFD_CLOEXEC = 0x0001;
export const MFD_ALLOW_SEALING = 0x0002;

export const SEEK_END = 2;

// include/uapi/linux/sched.h
export const CLONE_NEWNS = 0x00020000;

// include/uapi/linux/mount.h (the legacy mount(2) flags)
export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_REMOUNT = 32;
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MS_PRIVATE = 1 << 18;
/** umount2(2): detach now, let the kernel finish once nothing uses the mount. */
export const MNT_DETACH = 2;
