import { ErrorCode, ParseError } from '../../errors.js';
import { detectInitrdKind } from '../../image/cpio.js';
import { decompressStream, detectCodec, type Codec } from '../../image/codecs/index.js';
import { CRASH_ARM_LIMITS } from '../../limits.js';
import { CpioWalker, emptyTotals, type CpioTotals } from './cpio-walker.js';

/**
 * How much memory an initrd takes once the kernel has unpacked it: the files' pages in the
 * rootfs plus an inode and a dentry per entry. The file itself is in memory too until the
 * unpacking ends (then the kernel frees it: "Freeing initrd memory").
 *
 * The initrd is walked as init/initramfs.c unpack_to_rootfs() walks it: cpio archives and
 * compressed ones one after another, NULs between them. Compressed parts are decompressed as a
 * stream and only counted, never kept; the walk stops once the count passes `stopAfterBytes`
 * (the answer is then "more than that"), so a huge or hostile initrd costs no more than that.
 */

/**
 * What an unpacked entry costs besides its data: a tmpfs inode (struct shmem_inode_info, ~0.7
 * KiB on 6.1 x86_64) and a dentry (192 bytes), rounded up.
 */
export const ENTRY_OVERHEAD_BYTES = 1024;
const READ_CHUNK_BYTES = 1 << 20;
const FORMAT = 'initrd';

/** Random access to the initrd's bytes (the caller opens the file once and reads by offset). */
export interface InitrdReader {
  readonly sizeBytes: number;
  read(offset: number, length: number): Uint8Array;
}

export interface InitrdSegment {
  readonly offset: number;
  /** 'cpio': archives stored as they are; a codec: one compressed archive; 'image': an old-style initrd filesystem image. */
  readonly kind: 'cpio' | Codec | 'image';
  /** Bytes of the file this segment spans. */
  readonly fileBytes: number;
}

export interface InitrdMeasurement {
  readonly fileBytes: number;
  readonly segments: readonly InitrdSegment[];
  readonly entries: number;
  readonly archives: number;
  readonly fileDataBytes: number;
  /** Memory the unpacked rootfs holds: the files' pages plus ENTRY_OVERHEAD_BYTES per entry. */
  readonly unpackedBytes: number;
  /** false: the walk stopped once unpackedBytes passed the bound; the real figure is larger. */
  readonly complete: boolean;
  /** The `lookFor` names that are in the archive. */
  readonly found: readonly string[];
}

export interface MeasureOptions {
  /** Stop counting once the unpacked size passes this (the reservation: past it, nothing fits). */
  readonly stopAfterBytes?: number;
  readonly pageSizeBytes?: number;
  readonly lookFor?: readonly string[];
}

export async function measureInitrd(reader: InitrdReader, options: MeasureOptions = {}): Promise<InitrdMeasurement> {
  const pageSizeBytes = options.pageSizeBytes ?? 4096;
  const stopAfterBytes = Math.min(options.stopAfterBytes ?? CRASH_ARM_LIMITS.initrdUnpackedBytes, CRASH_ARM_LIMITS.initrdUnpackedBytes);
  const lookFor = new Set(options.lookFor ?? []);
  const totals = emptyTotals();
  const segments: InitrdSegment[] = [];
  const unpacked = () => totals.pageBytes + totals.entries * ENTRY_OVERHEAD_BYTES;
  const result = (complete: boolean): InitrdMeasurement => ({
    fileBytes: reader.sizeBytes,
    segments,
    entries: totals.entries,
    archives: totals.archives,
    fileDataBytes: totals.fileDataBytes,
    unpackedBytes: unpacked(),
    complete,
    found: [...totals.found].sort(),
  });

  const head = reader.read(0, Math.min(reader.sizeBytes, 4096));
  const imageKind = detectInitrdKind(head);
  if (imageKind !== undefined && imageKind !== 'cpio-newc' && imageKind !== 'cpio-newc-crc') {
    // An old-style initrd (ext2, squashfs, ...): the kernel copies it whole into a RAM disk.
    segments.push({ offset: 0, kind: 'image', fileBytes: reader.sizeBytes });
    return { ...result(true), unpackedBytes: reader.sizeBytes };
  }

  let position = 0;
  while (position < reader.sizeBytes) {
    // Stored archives: walked in place, file data skipped by offset rather than read.
    const walker = new CpioWalker(totals, { format: FORMAT, pageSizeBytes, lookFor, stopAtForeignData: true });
    walker.offset = position;
    const start = position;
    while (position < reader.sizeBytes && !walker.stoppedAtForeignData) {
      const skippable = Math.min(walker.skippableBytes, reader.sizeBytes - position);
      if (skippable > 0) {
        walker.skip(skippable);
        position += skippable;
        continue;
      }
      position += walker.push(reader.read(position, Math.min(READ_CHUNK_BYTES, reader.sizeBytes - position)));
      if (unpacked() > stopAfterBytes) return result(false);
    }
    if (position > start) segments.push({ offset: start, kind: 'cpio', fileBytes: position - start });
    if (!walker.stoppedAtForeignData) {
      walker.finish();
      break;
    }
    const outcome = await walkCompressed(reader, position, totals, { pageSizeBytes, lookFor, stopAfterBytes, unpacked });
    segments.push({ offset: position, kind: outcome.codec, fileBytes: outcome.endOffset - position });
    if (!outcome.complete) return result(false);
    position = outcome.endOffset;
  }
  return result(true);
}

async function walkCompressed(
  reader: InitrdReader,
  position: number,
  totals: CpioTotals,
  options: { pageSizeBytes: number; lookFor: Set<string>; stopAfterBytes: number; unpacked: () => number },
): Promise<{ codec: Codec; endOffset: number; complete: boolean }> {
  const rest = reader.read(position, reader.sizeBytes - position);
  const codec = detectCodec(rest.subarray(0, 16));
  if (codec === undefined) {
    throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, 'neither a cpio archive nor compressed data the kernel knows (invalid magic at start of compressed archive)', { offset: position });
  }
  const walker = new CpioWalker(totals, { format: `${FORMAT} (${codec} archive at ${position})`, pageSizeBytes: options.pageSizeBytes, lookFor: options.lookFor, stopAtForeignData: false });
  try {
    for await (const chunk of decompressStream(codec, rest, { maxOutputBytes: CRASH_ARM_LIMITS.initrdUnpackedBytes })) {
      walker.push(chunk);
      if (options.unpacked() > options.stopAfterBytes) return { codec, endOffset: reader.sizeBytes, complete: false };
    }
  } catch (error) {
    // The codec registry accepts nothing after the compressed data but the kernel's 4-byte size;
    // the kernel's unpacker goes on to the next archive there. The registry's error names the
    // offset where the data ended: when the output ended between entries and what follows looks
    // like another archive, that is where we go on too.
    const end = error instanceof ParseError && error.code === ErrorCode.DECOMPRESSION_FAILED ? error.offset : undefined;
    if (end === undefined || end <= 0 || !walker.atBoundary || !looksLikeMoreInitrd(rest.subarray(end))) throw error;
    walker.finish();
    return { codec, endOffset: position + end, complete: true };
  }
  walker.finish();
  return { codec, endOffset: reader.sizeBytes, complete: true };
}

/** NULs, then a cpio header or compressed data, or nothing at all. */
function looksLikeMoreInitrd(bytes: Uint8Array): boolean {
  let at = 0;
  while (at < bytes.length && bytes[at] === 0) at += 1;
  if (at === bytes.length) return true;
  const next = bytes.subarray(at, at + 16);
  return detectInitrdKind(next) === 'cpio-newc' || detectInitrdKind(next) === 'cpio-newc-crc' || detectCodec(next) !== undefined;
}
