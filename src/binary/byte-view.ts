import { ErrorCode, ParseError } from '../errors.js';

/**
 * A bounds-checked window on bytes for one format. Every read names the field it is for, so a
 * short or lying input ends in a ParseError saying which field at which offset, never in a
 * RangeError or a silently wrong number.
 */
export class ByteView {
  readonly bytes: Uint8Array;
  readonly format: string;
  private readonly data: DataView;

  constructor(bytes: Uint8Array, format: string) {
    this.bytes = bytes;
    this.format = format;
    this.data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  /** Throws FORMAT_TRUNCATED unless [offset, offset + length) lies inside the bytes. */
  require(offset: number, length: number, field: string): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.bytes.length) {
      throw new ParseError(
        ErrorCode.FORMAT_TRUNCATED,
        this.format,
        `${field} needs ${length} bytes at ${offset}, but the input has ${this.bytes.length}`,
        { offset: Number.isSafeInteger(offset) ? offset : undefined, field },
      );
    }
  }

  has(offset: number, length: number): boolean {
    return Number.isSafeInteger(offset) && Number.isSafeInteger(length) && offset >= 0 && length >= 0 && offset + length <= this.bytes.length;
  }

  u8(offset: number, field: string): number {
    this.require(offset, 1, field);
    return this.data.getUint8(offset);
  }

  u16(offset: number, field: string, littleEndian = true): number {
    this.require(offset, 2, field);
    return this.data.getUint16(offset, littleEndian);
  }

  u32(offset: number, field: string, littleEndian = true): number {
    this.require(offset, 4, field);
    return this.data.getUint32(offset, littleEndian);
  }

  u64(offset: number, field: string, littleEndian = true): bigint {
    this.require(offset, 8, field);
    return this.data.getBigUint64(offset, littleEndian);
  }

  i32(offset: number, field: string, littleEndian = true): number {
    this.require(offset, 4, field);
    return this.data.getInt32(offset, littleEndian);
  }

  /** A sub-range, sharing memory (no copy). */
  slice(offset: number, length: number, field: string): Uint8Array {
    this.require(offset, length, field);
    return this.bytes.subarray(offset, offset + length);
  }

  /** A sub-view for a nested structure, with offsets relative to its start. */
  view(offset: number, length: number, field: string, format = this.format): ByteView {
    return new ByteView(this.slice(offset, length, field), format);
  }

  /** Latin-1 text of a fixed-size field, cut at the first NUL. */
  fixedString(offset: number, length: number, field: string): string {
    const raw = this.slice(offset, length, field);
    const nul = raw.indexOf(0);
    return Buffer.from(raw.subarray(0, nul === -1 ? raw.length : nul)).toString('latin1');
  }

  /** A NUL-terminated string starting at offset, at most maxLength bytes long. */
  cString(offset: number, maxLength: number, field: string): string {
    this.require(offset, 1, field);
    const end = Math.min(this.bytes.length, offset + maxLength);
    const nul = this.bytes.subarray(offset, end).indexOf(0);
    if (nul === -1 && end - offset === maxLength) {
      throw new ParseError(ErrorCode.FORMAT_INVALID, this.format, `${field} is not NUL-terminated within ${maxLength} bytes`, { offset, field });
    }
    return Buffer.from(this.bytes.subarray(offset, nul === -1 ? end : offset + nul)).toString('latin1');
  }

  /** Whether the bytes at offset equal `expected` (false when out of range). */
  matches(offset: number, expected: Uint8Array | string): boolean {
    const wanted = typeof expected === 'string' ? Buffer.from(expected, 'latin1') : expected;
    if (!this.has(offset, wanted.length)) return false;
    for (let index = 0; index < wanted.length; index++) if (this.bytes[offset + index] !== wanted[index]) return false;
    return true;
  }

  invalid(message: string, where: { offset?: number; field?: string } = {}): ParseError {
    return new ParseError(ErrorCode.FORMAT_INVALID, this.format, message, where);
  }
}

/** A 64-bit value as a safe JS number, or a ParseError if it cannot be one (a lying length). */
export function safeNumber(value: bigint, format: string, field: string, offset?: number): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ParseError(ErrorCode.FORMAT_INVALID, format, `${field} is ${value}, larger than any real file`, { field, ...(offset !== undefined ? { offset } : {}) });
  }
  return Number(value);
}
