import { ByteView } from '../../binary/byte-view.js';
import { ErrorCode, ParseError } from '../../errors.js';
import {
  MAKEDUMPFILE_SIGNATURE,
  MAX_SIZE_MDF_HEADER,
  TYPE_FLAT_HEADER,
  makedumpfileDataHeaderLayout,
  makedumpfileHeaderLayout,
} from './kdump-layout.js';
import type { RandomAccessSource } from './source.js';

// The flattened format (makedumpfile -F, IMPLEMENTATION "The flattened format"): a dump written
// as a stream of (offset, size, bytes) records, so it can go through a pipe. Reading it in place
// needs only an index of the records: the bytes are never copied.

const FORMAT = 'flattened dump';

export function probeFlattened(head: Uint8Array): boolean {
  return new ByteView(head, FORMAT).matches(0, `${MAKEDUMPFILE_SIGNATURE}\0`);
}

export interface FlatRecord {
  /** Where the bytes go in the reassembled file. */
  readonly offset: number;
  readonly size: number;
  /** Where the bytes are in the flattened file. */
  readonly sourceOffset: number;
}

/** Checks the 4096-byte flat header; throws unless it is makedumpfile's, type 1. */
export function checkFlatHeader(head: Uint8Array): void {
  const view = new ByteView(head, FORMAT);
  if (!probeFlattened(head)) throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, FORMAT, 'no "makedumpfile" signature', { offset: 0, field: 'signature' });
  const header = makedumpfileHeaderLayout.read(view, 0, false);
  if (header.type !== TYPE_FLAT_HEADER) throw view.invalid(`type ${header.type}, not TYPE_FLAT_HEADER (1)`, { offset: 16, field: 'type' });
}

/**
 * Reads one data header (big endian). Returns undefined at the end mark (offset = size = -1);
 * anything else negative or past 2^53 is a ParseError.
 */
export function parseFlatDataHeader(bytes: Uint8Array, at: number): { offset: number; size: number } | undefined {
  const view = new ByteView(bytes, FORMAT);
  const header = makedumpfileDataHeaderLayout.read(view, 0, false);
  const offset = BigInt.asIntN(64, header.offset);
  const size = BigInt.asIntN(64, header.buf_size);
  if (offset === -1n && size === -1n) return undefined;
  if (offset < 0n || size < 0n || offset + size > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, `a record for ${size} bytes at ${offset}`, { offset: at, field: 'makedumpfile_data_header' });
  }
  return { offset: Number(offset), size: Number(size) };
}

/**
 * The flattened file seen as the file it stands for. Later records win where records overlap,
 * as when reassembling; bytes no record covers read as zeros (a sparse hole).
 */
export async function openFlattenedSource(flat: RandomAccessSource): Promise<RandomAccessSource> {
  checkFlatHeader(await flat.readAt(0, MAX_SIZE_MDF_HEADER, 'makedumpfile_header'));
  const records: FlatRecord[] = [];
  let at = MAX_SIZE_MDF_HEADER;
  let ended = false;
  const headerBytes = new Uint8Array(makedumpfileDataHeaderLayout.sizeBytes);
  while (at + headerBytes.length <= flat.sizeBytes) {
    const header = parseFlatDataHeader(await flat.readAt(at, headerBytes.length, 'makedumpfile_data_header', headerBytes), at);
    if (!header) {
      ended = true;
      break;
    }
    const sourceOffset = at + headerBytes.length;
    if (sourceOffset + header.size > flat.sizeBytes) {
      throw new ParseError(ErrorCode.FORMAT_TRUNCATED, FORMAT, `a record of ${header.size} bytes at ${sourceOffset} runs past the end (${flat.sizeBytes})`, { offset: at });
    }
    if (header.size > 0) records.push({ offset: header.offset, size: header.size, sourceOffset });
    at = sourceOffset + header.size;
  }
  if (!ended) throw new ParseError(ErrorCode.FORMAT_TRUNCATED, FORMAT, 'the stream ends without its end record (offset = size = -1)', { offset: at });
  const pieces = paint(records);
  const sizeBytes = pieces.reduce((max, piece) => Math.max(max, piece.offset + piece.size), 0);

  const find = (offset: number): number => {
    let low = 0;
    let high = pieces.length - 1;
    let found = pieces.length;
    while (low <= high) {
      const middle = (low + high) >> 1;
      if (pieces[middle]!.offset + pieces[middle]!.size > offset) {
        found = middle;
        high = middle - 1;
      } else low = middle + 1;
    }
    return found;
  };
  const source: RandomAccessSource = {
    name: flat.name,
    sizeBytes,
    async readAt(offset, length, field, into) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > sizeBytes) {
        throw new ParseError(ErrorCode.FORMAT_TRUNCATED, FORMAT, `${field} needs ${length} bytes at ${offset}, but the reassembled dump has ${sizeBytes}`, { field });
      }
      const target = into ? into.subarray(0, length) : new Uint8Array(length);
      target.fill(0);
      for (let index = find(offset); index < pieces.length; index++) {
        const piece = pieces[index]!;
        if (piece.offset >= offset + length) break;
        const from = Math.max(offset, piece.offset);
        const to = Math.min(offset + length, piece.offset + piece.size);
        await flat.readAt(piece.sourceOffset + (from - piece.offset), to - from, field, target.subarray(from - offset, to - offset));
      }
      return target;
    },
    close: () => flat.close(),
  };
  return source;
}

/** Non-overlapping pieces in offset order, the later record winning each byte. */
export function paint(records: readonly FlatRecord[]): FlatRecord[] {
  const sorted = records.map((record, order) => ({ record, order })).sort((a, b) => a.record.offset - b.record.offset || a.order - b.order);
  let overlapping = false;
  for (let index = 1; index < sorted.length; index++) {
    const previous = sorted[index - 1]!.record;
    if (previous.offset + previous.size > sorted[index]!.record.offset) overlapping = true;
  }
  if (!overlapping) return sorted.map((entry) => entry.record);
  // Rare (a header rewritten at the end): paint in stream order onto a sorted list.
  let pieces: FlatRecord[] = [];
  for (const record of records) {
    const end = record.offset + record.size;
    const kept: FlatRecord[] = [];
    for (const piece of pieces) {
      const pieceEnd = piece.offset + piece.size;
      if (pieceEnd <= record.offset || piece.offset >= end) {
        kept.push(piece);
        continue;
      }
      if (piece.offset < record.offset) kept.push({ offset: piece.offset, size: record.offset - piece.offset, sourceOffset: piece.sourceOffset });
      if (pieceEnd > end) kept.push({ offset: end, size: pieceEnd - end, sourceOffset: piece.sourceOffset + (end - piece.offset) });
    }
    kept.push(record);
    pieces = kept.sort((a, b) => a.offset - b.offset);
  }
  return pieces;
}
