/**
 * The one shape every boot-configuration parser produces (BLS Type #1, GRUB, syslinux family,
 * a bare distribution /boot), and the small interfaces the parsers share. Pure declarations.
 */

/** Where an entry came from; 'uki' is a BLS Type #2 entry (a UKI in EFI/Linux on the ESP). */
export type BootEntryOrigin = 'bls' | 'grub' | 'syslinux' | 'distro' | 'uki';

/** Where a diagnostic or an entry comes from: a path as the config's reader sees it, 1-based line. */
export interface SourceLocation {
  file: string;
  line: number;
}

/** Why kexec cannot boot an entry. Codes are stable API; messages are for people. */
export const UnbootableCode = {
  /** Hands control to another boot loader or EFI program (GRUB `chainloader`, BLS `efi`). */
  CHAINLOADER: 'CHAINLOADER',
  /** Another operating system: Windows, the BSDs, GNU/Hurd. */
  OTHER_OS: 'OTHER_OS',
  /** A multiboot kernel (Xen, Hurd): kexec_file_load takes Linux images only. */
  MULTIBOOT: 'MULTIBOOT',
  /** A memory tester (memtest86+), which is not a Linux kernel. */
  MEMTEST: 'MEMTEST',
  /** A firmware or boot-loader action (UEFI firmware setup, reboot, halt), not a kernel. */
  FIRMWARE_ACTION: 'FIRMWARE_ACTION',
  /** A syslinux COM32 module or other non-Linux syslinux image (`.c32`, `.0`, `.bss`, `.com`). */
  SYSLINUX_MODULE: 'SYSLINUX_MODULE',
  /** Boots the next local disk (syslinux `LOCALBOOT`). */
  LOCAL_BOOT: 'LOCAL_BOOT',
  /** Switches to another menu (syslinux `CONFIG`, GRUB `configfile` inside an entry). */
  OTHER_MENU: 'OTHER_MENU',
  /** The entry names no kernel at all. */
  NO_KERNEL: 'NO_KERNEL',
  /** Set by resolution: the kernel file is not there. */
  KERNEL_NOT_FOUND: 'KERNEL_NOT_FOUND',
  /** Set by resolution: an initrd file is not there. */
  INITRD_NOT_FOUND: 'INITRD_NOT_FOUND',
  /** Set by resolution: the device tree file is not there. */
  DEVICETREE_NOT_FOUND: 'DEVICETREE_NOT_FOUND',
} as const;
export type UnbootableCode = (typeof UnbootableCode)[keyof typeof UnbootableCode];

export interface UnbootableReason {
  code: UnbootableCode;
  message: string;
}

/** BLS boot counting, from a `+LEFT[-DONE]` file-name suffix (BLS "Boot counting"). */
export interface BootCounting {
  triesLeft: number;
  triesDone: number;
}

/** Where an entry read from an ISO image finds its files, and what a boot from the image file adds. */
export interface IsoEntrySource {
  /** The image file (a host path), when the caller named it. */
  imageFile?: string;
  /** The image's path on the file system holding it, given to the configs as `${iso_path}`. */
  isoPath?: string;
  /** Command-line words the image's configs add for a boot from the image file
   * (`iso-scan/filename=/isos/x.iso`, `findiso=...`, `img_loop=...`); empty when they add none. */
  loopbackArgs: string[];
}

export interface BootEntry {
  /** Stable identifier as the loader names the entry: BLS file name (sans counters), GRUB
   * `--id` (else the title), syslinux LABEL, distro kernel file name. */
  id: string;
  title: string;
  version?: string;
  /** Kernel path as the config writes it (after variable expansion), undefined when there is none. */
  kernel?: string;
  /** Every initrd, in load order: the kernel receives them concatenated. */
  initrds: string[];
  cmdline: string;
  /**
   * Where `cmdline` came from when no configuration wrote it (a /boot with kernels and no loader
   * config): this boot's /proc/cmdline, or nowhere (another system's tree: `cmdline` is '' and
   * booting it as it is would start a kernel with no root=). Absent when a config wrote it.
   */
  cmdlineOrigin?: 'this-boot' | 'unknown';
  /** With cmdlineOrigin `unknown`: why, for people ("its /boot has kernels but no loader config..."). */
  cmdlineUnknownReason?: string;
  devicetree?: string;
  source: SourceLocation;
  isDefault: boolean;
  unbootableReason?: UnbootableReason;
  origin: BootEntryOrigin;
  /**
   * Directories (in the reader's namespace) that the entry's relative-to-partition paths may be
   * relative to, most likely first. A BLS entry in /boot/loader/entries refers to files on the
   * partition mounted at /boot, or (when /boot is a plain directory) on the root file system.
   */
  pathBases: string[];
  /** Titles of the enclosing GRUB submenus or syslinux `MENU BEGIN` blocks, outermost first. */
  menuPath?: string[];
  /** BLS only. */
  sortKey?: string;
  machineId?: string;
  architecture?: string;
  devicetreeOverlays?: string[];
  /** BLS `extra` lines, in order. */
  extras?: string[];
  bootCounting?: BootCounting;
  /** Set when the entry's files are inside an ISO 9660 image (iso9660/boot-entries.ts): its
   * paths are in the image's namespace, read from the image rather than a mounted file system. */
  iso?: IsoEntrySource;
}

export const BootConfigWarningCode = {
  UNKNOWN_KEY: 'UNKNOWN_KEY',
  UNKNOWN_COMMAND: 'UNKNOWN_COMMAND',
  DUPLICATE_KEY: 'DUPLICATE_KEY',
  MISSING_VALUE: 'MISSING_VALUE',
  SYNTAX_ERROR: 'SYNTAX_ERROR',
  FILE_NOT_FOUND: 'FILE_NOT_FOUND',
  DEFAULT_NOT_FOUND: 'DEFAULT_NOT_FOUND',
  LIMIT_REACHED: 'LIMIT_REACHED',
  INVALID_VALUE: 'INVALID_VALUE',
  UNSUPPORTED: 'UNSUPPORTED',
  /** BLS entries that refer to GRUB variables, read without the grub.cfg that sets them. */
  GRUB_VARIABLES: 'GRUB_VARIABLES',
} as const;
export type BootConfigWarningCode = (typeof BootConfigWarningCode)[keyof typeof BootConfigWarningCode];

/** Something odd but recoverable, kept rather than thrown (forward compatibility). */
export interface BootConfigWarning {
  code: BootConfigWarningCode;
  message: string;
  file?: string;
  line?: number;
}

/** What every parser returns: entries in menu order, the default among them, and the warnings. */
export interface BootConfig {
  entries: BootEntry[];
  /** `id` of the entry marked `isDefault`, if any entry is. */
  defaultId?: string;
  warnings: BootConfigWarning[];
}

/**
 * How a parser reaches files a config refers to (BLS directory, grubenv, INCLUDE, source).
 * Paths are absolute in the reader's namespace (a root directory chosen by the caller); the
 * reader never leaves that namespace. Pure parsers take this instead of touching fs.
 */
export interface BootFileReader {
  /** The file's text, or undefined when it does not exist or is not a regular file. */
  readText(path: string): string | undefined;
  /** Names (not paths) in a directory, sorted; [] when it does not exist. */
  list(dir: string): string[];
  /** Whether a path exists, without reading it (file tests on kernels); readText is used when absent. */
  exists?(path: string): boolean;
}

/** A reader over an in-memory map of path -> text: for tests and for callers that already hold the files. */
export function memoryBootFileReader(files: Readonly<Record<string, string>>): BootFileReader {
  return {
    readText: (path) => (Object.prototype.hasOwnProperty.call(files, path) ? files[path] : undefined),
    list(dir) {
      const prefix = dir.endsWith('/') ? dir : `${dir}/`;
      const names = new Set<string>();
      for (const path of Object.keys(files)) {
        if (path.startsWith(prefix)) names.add(path.slice(prefix.length).split('/')[0]!);
      }
      return [...names].sort();
    },
  };
}
