import { createHash } from 'node:crypto';
import { ByteView } from '../../binary/byte-view.js';
import { ErrorCode, ParseError } from '../../errors.js';
import { IMAGE_DATA_DIRECTORY } from './layouts.js';
import type { PeImage } from './types.js';

const CHECKSUM_FIELD_BYTES = 4;

/**
 * The Authenticode image digest, computed as "Calculating the PE Image Hash" in the Windows
 * Authenticode PE Signature Format describes it:
 * 1. the headers up to SizeOfHeaders, minus the CheckSum field and the Certificate Table
 *    directory entry (both change when an image is signed);
 * 2. each section with SizeOfRawData > 0, in order of PointerToRawData;
 * 3. the data after the last section ("extra data"), minus the certificate table's size: the
 *    table itself is what a signature adds, so it cannot be covered.
 * `hashAlgorithm` is a Node hash name (sha256, sha1, ...). Throws ParseError when a header field
 * points outside the file, which makes the digest undefined.
 */
export function computeAuthenticodeDigest(bytes: Uint8Array, pe: PeImage, hashAlgorithm: string): Uint8Array {
  const view = new ByteView(bytes, 'pe');
  const hash = createHash(hashAlgorithm);
  const headersEnd = pe.optionalHeader.SizeOfHeaders;
  view.require(0, headersEnd, 'SizeOfHeaders');

  const skipped = [{ start: pe.checkSumFieldOffset, end: pe.checkSumFieldOffset + CHECKSUM_FIELD_BYTES }];
  if (pe.certificateTableEntryOffset !== undefined) {
    skipped.push({ start: pe.certificateTableEntryOffset, end: pe.certificateTableEntryOffset + IMAGE_DATA_DIRECTORY.sizeBytes });
  }
  let position = 0;
  for (const range of skipped) {
    if (range.end > headersEnd || range.start < position) {
      throw new ParseError(ErrorCode.FORMAT_INVALID, 'pe', `SizeOfHeaders ${headersEnd} does not cover the optional header`, { field: 'SizeOfHeaders' });
    }
    hash.update(bytes.subarray(position, range.start));
    position = range.end;
  }
  hash.update(bytes.subarray(position, headersEnd));

  let hashedBytes = headersEnd;
  const sections = pe.sections.filter((section) => section.SizeOfRawData > 0).sort((left, right) => left.PointerToRawData - right.PointerToRawData);
  for (const section of sections) {
    hash.update(view.slice(section.PointerToRawData, section.SizeOfRawData, `section ${section.name} raw data`));
    hashedBytes += section.SizeOfRawData;
  }

  const certificateTableBytes = pe.certificateTable?.sizeBytes ?? 0;
  const extraBytes = bytes.length - (certificateTableBytes + hashedBytes);
  if (extraBytes > 0) hash.update(view.slice(hashedBytes, extraBytes, 'data after the last section'));
  return new Uint8Array(hash.digest());
}
