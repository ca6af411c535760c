/**
 * The System Use Sharing Protocol (IEEE P1281, SUSP 1.12): a directory record's System Use
 * field holds a chain of entries (signature, length, version, data). An SP entry in the root's
 * first record says SUSP is in use and how many bytes to skip in every System Use field; a CE
 * entry continues the chain in a Continuation Area elsewhere in the image, ST ends it. Pure:
 * continuation areas are read through the source, at most ISO9660_LIMITS.continuationAreas.
 */
import { ByteView } from '../../binary/byte-view.js';
import { ISO9660_LIMITS } from '../../limits.js';
import { SUSP_CE, SUSP_ER, SUSP_SP, SYSTEM_USE_ENTRY } from './layout.js';
import { invalid, ISO9660_FORMAT, limitExceeded, readExactly, type IsoSource } from './source.js';

export interface SuspEntry {
  signature: string;
  version: number;
  /** The whole entry, header included, so layouts read it at their spec offsets. */
  bytes: Uint8Array;
  /** Where the entry starts in the image. */
  offset: number;
}

/** Check bytes of the SP entry (SUSP 5.3). */
const SP_CHECK_BYTES = [0xbe, 0xef];
/** Extension identifiers of the Rock Ridge Interchange Protocol in an ER entry (RRIP 1.09, 1.10, 1.12). */
const RRIP_IDENTIFIERS = new Set(['RRIP_1991A', 'IEEE_P1282', 'IEEE_1282']);

export function entryView(entry: SuspEntry): ByteView {
  return new ByteView(entry.bytes, ISO9660_FORMAT);
}

/** The entry's bytes after its 4-byte header, checked to hold at least `minimumBytes` in all. */
export function requireEntryLength(entry: SuspEntry, minimumBytes: number): void {
  if (entry.bytes.length < minimumBytes) {
    throw invalid(`a ${entry.signature} entry of ${entry.bytes.length} bytes is shorter than its ${minimumBytes}`, entry.offset, `${entry.signature}.Length`);
  }
}

/** Entries of one area (System Use field or Continuation Area), and the CE entry in it, if any. */
function entriesOfArea(area: Uint8Array, areaOffset: number, into: SuspEntry[]): SuspEntry | undefined {
  let continuation: SuspEntry | undefined;
  let position = 0;
  // Fewer than 4 bytes left cannot hold an entry: they are padding (SUSP 4.1).
  while (position + SYSTEM_USE_ENTRY.sizeBytes <= area.length) {
    const header = SYSTEM_USE_ENTRY.read(new ByteView(area, ISO9660_FORMAT), position);
    const length = header.Length;
    // Zero bytes where an entry would start: the field was padded, not filled.
    if (length === 0 && header.Signature_Word === '\0\0') break;
    if (length < SYSTEM_USE_ENTRY.sizeBytes || position + length > area.length) {
      throw invalid(`System Use entry "${header.Signature_Word}" claims ${length} bytes with ${area.length - position} left`, areaOffset + position, 'System_Use_Entry.Length');
    }
    const entry: SuspEntry = {
      signature: header.Signature_Word,
      version: header.System_Use_Entry_Version,
      bytes: area.subarray(position, position + length),
      offset: areaOffset + position,
    };
    position += length;
    if (entry.signature === 'ST') break;
    if (entry.signature === 'CE') continuation = entry;
    else into.push(entry);
  }
  return continuation;
}

/**
 * Every entry of a directory record's System Use field and its continuation areas, in order.
 * `skipBytes` is the SP entry's LEN_SKP (0 for the root's own first record).
 */
export function readSuspEntries(
  source: IsoSource,
  systemUse: Uint8Array,
  systemUseOffset: number,
  skipBytes: number,
  logicalBlockBytes: number,
): SuspEntry[] {
  const entries: SuspEntry[] = [];
  let continuation = entriesOfArea(systemUse.subarray(skipBytes), systemUseOffset + skipBytes, entries);
  for (let hops = 0; continuation !== undefined; hops++) {
    if (hops >= ISO9660_LIMITS.continuationAreas) {
      throw limitExceeded(`more than ${ISO9660_LIMITS.continuationAreas} SUSP continuation areas for one directory record (a CE loop?)`, continuation.offset);
    }
    requireEntryLength(continuation, SUSP_CE.sizeBytes);
    const ce = SUSP_CE.read(entryView(continuation));
    const start = ce.Offset_to_Start_of_Continuation_Area;
    const length = ce.Length_of_the_Continuation_Area;
    // A Continuation Area lies within one logical block, as Linux (fs/isofs/rock.c) requires.
    if (start + length > logicalBlockBytes) {
      throw invalid(`a continuation area of ${length} bytes at offset ${start} crosses its ${logicalBlockBytes}-byte block`, continuation.offset, 'CE.Length_of_the_Continuation_Area');
    }
    const areaOffset = ce.Block_Location_of_Continuation_Area * logicalBlockBytes + start;
    const area = readExactly(source, areaOffset, length, 'SUSP continuation area');
    continuation = entriesOfArea(area, areaOffset, entries);
  }
  return entries;
}

/** LEN_SKP when the root's first System Use field starts with a valid SP entry, else undefined (no SUSP). */
export function suspSkipBytes(rootSelfSystemUse: Uint8Array): number | undefined {
  if (rootSelfSystemUse.length < SUSP_SP.sizeBytes) return undefined;
  const view = new ByteView(rootSelfSystemUse, ISO9660_FORMAT);
  const header = SYSTEM_USE_ENTRY.read(view);
  if (header.Signature_Word !== 'SP' || header.Length < SUSP_SP.sizeBytes) return undefined;
  const sp = SUSP_SP.read(view);
  if (sp.Check_Bytes[0] !== SP_CHECK_BYTES[0] || sp.Check_Bytes[1] !== SP_CHECK_BYTES[1]) return undefined;
  return sp.LEN_SKP;
}

/** Whether the root's entries declare Rock Ridge (an ER entry) or use it (RR, PX, NM, SL: older writers wrote no ER). */
export function declaresRockRidge(entries: readonly SuspEntry[]): boolean {
  for (const entry of entries) {
    if (['RR', 'PX', 'NM', 'SL', 'TF'].includes(entry.signature)) return true;
    if (entry.signature !== 'ER' || entry.bytes.length < SUSP_ER.sizeBytes) continue;
    const er = SUSP_ER.read(entryView(entry));
    const identifier = Buffer.from(entry.bytes.subarray(SUSP_ER.sizeBytes, SUSP_ER.sizeBytes + er.LEN_ID)).toString('latin1');
    if (RRIP_IDENTIFIERS.has(identifier)) return true;
  }
  return false;
}
