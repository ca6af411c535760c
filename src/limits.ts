/** Every cap on untrusted or unbounded input, named, with the reason. */
export const LIMITS = {
  /** One /dev/kmsg record is at most ~8 KiB (CONSOLE_EXT_LOG_MAX in kernel/printk); a shorter
   * buffer makes read(2) fail with EINVAL. */
  kmsgRecordBytes: 8192,
  /** Stop reading the kernel log after this many records in one capture: a flood of messages
   * during the call must not hold us up; the interesting lines come first. */
  kmsgRecordsPerCapture: 2000,
  /** Bytes read from a small /proc or /sys file. */
  procFileBytes: 1 << 20,
  /** Largest kernel or initrd file: KEXEC_FILE_SIZE_MAX in kernel/kexec_file.c (4 GiB); the
   * kernel refuses anything larger with EFBIG, so reading more for a preflight is pointless. */
  kernelFileBytes: 4 * 1024 * 1024 * 1024,
  /** Largest kernel image (bzImage, Image, UKI, addon) read whole to check it before the
   * syscall. Real kernels are 10-100 MB and a UKI with its initrd a few hundred; reading a
   * bigger file would only hold that much memory to tell the user it is not a kernel. */
  wholeImageReadBytes: 1024 * 1024 * 1024,
  /** Files looked at in a UKI's <uki>.extra.d directory: real systems have a handful of addons. */
  ukiAddonFiles: 256,
  /** ELF program headers read from one file: a vmlinux has a handful, a vmcore one per memory
   * range plus one note (thousands at most on huge NUMA machines); e_phnum is 16 bits anyway,
   * PN_XNUM extension included, so this bounds the table to a few MiB. */
  elfProgramHeaders: 65535,
  /** Sections in one PE image: the Windows loader and systemd-stub (MAX_SECTIONS in
   * src/boot/pe.c) both refuse more than 96, so a larger NumberOfSections is a lie. */
  peSections: 96,
  /** Data directories read from a PE optional header: the PE Format defines 16
   * (IMAGE_NUMBEROF_DIRECTORY_ENTRIES); loaders ignore a larger NumberOfRvaAndSizes. */
  peDataDirectories: 16,
  /** Attribute certificates (WIN_CERTIFICATE entries) read from one PE: real images carry one,
   * rarely two (dual SHA-1/SHA-256 signing); each is walked and handed to the DER parser. */
  peCertificateEntries: 16,
  /** Bytes of one WIN_CERTIFICATE handed to the DER parser: a signature with its certificate
   * chain and a timestamp is a few KiB; anything near this is not a signature. */
  peCertificateBytes: 1 << 20,
  /** Bytes of a long section name read from the COFF string table ("/123" names). */
  peLongSectionNameBytes: 256,
  /** Lines read from an os-release text (.osrel, .profile in a UKI): real ones have ~20. */
  osReleaseLines: 4096,
  /** Bytes a compressed kernel payload may decompress to. Debian's amd64 vmlinux is ~50-70 MB
   * and even debug builds with everything built in stay in the low hundreds of MB. 1 GiB is
   * generous for any real kernel, yet stops a decompression bomb (a few MB of zeros expanding
   * without end) long before it takes the machine's memory. */
  kernelPayloadBytes: 1024 * 1024 * 1024,
} as const;

/** Caps on boot configurations (BLS, GRUB, syslinux, a /boot listing): all of it is untrusted text. */
export const BOOTCFG_LIMITS = {
  /** Bytes of one config file. Generated grub.cfg files run to tens of KiB; a megabyte is no
   * longer a boot menu, and reading it whole must stay cheap. */
  configFileBytes: 1 << 20,
  /** Bytes of one UKI read to list it: a kernel, initrd and microcode together stay well under
   * 512 MiB on real systems; a larger .efi in EFI/Linux is left out of the list. */
  ukiFileBytes: 512 * 1024 * 1024,
  /** Entries one config may produce. systemd-boot and GRUB menus hold dozens; a thousand keeps
   * a runaway generator (or a loop of `source`) from filling memory. */
  entries: 1024,
  /** `*.conf` files read from one BLS entries directory, and names read from one /boot listing. */
  directoryEntries: 4096,
  /** Nested INCLUDE (syslinux) or source/configfile (GRUB): real configs go two or three deep;
   * a file including itself must stop somewhere. */
  includeDepth: 16,
  /** Nested GRUB blocks (if/while/menuentry/submenu/function calls) and syslinux MENU BEGIN. */
  nestingDepth: 64,
  /** GRUB commands executed for one config: bounds `while` loops and recursive functions. */
  grubCommandsExecuted: 200_000,
  /** Characters in one expanded GRUB word or variable value: `set a=$a$a` doubles each time. */
  grubValueChars: 64 * 1024,
  /** Symbolic links followed while resolving one path under a root, as the kernel's MAXSYMLINKS. */
  symlinkHops: 40,
} as const;

/** Caps on what arming the capture kernel reads: /proc files, initrds, a modules.dep. */
export const CRASH_ARM_LIMITS = {
  /** Lines of /proc/iomem: a large NUMA server lists a few thousand resources. */
  iomemLines: 65536,
  /** Entries walked in one initrd's cpio archives: distribution initrds hold a few thousand
   * files, a full dracut one tens of thousands; a million stops a hostile header chain. */
  cpioEntries: 1_000_000,
  /** Bytes of one cpio entry name: the kernel's unpacker refuses names longer than PATH_MAX. */
  cpioNameBytes: 4096,
  /** Unpacked bytes counted when the reservation is unknown: KEXEC_FILE_SIZE_MAX (4 GiB), the
   * largest initrd the kernel takes, is also far past any crashkernel= reservation. With a
   * known reservation the count stops as soon as it passes it: "more than fits" is the answer. */
  initrdUnpackedBytes: 4 * 1024 * 1024 * 1024,
  /** Lines of a modules.dep: Debian's generic kernel lists ~4,000 modules. */
  modulesDepLines: 200_000,
} as const;

/** Caps on crash dumps (vmcores, kdump-compressed files, the crashed kernel's memory): all untrusted. */
export const CRASH_LIMITS = {
  /** Bytes of one PT_NOTE segment read whole: a CPU's notes are ~350 bytes and VMCOREINFO one
   * page (VMCOREINFO_BYTES), so even 8192 CPUs stay near 3 MiB. */
  noteSegmentBytes: 16 * 1024 * 1024,
  /** Bytes of VMCOREINFO text: the kernel reserves one page for it; 1 MiB allows 64 KiB pages and then some. */
  vmcoreinfoBytes: 1024 * 1024,
  /** Page size a dump may claim (PAGESIZE, a kdump header's block_size): 4 KiB to 256 KiB exist (hexagon, ppc44x). */
  pageSizeBytes: 256 * 1024,
  /** Physical address bits: x86_64 5-level paging reaches 52 (MAX_PHYSMEM_BITS); nothing exceeds it. */
  physicalAddressBits: 52,
  /** The printk text ring read whole: CONFIG_LOG_BUF_SHIFT stops at 25 (32 MiB); log_buf_len= can
   * ask for more, and past this the log is not worth the memory of the machine saving it. */
  printkTextBytes: 256 * 1024 * 1024,
  /** printk descriptors read (2^(LOG_BUF_SHIFT - 5) for the default ratio). */
  printkDescriptors: 1 << 24,
  /** Records read from a legacy log_buf before a cycle is assumed (each is at least 16 bytes). */
  logBufRecords: 1 << 24,
  /** Struct pages classified in one piece of the dump-level pass (one piece's bitmap stays small). */
  pagesPerCycle: 1 << 20,
} as const;

/** Caps on ISO 9660 images (Rock Ridge, Joliet, El Torito): every byte of an image file is untrusted. */
export const ISO9660_LIMITS = {
  /** Volume descriptors read from sector 16 on, looking for the terminator: real images carry
   * three to five (primary, El Torito boot record, Joliet, terminator); the UDF bridge's
   * descriptors come after the terminator and are never read. */
  volumeDescriptors: 64,
  /** Bytes of one directory, read whole: a record is at least 34 bytes, so this holds ~120,000
   * names, where the fullest directories of Debian's DVD images hold a few thousand. */
  directoryBytes: 4 * 1024 * 1024,
  /** Directory bytes kept parsed between lookups; older directories are dropped past this, so
   * a walk over a hostile image cannot grow the cache without end. */
  directoryCacheBytes: 16 * 1024 * 1024,
  /** Directory records making one file (Multi-Extent, ECMA-119 9.1.6): each extent holds less
   * than 4 GiB; 64 of them is a 256 GiB file, past any kernel, initrd or config. */
  fileExtents: 64,
  /** Components of one path looked up, symbolic link targets included: PATH_MAX is 4096 bytes,
   * which holds at most 2048 one-character components. */
  pathComponents: 2048,
  /** Rock Ridge symbolic links followed in one lookup, as the kernel's MAXSYMLINKS. */
  symlinkHops: 40,
  /** Directory levels a walk descends: ECMA-119 stops at 8 and Rock Ridge's relocation lifts
   * that for deep trees; real images stay far below 64, and a directory looping back to its
   * ancestor (a lying extent) must end somewhere. */
  directoryDepth: 64,
  /** SUSP Continuation Areas (CE) followed for one directory record: Linux follows 32
   * (RR_MAX_CE_ENTRIES, fs/isofs/rock.c); mastering tools write one or two. A CE pointing back
   * at itself would otherwise loop for ever. */
  continuationAreas: 32,
  /** Bytes of one Rock Ridge name (NM pieces joined): NAME_MAX is 255. */
  rockRidgeNameBytes: 255,
  /** Bytes of one Rock Ridge symbolic link target (SL components joined): PATH_MAX is 4096. */
  rockRidgeLinkBytes: 4096,
  /** El Torito catalog entries read: images carry one BIOS and one UEFI entry, a few with
   * several platforms' sections; the catalog is one sector (64 entries) on every real image. */
  bootCatalogEntries: 256,
} as const;

/** Caps on a flattened devicetree blob (the running kernel's /sys/firmware/fdt, or a file given). */
export const DEVICETREE_LIMITS = {
  /** Nested nodes: the kernel's unflattener stops at FDT_MAX_DEPTH (64, drivers/of/fdt.c), so a
   * deeper tree would not boot anyway; real trees go five or six deep. */
  nodeDepth: 64,
  /** Nodes in one tree: qemu's virt machine has ~40, large arm64 SoCs and servers a few
   * thousand. arm64 refuses a blob past MAX_FDT_SIZE (2 MiB), which holds at most ~260,000. */
  nodes: 1 << 16,
  /** Properties in one tree: real trees have about ten per node; each becomes an object here. */
  properties: 1 << 18,
  /** Entries of the memory reservation block: firmware writes a handful (spin tables, its own
   * code); a list without its terminating entry must not be walked to the end of a lying blob. */
  memoryReservations: 4096,
  /** Cells in one #address-cells or #size-cells: FDT_MAX_NCELLS (4) in libfdt; a larger value
   * is a corrupt tree, and would make every reg entry a huge number. */
  cellsPerNumber: 4,
  /** Bytes of one node or property name: the specification allows 31 characters (2.2.1,
   * 2.2.4.1), real trees stretch that a little with vendor prefixes and unit addresses. Each
   * property's name is its own string here, so a lying nameoff into a long unterminated run of
   * the strings block must not make every property a large string. */
  nameBytes: 256,
} as const;
