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
} as const;
