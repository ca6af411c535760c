/**
 * The Volume Descriptor Set (ECMA-119 6.7.1, 8): from sector 16 up to the terminator, the
 * primary volume (block size, root directory), a Joliet supplementary volume when one is
 * recorded (its Escape Sequences name UCS-2 level 1, 2 or 3: `%/@`, `%/C`, `%/E`), and the El
 * Torito boot record's catalog pointer. Pure.
 */
import { ByteView } from '../../binary/byte-view.js';
import { ErrorCode, ParseError } from '../../errors.js';
import { ISO9660_LIMITS } from '../../limits.js';
import { parseDirectoryRecord, volumeDate, type RawDirectoryRecord } from './directory.js';
import {
  BOOT_RECORD,
  EL_TORITO_BOOT_SYSTEM_IDENTIFIER,
  LOGICAL_SECTOR_BYTES,
  STANDARD_IDENTIFIER,
  VOLUME_DESCRIPTOR,
  VOLUME_DESCRIPTOR_HEADER,
  VOLUME_DESCRIPTOR_SET_SECTOR,
  VolumeDescriptorType,
} from './layout.js';
import { invalid, ISO9660_FORMAT, limitExceeded, readExactly, type IsoSource } from './source.js';

/** What the primary volume descriptor says about the volume (identifiers trimmed of padding). */
export interface IsoVolumeInfo {
  volumeIdentifier: string;
  systemIdentifier: string;
  volumeSetIdentifier: string;
  publisherIdentifier: string;
  dataPreparerIdentifier: string;
  applicationIdentifier: string;
  /** Logical blocks the volume claims (Volume Space Size). */
  volumeSpaceBlocks: number;
  logicalBlockBytes: number;
  /** ISO 8601 UTC, when recorded. */
  createdAt?: string;
  modifiedAt?: string;
}

export interface VolumeDescriptorSet {
  volume: IsoVolumeInfo;
  primaryRoot: RawDirectoryRecord;
  /** The Joliet tree's root and UCS-2 level, when the image has one. */
  joliet?: { level: 1 | 2 | 3; root: RawDirectoryRecord; volumeIdentifier: string };
  /** Logical sector of the El Torito boot catalog, when a boot record points at one. */
  bootCatalogSector?: number;
}

const JOLIET_LEVELS: Record<string, 1 | 2 | 3> = { '%/@': 1, '%/C': 2, '%/E': 3 };

function aCharacters(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('latin1').replace(/[ \0]+$/, '');
}

function ucs2(bytes: Uint8Array): string {
  const swapped = Buffer.from(bytes.subarray(0, bytes.length - (bytes.length % 2)));
  swapped.swap16();
  return swapped.toString('utf16le').replace(/[ \0]+$/, '');
}

/** Bytes probeIso needs: through the Standard Identifier of the first volume descriptor. */
export const ISO_PROBE_BYTES = VOLUME_DESCRIPTOR_SET_SECTOR * LOGICAL_SECTOR_BYTES + 6;

/** Whether `head` (at least ISO_PROBE_BYTES of a file) starts an ISO 9660 volume descriptor set. */
export function probeIso(head: Uint8Array): boolean {
  const at = VOLUME_DESCRIPTOR_SET_SECTOR * LOGICAL_SECTOR_BYTES + 1;
  return head.length >= ISO_PROBE_BYTES && Buffer.from(head.subarray(at, at + 5)).toString('latin1') === STANDARD_IDENTIFIER;
}

export function readVolumeDescriptors(source: IsoSource): VolumeDescriptorSet {
  let primary: VolumeDescriptorSet | undefined;
  let joliet: VolumeDescriptorSet['joliet'];
  let bootCatalogSector: number | undefined;
  let terminated = false;
  for (let index = 0; index < ISO9660_LIMITS.volumeDescriptors; index++) {
    const sector = VOLUME_DESCRIPTOR_SET_SECTOR + index;
    const offset = sector * LOGICAL_SECTOR_BYTES;
    if (index > 0 && offset + LOGICAL_SECTOR_BYTES > source.sizeBytes) break;
    const bytes = readExactly(source, offset, LOGICAL_SECTOR_BYTES, `volume descriptor ${index}`);
    const view = new ByteView(bytes, ISO9660_FORMAT);
    const header = VOLUME_DESCRIPTOR_HEADER.read(view);
    if (header.Standard_Identifier !== STANDARD_IDENTIFIER) {
      if (index === 0) throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, ISO9660_FORMAT, `no "${STANDARD_IDENTIFIER}" volume descriptor at sector ${sector}: not an ISO 9660 image`, { offset: offset + 1, field: 'Standard_Identifier' });
      break; // The set ended without a terminator; what was read stands.
    }
    const type = header.Volume_Descriptor_Type;
    if (type === VolumeDescriptorType.TERMINATOR) {
      terminated = true;
      break;
    }
    if (type === VolumeDescriptorType.PRIMARY && primary === undefined) primary = readPrimary(view, offset);
    else if (type === VolumeDescriptorType.SUPPLEMENTARY && joliet === undefined) joliet = readJoliet(view, offset);
    else if (type === VolumeDescriptorType.BOOT_RECORD && bootCatalogSector === undefined) {
      const record = BOOT_RECORD.read(view);
      if (record.Boot_System_Identifier.startsWith(EL_TORITO_BOOT_SYSTEM_IDENTIFIER)) {
        bootCatalogSector = record.Absolute_pointer_to_first_sector_of_Boot_Catalog;
      }
    }
  }
  if (!terminated && primary === undefined) {
    throw limitExceeded(`no Volume Descriptor Set Terminator or primary volume descriptor within ${ISO9660_LIMITS.volumeDescriptors} sectors`, VOLUME_DESCRIPTOR_SET_SECTOR * LOGICAL_SECTOR_BYTES);
  }
  if (primary === undefined) throw invalid('the volume descriptor set has no Primary Volume Descriptor', VOLUME_DESCRIPTOR_SET_SECTOR * LOGICAL_SECTOR_BYTES);
  if (joliet !== undefined) primary.joliet = joliet;
  if (bootCatalogSector !== undefined) primary.bootCatalogSector = bootCatalogSector;
  return primary;
}

function readPrimary(view: ByteView, offset: number): VolumeDescriptorSet {
  const descriptor = VOLUME_DESCRIPTOR.read(view);
  const blockBytes = descriptor.Logical_Block_Size;
  // 2^(n+9) and no larger than a logical sector (ECMA-119 6.1.2): 512, 1024 or 2048.
  if (blockBytes !== 512 && blockBytes !== 1024 && blockBytes !== 2048) {
    throw invalid(`Logical Block Size ${blockBytes} is not 512, 1024 or 2048`, offset + VOLUME_DESCRIPTOR.fields.Logical_Block_Size.offset, 'Logical_Block_Size');
  }
  const rootOffset = offset + VOLUME_DESCRIPTOR.fields.Directory_Record_for_Root_Directory.offset;
  const root = parseDirectoryRecord(descriptor.Directory_Record_for_Root_Directory, 0, rootOffset);
  const volume: IsoVolumeInfo = {
    volumeIdentifier: aCharacters(descriptor.Volume_Identifier),
    systemIdentifier: aCharacters(descriptor.System_Identifier),
    volumeSetIdentifier: aCharacters(descriptor.Volume_Set_Identifier),
    publisherIdentifier: aCharacters(descriptor.Publisher_Identifier),
    dataPreparerIdentifier: aCharacters(descriptor.Data_Preparer_Identifier),
    applicationIdentifier: aCharacters(descriptor.Application_Identifier),
    volumeSpaceBlocks: descriptor.Volume_Space_Size,
    logicalBlockBytes: blockBytes,
  };
  const createdAt = volumeDate(descriptor.Volume_Creation_Date_and_Time);
  const modifiedAt = volumeDate(descriptor.Volume_Modification_Date_and_Time);
  if (createdAt !== undefined) volume.createdAt = createdAt;
  if (modifiedAt !== undefined) volume.modifiedAt = modifiedAt;
  return { volume, primaryRoot: root };
}

function readJoliet(view: ByteView, offset: number): VolumeDescriptorSet['joliet'] {
  const descriptor = VOLUME_DESCRIPTOR.read(view);
  const escapes = Buffer.from(descriptor.Escape_Sequences.subarray(0, 3)).toString('latin1');
  const level = JOLIET_LEVELS[escapes];
  // Bit 0 of Volume Flags set means escape sequences outside ISO 2375: not Joliet.
  if (level === undefined || (descriptor.Volume_Flags & 1) !== 0) return undefined;
  const rootOffset = offset + VOLUME_DESCRIPTOR.fields.Directory_Record_for_Root_Directory.offset;
  return {
    level,
    root: parseDirectoryRecord(descriptor.Directory_Record_for_Root_Directory, 0, rootOffset),
    volumeIdentifier: ucs2(descriptor.Volume_Identifier),
  };
}
