/** One message of the crashed kernel's log, as the ring buffer held it. */
export interface PrintkRecord {
  /** Nanoseconds since boot (local_clock() at printk time). */
  readonly tsNsec: bigint;
  /** The text without prefix, undefined for a data-less record (a message that lost its text). */
  readonly text: Uint8Array | undefined;
  /** The sequence number, where the layout keeps one (lockless ring, printk_info.seq). */
  readonly seq: bigint | undefined;
  /** Syslog facility and level (printk_info.level / printk_log.level), where exported. */
  readonly level: number | undefined;
}

/**
 * The kernel's log before 3.5: plain text in a ring, no records. makedumpfile writes it out
 * as it is, so the text comes back whole.
 */
export interface PlainKernelLog {
  readonly plainText: Uint8Array;
}

export type KernelLog = { readonly layout: 'lockless' | 'structured'; readonly records: readonly PrintkRecord[] } | ({ readonly layout: 'plain' } & PlainKernelLog);
