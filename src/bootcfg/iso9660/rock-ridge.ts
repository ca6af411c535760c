/**
 * Rock Ridge (IEEE P1282, RRIP 1.12) entries of one directory record -> what they say: the
 * POSIX name (NM, possibly in pieces), a symbolic link's target (SL component records), the
 * POSIX mode (PX), the modification time (TF), and deep directory relocation (CL: this file
 * stands for a directory moved elsewhere; RE: this directory was moved here and is hidden).
 * Pure.
 */
import { ISO9660_LIMITS } from '../../limits.js';
import { recordDate } from './directory.js';
import { RRIP_CL, RRIP_FLAGS_ENTRY, RRIP_PX, RRIP_SL_COMPONENT, RRIP_TF } from './layout.js';
import { entryView, requireEntryLength, type SuspEntry } from './susp.js';
import { invalid, limitExceeded } from './source.js';

export interface RockRidgeAttributes {
  /** NM joined; undefined when the record has no NM (the ISO name stands). */
  name?: string;
  /** NM with CURRENT or PARENT set: the record is `.` or `..`. */
  selfOrParent: boolean;
  linkTarget?: string;
  mode?: number;
  modifiedAt?: string;
  /** CL: the directory this placeholder stands for starts at this block. */
  childDirectoryBlock?: number;
  /** RE: a relocated directory, listed only through its CL placeholder. */
  relocated: boolean;
}

/** RRIP 4.1.4 NM flags and 4.1.3.1 SL component flags. */
const CONTINUE = 1 << 0;
const CURRENT = 1 << 1;
const PARENT = 1 << 2;
const ROOT = 1 << 3;

/** POSIX file types in PX's POSIX File Mode (RRIP 4.1.1, as stat(2)'s S_IFMT). */
export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

/** TF Flags (RRIP 4.1.6): which time stamps follow, in this order; LONG_FORM makes them 17 bytes. */
const TF_MODIFY = 1 << 1;
const TF_LONG_FORM = 1 << 7;

function appendBounded(parts: Uint8Array[], total: number, piece: Uint8Array, limit: number, what: string, offset: number): number {
  if (total + piece.length > limit) throw limitExceeded(`a Rock Ridge ${what} longer than ${limit} bytes`, offset);
  parts.push(piece);
  return total + piece.length;
}

export function rockRidgeAttributes(entries: readonly SuspEntry[]): RockRidgeAttributes {
  const attributes: RockRidgeAttributes = { selfOrParent: false, relocated: false };
  const nameParts: Uint8Array[] = [];
  let nameBytes = 0;
  let sawName = false;
  const linkParts: Uint8Array[] = [];
  let linkBytes = 0;
  let sawLink = false;
  // An SL component may go on in the next component record (its CONTINUE flag); otherwise the
  // next component starts after a slash.
  let componentOpen = false;
  for (const entry of entries) {
    switch (entry.signature) {
      case 'NM': {
        requireEntryLength(entry, RRIP_FLAGS_ENTRY.sizeBytes);
        const flags = RRIP_FLAGS_ENTRY.read(entryView(entry)).Flags;
        sawName = true;
        if ((flags & (CURRENT | PARENT)) !== 0) attributes.selfOrParent = true;
        nameBytes = appendBounded(nameParts, nameBytes, entry.bytes.subarray(RRIP_FLAGS_ENTRY.sizeBytes), ISO9660_LIMITS.rockRidgeNameBytes, 'name (NM)', entry.offset);
        break;
      }
      case 'SL': {
        requireEntryLength(entry, RRIP_FLAGS_ENTRY.sizeBytes);
        sawLink = true;
        let position = RRIP_FLAGS_ENTRY.sizeBytes;
        const view = entryView(entry);
        while (position < entry.bytes.length) {
          if (position + RRIP_SL_COMPONENT.sizeBytes > entry.bytes.length) {
            throw invalid('an SL component record runs past its entry', entry.offset + position, 'SL.Component_Length');
          }
          const component = RRIP_SL_COMPONENT.read(view, position);
          const contentStart = position + RRIP_SL_COMPONENT.sizeBytes;
          if (contentStart + component.Component_Length > entry.bytes.length) {
            throw invalid(`an SL component of ${component.Component_Length} bytes runs past its entry`, entry.offset + position, 'SL.Component_Length');
          }
          const flags = component.Component_Flags;
          let text: Uint8Array;
          if ((flags & ROOT) !== 0) text = Buffer.from('/');
          else if ((flags & CURRENT) !== 0) text = Buffer.from('.');
          else if ((flags & PARENT) !== 0) text = Buffer.from('..');
          else text = entry.bytes.subarray(contentStart, contentStart + component.Component_Length);
          const separator = linkBytes > 0 && !componentOpen && !endsWithSlash(linkParts) && (flags & ROOT) === 0;
          if (separator) linkBytes = appendBounded(linkParts, linkBytes, Buffer.from('/'), ISO9660_LIMITS.rockRidgeLinkBytes, 'link target (SL)', entry.offset);
          linkBytes = appendBounded(linkParts, linkBytes, text, ISO9660_LIMITS.rockRidgeLinkBytes, 'link target (SL)', entry.offset);
          componentOpen = (flags & CONTINUE) !== 0;
          position = contentStart + component.Component_Length;
        }
        break;
      }
      case 'PX':
        requireEntryLength(entry, RRIP_PX.sizeBytes);
        attributes.mode = RRIP_PX.read(entryView(entry)).POSIX_File_Mode;
        break;
      case 'TF': {
        requireEntryLength(entry, RRIP_TF.sizeBytes);
        const flags = RRIP_TF.read(entryView(entry)).Flags;
        if ((flags & TF_MODIFY) === 0 || (flags & TF_LONG_FORM) !== 0) break;
        // CREATION (bit 0) comes first when present; MODIFY follows it.
        const start = RRIP_TF.sizeBytes + ((flags & 1) !== 0 ? 7 : 0);
        if (start + 7 <= entry.bytes.length) {
          const modifiedAt = recordDate(entry.bytes.subarray(start, start + 7));
          if (modifiedAt !== undefined) attributes.modifiedAt = modifiedAt;
        }
        break;
      }
      case 'CL':
        requireEntryLength(entry, RRIP_CL.sizeBytes);
        attributes.childDirectoryBlock = RRIP_CL.read(entryView(entry)).Location_of_Child_Directory;
        break;
      case 'RE':
        attributes.relocated = true;
        break;
      default:
        break; // RR, PN, PL, SF, ER, ES, PD and unknown extensions: nothing we need.
    }
  }
  if (sawName && !attributes.selfOrParent) attributes.name = Buffer.concat(nameParts).toString('utf8');
  if (sawLink) attributes.linkTarget = Buffer.concat(linkParts).toString('utf8');
  return attributes;
}

function endsWithSlash(parts: Uint8Array[]): boolean {
  const last = parts[parts.length - 1];
  return last !== undefined && last[last.length - 1] === 0x2f;
}
