/** Sizes as the kernel writes and reads them on its command line. */

export const KIB = 1024;
export const MIB = 1024 * KIB;
export const GIB = 1024 * MIB;

/** memparse()'s suffixes (lib/cmdline.c), each one a further shift by 10. */
const SUFFIX_SHIFT: Readonly<Record<string, bigint>> = { k: 10n, m: 20n, g: 30n, t: 40n, p: 50n, e: 60n };

export interface ParsedMemSize {
  readonly bytes: bigint;
  /** Characters consumed; 0 when no number starts at `from` (memparse leaves its pointer there). */
  readonly length: number;
}

/**
 * lib/cmdline.c memparse(): simple_strtoull(s, &end, 0) — so "0x" is hex and a leading "0"
 * octal — then one optional suffix K, M, G, T, P or E in either case. Returns how much of `text`
 * from `from` it used, as the kernel's parsers go on from there.
 */
export function parseMemSize(text: string, from = 0): ParsedMemSize {
  const match = /^(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)([kKmMgGtTpPeE]?)/.exec(text.slice(from));
  if (match === null) return { bytes: 0n, length: 0 };
  const digits = match[1]!;
  const value = digits.length > 1 && digits[0] === '0' && (digits[1] === 'x' || digits[1] === 'X') ? BigInt(digits) : digits.length > 1 && digits[0] === '0' ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  const suffix = match[2]!.toLowerCase();
  return { bytes: suffix === '' ? value : value << SUFFIX_SHIFT[suffix]!, length: match[0].length };
}

/** "256 MiB", "1.5 GiB", "812 KiB": for messages; exact MiB when the size is a whole number of them. */
export function formatSize(bytes: number): string {
  if (bytes >= GIB && bytes % (GIB / 4) === 0) return `${bytes / GIB} GiB`;
  if (bytes >= MIB) return Number.isInteger(bytes / MIB) ? `${bytes / MIB} MiB` : `${(bytes / MIB).toFixed(1)} MiB`;
  if (bytes >= KIB) return `${Math.round(bytes / KIB)} KiB`;
  return `${bytes} bytes`;
}

/** The smallest crashkernel= size (in the "M" unit people write) that holds `bytes`, rounded up to `stepMiB`. */
export function crashkernelSizeFor(bytes: number, stepMiB = 64): string {
  const mib = Math.ceil(bytes / MIB / stepMiB) * stepMiB;
  return `${mib}M`;
}

export function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}
