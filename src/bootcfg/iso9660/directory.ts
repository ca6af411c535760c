/**
 * Directory records (ECMA-119 9.1) -> raw records, and the names the two non-Rock Ridge
 * namespaces give them: the primary volume's d-characters (`NAME.EXT;1`) and Joliet's UCS-2
 * (the Supplementary Volume Descriptor's tree). Pure: works on a directory's bytes, already read.
 */
import { ByteView } from '../../binary/byte-view.js';
import { DIRECTORY_RECORD, LOGICAL_SECTOR_BYTES } from './layout.js';
import { invalid, ISO9660_FORMAT } from './source.js';

export interface RawDirectoryRecord {
  /** Where the record starts in the image (bytes). */
  offset: number;
  /** File Identifier as recorded: 0x00 is the directory itself, 0x01 its parent. */
  identifier: Uint8Array;
  flags: number;
  extentBlock: number;
  /** Blocks of Extended Attribute Record before the data (ECMA-119 9.5). */
  extendedAttributeBlocks: number;
  dataLength: number;
  fileUnitSize: number;
  interleaveGapSize: number;
  recordedAt: Uint8Array;
  /** The System Use field (SUSP entries live here) and where it starts in the image. */
  systemUse: Uint8Array;
  systemUseOffset: number;
}

/** The smallest record: 33 fixed bytes and a one-byte File Identifier (ECMA-119 9.1). */
const MINIMUM_RECORD_BYTES = 34;

/** One record at `position` of `bytes`, which start at `baseOffset` in the image. */
export function parseDirectoryRecord(bytes: Uint8Array, position: number, baseOffset: number): RawDirectoryRecord {
  const offset = baseOffset + position;
  const length = bytes[position] ?? 0;
  if (length < MINIMUM_RECORD_BYTES) {
    throw invalid(`a directory record is ${length} bytes, shorter than the ${MINIMUM_RECORD_BYTES} of the smallest one`, offset, 'Length_of_Directory_Record');
  }
  if (position + length > bytes.length) {
    throw invalid(`a ${length}-byte directory record runs ${position + length - bytes.length} bytes past the end of its directory`, offset, 'Length_of_Directory_Record');
  }
  const view = new ByteView(bytes.subarray(position, position + length), ISO9660_FORMAT);
  const record = DIRECTORY_RECORD.read(view);
  const identifierLength = record.Length_of_File_Identifier;
  if (identifierLength === 0 || DIRECTORY_RECORD.sizeBytes + identifierLength > length) {
    throw invalid(`a File Identifier of ${identifierLength} bytes does not fit a ${length}-byte record`, offset, 'Length_of_File_Identifier');
  }
  // A Padding Field byte follows an even-length identifier, so System Use starts on an even byte.
  const systemUseStart = Math.min(length, DIRECTORY_RECORD.sizeBytes + identifierLength + (identifierLength % 2 === 0 ? 1 : 0));
  return {
    offset,
    identifier: view.slice(DIRECTORY_RECORD.sizeBytes, identifierLength, 'File_Identifier'),
    flags: record.File_Flags,
    extentBlock: record.Location_of_Extent,
    extendedAttributeBlocks: record.Extended_Attribute_Record_Length,
    dataLength: record.Data_Length,
    fileUnitSize: record.File_Unit_Size,
    interleaveGapSize: record.Interleave_Gap_Size,
    recordedAt: record.Recording_Date_and_Time,
    systemUse: view.bytes.subarray(systemUseStart),
    systemUseOffset: offset + systemUseStart,
  };
}

/**
 * Every record of one directory's bytes, in order. A zero length byte ends the records of a
 * logical sector (a record never starts in one sector and ends in the next, ECMA-119 6.8.1.1),
 * so the walk moves on to the next sector boundary of the image.
 */
export function parseDirectoryRecords(bytes: Uint8Array, baseOffset: number): RawDirectoryRecord[] {
  const records: RawDirectoryRecord[] = [];
  let position = 0;
  while (position < bytes.length) {
    if (bytes[position] === 0) {
      const absolute = baseOffset + position;
      position = (Math.floor(absolute / LOGICAL_SECTOR_BYTES) + 1) * LOGICAL_SECTOR_BYTES - baseOffset;
      continue;
    }
    const record = parseDirectoryRecord(bytes, position, baseOffset);
    records.push(record);
    position += bytes[position]!;
  }
  return records;
}

/** `.` and `..` are recorded as the one-byte identifiers 0x00 and 0x01 (ECMA-119 6.8.2.2). */
export function isSelfOrParent(identifier: Uint8Array): boolean {
  return identifier.length === 1 && (identifier[0] === 0 || identifier[0] === 1);
}

/**
 * The primary volume's name as Linux (isofs `map=normal`) and GRUB show it: the version
 * (`;1`) and a trailing dot of an empty extension dropped, and lower case, as mastering tools
 * record upper case d-characters for names that were lower case.
 */
export function plainName(identifier: Uint8Array): string {
  return tidyName(Buffer.from(identifier).toString('latin1')).toLowerCase();
}

/** Joliet names are UCS-2 big-endian (Joliet specification 1995, section 3); version and trailing dot dropped as Linux does. */
export function jolietName(identifier: Uint8Array, offset: number): string {
  if (identifier.length % 2 !== 0) throw invalid(`a Joliet File Identifier of ${identifier.length} bytes is not UCS-2`, offset, 'File_Identifier');
  const swapped = Buffer.from(identifier);
  swapped.swap16();
  return tidyName(swapped.toString('utf16le'));
}

function tidyName(name: string): string {
  return name.replace(/;\d*$/, '').replace(/\.+$/, '');
}

/** A directory record's 7-byte date (ECMA-119 9.1.5) as ISO 8601 UTC, undefined when unset or impossible. */
export function recordDate(bytes: Uint8Array): string | undefined {
  const [year, month, day, hour, minute, second] = bytes;
  if (year === undefined || month === undefined || day === undefined || hour === undefined || minute === undefined || second === undefined) return undefined;
  const offsetQuarterHours = ((bytes[6] ?? 0) << 24) >> 24;
  return dateString(1900 + year, month, day, hour, minute, second, 0, offsetQuarterHours);
}

/** A volume descriptor's 17-byte date (ECMA-119 8.4.26.1): `YYYYMMDDHHMMSScc` digits and a GMT offset. */
export function volumeDate(bytes: Uint8Array): string | undefined {
  const digits = Buffer.from(bytes.subarray(0, 16)).toString('latin1');
  if (!/^\d{16}$/.test(digits) || /^0+$/.test(digits)) return undefined;
  const part = (start: number, length: number): number => Number(digits.slice(start, start + length));
  const offsetQuarterHours = ((bytes[16] ?? 0) << 24) >> 24;
  return dateString(part(0, 4), part(4, 2), part(6, 2), part(8, 2), part(10, 2), part(12, 2), part(14, 2) * 10, offsetQuarterHours);
}

function dateString(year: number, month: number, day: number, hour: number, minute: number, second: number, milliseconds: number, offsetQuarterHours: number): string | undefined {
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return undefined;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, milliseconds) - offsetQuarterHours * 15 * 60 * 1000;
  return Number.isFinite(utc) ? new Date(utc).toISOString() : undefined;
}
