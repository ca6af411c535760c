/** One `struct kexec_segment` (include/uapi/linux/kexec.h): bytes and where they go. */
export interface KexecSegment {
  readonly bytes: Uint8Array;
  /** Physical address, page aligned. */
  readonly physicalAddress: bigint;
  /** Bytes reserved there, page aligned and at least bytes.length (the rest is zeroed). */
  readonly memoryBytes: bigint;
}

/** What the rest of the library may ask of the kernel. Implemented by linux.ts (koffi) and
 * unsupported.ts (throws), chosen in index.ts. */
export interface KexecSyscalls {
  readonly arch: string;
  /** kexec_file_load(2). Throws SyscallError on -1. */
  kexecFileLoad(kernelFd: number, initrdFd: number, cmdline: string, flags: number): void;
  /** reboot(2) with the two magic numbers filled in. Returns only on failure (throws). */
  /**
   * kexec_load(2): the image as segments the caller placed in physical memory, `entry` the
   * physical address the CPU jumps to. Throws SyscallError on -1.
   */
  kexecLoad(entry: bigint, segments: readonly KexecSegment[], flags: number): void;
  reboot(command: number): void;
  sync(): void;
  /** memfd_create(2): an anonymous file, so prepared images never touch the disk. */
  memfdCreate(name: string, flags: number): number;
  /** lseek(fd, 0, SEEK_END): on /dev/kmsg this skips every record already logged. */
  seekEnd(fd: number): void;
}

/**
 * The calls that look at other file systems without touching the machine's mounts: a process
 * unshares its mount namespace, makes it private, and mounts there (src/bootcfg/disks/).
 * Implemented beside KexecSyscalls, in linux.ts and unsupported.ts.
 */
export interface MountSyscalls {
  /** unshare(2). Throws SyscallError on -1. */
  unshare(flags: number): void;
  /** mount(2); `source`, `fstype` and `data` may be null (a propagation change names none). */
  mount(source: string | null, target: string, fstype: string | null, flags: number, data: string | null): void;
  /** umount2(2). */
  umount2(target: string, flags: number): void;
}
