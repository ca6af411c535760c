/**
 * blkid's low-level probe of one device (`blkid -p -o udev DEVICE`), parsed. The udev format is
 * used rather than `export` because it spells unsafe bytes as `\xNN` (ID_FS_LABEL_ENC), which
 * decodes without loss; `export` uses `M-` and `^` notation. Pure and tolerant: unknown keys are
 * kept, missing ones are null, a value is capped (fuzzed: fuzz/targets/disks.ts).
 *
 * Why not `lsblk --json`: without a udev database (a container, an initramfs, a rescue shell)
 * util-linux 2.38's lsblk reports no FSTYPE, UUID or LABEL at all, while blkid -p reads the
 * device itself.
 */
import { ErrorCode, ParseError } from '../../errors.js';

/** Caps on blkid's output: a probe prints a dozen short lines. */
export const BLKID_LIMITS = {
  outputBytes: 64 * 1024,
  lines: 256,
  valueChars: 1024,
} as const;

export interface BlkidProbe {
  /** ID_FS_TYPE: ext4, vfat, crypto_LUKS, LVM2_member, swap... */
  readonly type: string | null;
  /** ID_FS_USAGE: filesystem, crypto, raid, other. */
  readonly usage: string | null;
  readonly uuid: string | null;
  readonly label: string | null;
  readonly version: string | null;
  readonly partEntryUuid: string | null;
  readonly partEntryName: string | null;
  /** ID_PART_TABLE_TYPE: gpt or dos, when the device holds a partition table. */
  readonly partTableType: string | null;
  /** Every key as printed (decoded). */
  readonly fields: Readonly<Record<string, string>>;
}

/** `\xNN` as blkid_encode_string writes it; anything else is kept as it is. */
export function decodeBlkidValue(value: string): string {
  if (!value.includes('\\x')) return value;
  const bytes: number[] = [];
  for (let index = 0; index < value.length; index++) {
    const hex = value.startsWith('\\x', index) ? value.slice(index + 2, index + 4) : '';
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      index += 3;
    } else {
      bytes.push(...Buffer.from(value[index]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export function parseBlkidUdev(text: string): BlkidProbe {
  if (text.length > BLKID_LIMITS.outputBytes) {
    throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, 'blkid output', `${text.length} characters; at most ${BLKID_LIMITS.outputBytes} are read`);
  }
  const lines = text.split('\n');
  if (lines.length > BLKID_LIMITS.lines) {
    throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, 'blkid output', `${lines.length} lines; at most ${BLKID_LIMITS.lines} are read`);
  }
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const line of lines) {
    const equals = line.indexOf('=');
    if (equals <= 0) continue;
    const key = line.slice(0, equals).trim();
    if (!/^[A-Z0-9_]+$/.test(key)) continue;
    fields[key] = decodeBlkidValue(line.slice(equals + 1).slice(0, BLKID_LIMITS.valueChars));
  }
  const field = (...keys: string[]): string | null => {
    for (const key of keys) {
      const value = fields[key];
      if (value !== undefined && value !== '') return value;
    }
    return null;
  };
  return {
    type: field('ID_FS_TYPE'),
    usage: field('ID_FS_USAGE'),
    // The _ENC forms keep what the plain ones turn into '_' (spaces, '/', non-ASCII).
    uuid: field('ID_FS_UUID_ENC', 'ID_FS_UUID'),
    label: field('ID_FS_LABEL_ENC', 'ID_FS_LABEL'),
    version: field('ID_FS_VERSION'),
    partEntryUuid: field('ID_PART_ENTRY_UUID'),
    partEntryName: field('ID_PART_ENTRY_NAME'),
    partTableType: field('ID_PART_TABLE_TYPE'),
    fields,
  };
}
