import type { PrintkRecord } from './record.js';

/**
 * How to print the log: 'makedumpfile' as `makedumpfile --dump-dmesg` (continuation lines
 * indented under the text, data-less records left out) or 'vmcore-dmesg' as kexec-tools'
 * vmcore-dmesg (continuation lines at the margin, data-less records as a bare timestamp).
 */
export type DmesgStyle = 'makedumpfile' | 'vmcore-dmesg';

const isPrintable = (byte: number): boolean => byte >= 0x20 && byte <= 0x7e;
/** C's isspace() in the C locale: space, \t \n \v \f \r. */
const isSpace = (byte: number): boolean => byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);

/** "[%5lu.%06lu] ": seconds and microseconds, as both tools print them. */
export function timestampPrefix(tsNsec: bigint): string {
  const seconds = tsNsec / 1_000_000_000n;
  const micros = (tsNsec % 1_000_000_000n) / 1000n;
  return `[${seconds.toString().padStart(5, ' ')}.${micros.toString().padStart(6, '0')}] `;
}

function escapeByte(byte: number, style: DmesgStyle): string {
  // makedumpfile formats a plain (signed) char with %02x, so a byte >= 0x80 comes out
  // sign-extended ("\xffffffc3"); vmcore-dmesg uses unsigned char ("\xc3"). Both copied as is,
  // so the output compares line for line with the tool it imitates.
  const hex = byte >= 0x80 && style === 'makedumpfile' ? `ffffff${byte.toString(16).padStart(2, '0')}` : byte.toString(16).padStart(2, '0');
  return `\\x${hex}`;
}

/** The lines one record prints as (one, or more when its text holds newlines). */
export function formatRecord(record: PrintkRecord, style: DmesgStyle = 'makedumpfile'): string[] {
  const prefix = timestampPrefix(record.tsNsec);
  if (record.text === undefined) return style === 'makedumpfile' ? [] : [prefix];
  const indent = style === 'makedumpfile' ? ' '.repeat(prefix.length) : '';
  const lines: string[] = [];
  let line = prefix;
  for (const byte of record.text) {
    if (byte === 0x0a) {
      lines.push(line);
      line = indent;
    } else if (isPrintable(byte) || isSpace(byte)) line += String.fromCharCode(byte);
    else line += escapeByte(byte, style);
  }
  lines.push(line);
  return lines;
}

export function formatRecords(records: readonly PrintkRecord[], style: DmesgStyle = 'makedumpfile'): string[] {
  return records.flatMap((record) => formatRecord(record, style));
}
