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
} as const;
