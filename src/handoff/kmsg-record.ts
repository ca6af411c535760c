/**
 * One /dev/kmsg record (Documentation/ABI/testing/dev-kmsg):
 * "<prefix>,<seq>,<timestamp usec>,<flags>[,more];<message>\n" followed by optional
 * continuation lines " KEY=value\n". Pure: text in, record out.
 */
export interface KernelLogRecord {
  /** syslog priority (0 emerg .. 7 debug); the facility is split off. */
  readonly level: number;
  readonly facility: number;
  readonly sequence: bigint;
  readonly timestampMicros: bigint;
  readonly message: string;
}

export function parseKmsgRecord(text: string): KernelLogRecord | undefined {
  const semicolon = text.indexOf(';');
  if (semicolon === -1) return undefined;
  const fields = text.slice(0, semicolon).split(',');
  if (fields.length < 4) return undefined;
  const [prefixText, sequenceText, timestampText] = fields as [string, string, string];
  if (!/^\d+$/.test(prefixText) || !/^\d+$/.test(sequenceText) || !/^\d+$/.test(timestampText)) return undefined;
  const prefix = Number(prefixText);
  const body = text.slice(semicolon + 1);
  const newline = body.indexOf('\n');
  // The kernel escapes non-printable bytes as \xNN; keep them escaped: this is for people.
  const message = newline === -1 ? body : body.slice(0, newline);
  return {
    level: prefix & 7,
    facility: prefix >> 3,
    sequence: BigInt(sequenceText),
    timestampMicros: BigInt(timestampText),
    message,
  };
}

/** "[   12.345678] message": the form dmesg prints, for attaching to an error. */
export function formatKernelLogRecord(record: KernelLogRecord): string {
  const seconds = Number(record.timestampMicros / 1_000_000n);
  const micros = Number(record.timestampMicros % 1_000_000n);
  return `[${seconds.toString().padStart(5)}.${micros.toString().padStart(6, '0')}] ${record.message}`;
}
