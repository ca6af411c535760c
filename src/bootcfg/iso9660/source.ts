/**
 * What the ISO 9660 reader reads from: any random-access byte source (an image file read with
 * positional reads, see file-source.ts; bytes in memory for tests). The reader asks only for
 * the descriptors, directories and file extents it needs, each bounded by ISO9660_LIMITS, so
 * an image is never read whole. Pure.
 */
import { ErrorCode, ParseError } from '../../errors.js';

export const ISO9660_FORMAT = 'iso9660';

export interface IsoSource {
  /** Size of the whole source in bytes. */
  readonly sizeBytes: number;
  /** The bytes at [offset, offset + length); may be shorter only where the source ends. */
  readAt(offset: number, length: number): Uint8Array;
}

/** A source over bytes already in memory (tests, an image someone else has read). */
export function isoSourceFromBytes(bytes: Uint8Array): IsoSource {
  return {
    sizeBytes: bytes.length,
    readAt: (offset, length) => bytes.subarray(offset, Math.min(bytes.length, offset + length)),
  };
}

/**
 * Exactly `length` bytes at `offset`, or FORMAT_TRUNCATED naming `what`: an extent or a
 * descriptor that lies past the end of the image is refused before anything is allocated.
 */
export function readExactly(source: IsoSource, offset: number, length: number, what: string): Uint8Array {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > source.sizeBytes) {
    throw new ParseError(
      ErrorCode.FORMAT_TRUNCATED,
      ISO9660_FORMAT,
      `${what} needs ${length} bytes at ${offset}, but the image has ${source.sizeBytes}`,
      Number.isSafeInteger(offset) && offset >= 0 ? { offset } : {},
    );
  }
  const bytes = source.readAt(offset, length);
  if (bytes.length !== length) {
    throw new ParseError(ErrorCode.FORMAT_TRUNCATED, ISO9660_FORMAT, `${what}: only ${bytes.length} of ${length} bytes could be read at ${offset}`, { offset });
  }
  return bytes;
}

export function invalid(message: string, offset?: number, field?: string): ParseError {
  const where: { offset?: number; field?: string } = {};
  if (offset !== undefined) where.offset = offset;
  if (field !== undefined) where.field = field;
  return new ParseError(ErrorCode.FORMAT_INVALID, ISO9660_FORMAT, message, where);
}

export function limitExceeded(message: string, offset?: number): ParseError {
  return new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, ISO9660_FORMAT, message, offset !== undefined ? { offset } : {});
}
