import { ErrorCode, KexecError, ParseError } from '../errors.js';
import { DEVICETREE_FORMAT } from './parse.js';

// Property values as the Devicetree Specification encodes them (2.2.4.2 "Property Values"):
// <u32> and <u64> big-endian, a <u64> as two cells high one first; <string> NUL-terminated;
// <stringlist> strings one after the other; <prop-encoded-array> cells of a known count.

const CELL_BYTES = 4;
const UTF8 = new TextDecoder('utf-8');

function notEncoded(propertyName: string, message: string): ParseError {
  return new ParseError(ErrorCode.FORMAT_INVALID, DEVICETREE_FORMAT, `property "${propertyName}" ${message}`, { field: propertyName });
}

export function encodeU32(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new KexecError(ErrorCode.FORMAT_INVALID, `devicetree: ${value} is not a u32 cell`);
  const bytes = new Uint8Array(CELL_BYTES);
  new DataView(bytes.buffer).setUint32(0, value, false);
  return bytes;
}

export function encodeU64(value: bigint): Uint8Array {
  if (value < 0n || value > 0xffff_ffff_ffff_ffffn) throw new KexecError(ErrorCode.FORMAT_INVALID, `devicetree: ${value} is not a u64`);
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value, false);
  return bytes;
}

export function encodeU32Cells(values: readonly number[]): Uint8Array {
  const bytes = new Uint8Array(values.length * CELL_BYTES);
  values.forEach((value, index) => bytes.set(encodeU32(value), index * CELL_BYTES));
  return bytes;
}

/** A property that is one <u32> ("#address-cells", "phandle"). */
export function decodeU32(value: Uint8Array, propertyName = 'property'): number {
  if (value.length !== CELL_BYTES) throw notEncoded(propertyName, `is ${value.length} bytes, not one 4-byte cell`);
  return new DataView(value.buffer, value.byteOffset, value.byteLength).getUint32(0, false);
}

/** A property that is one <u64> ("linux,initrd-start" as kexec-tools writes it, "kaslr-seed"). */
export function decodeU64(value: Uint8Array, propertyName = 'property'): bigint {
  if (value.length !== 8) throw notEncoded(propertyName, `is ${value.length} bytes, not one 8-byte value`);
  return new DataView(value.buffer, value.byteOffset, value.byteLength).getBigUint64(0, false);
}

export function decodeU32Cells(value: Uint8Array, propertyName = 'property'): number[] {
  if (value.length % CELL_BYTES !== 0) throw notEncoded(propertyName, `is ${value.length} bytes, not a whole number of 4-byte cells`);
  const data = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return Array.from({ length: value.length / CELL_BYTES }, (_, index) => data.getUint32(index * CELL_BYTES, false));
}

/** A <string> value: its UTF-8 bytes and the terminating NUL. */
export function encodeString(text: string): Uint8Array {
  if (text.includes('\0')) throw new KexecError(ErrorCode.FORMAT_INVALID, 'devicetree: a <string> value cannot hold a NUL');
  return new TextEncoder().encode(`${text}\0`);
}

export function encodeStringList(texts: readonly string[]): Uint8Array {
  const parts = texts.map(encodeString);
  const bytes = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}

/** A <string> value: exactly one NUL, at the end. */
export function decodeString(value: Uint8Array, propertyName = 'property'): string {
  const strings = decodeStringList(value, propertyName);
  if (strings.length !== 1) throw notEncoded(propertyName, `holds ${strings.length} strings, not one`);
  return strings[0] as string;
}

/** A <stringlist> value ("compatible"): NUL-terminated strings, the last one terminated too. */
export function decodeStringList(value: Uint8Array, propertyName = 'property'): string[] {
  if (value.length === 0) return [];
  if (value[value.length - 1] !== 0) throw notEncoded(propertyName, 'does not end with a NUL: not a string');
  const strings: string[] = [];
  let start = 0;
  while (start < value.length) {
    const end = value.indexOf(0, start);
    strings.push(UTF8.decode(value.subarray(start, end)));
    start = end + 1;
  }
  return strings;
}
