/**
 * The El Torito boot catalog (El Torito Bootable CD-ROM Format Specification 1.0, section 2):
 * a Validation Entry (checksummed), the Initial/Default Entry, then sections of further entries
 * per platform (UEFI's is how grub-mkrescue images boot on firmware). Read for information:
 * kexec boots the kernel a config names, never the firmware's boot image. Pure.
 */
import { ByteView } from '../../binary/byte-view.js';
import { ISO9660_LIMITS } from '../../limits.js';
import { BOOT_ENTRY, LOGICAL_SECTOR_BYTES, SECTION_ENTRY_EXTENSION, SECTION_HEADER_ENTRY, VALIDATION_ENTRY } from './layout.js';
import { invalid, ISO9660_FORMAT, readExactly, type IsoSource } from './source.js';

export type ElToritoPlatform = 'x86' | 'powerpc' | 'mac' | 'efi' | `unknown (0x${string})`;
export type ElToritoEmulation = 'none' | 'floppy-1.2M' | 'floppy-1.44M' | 'floppy-2.88M' | 'hard-disk' | `unknown (${number})`;

export interface ElToritoBootImage {
  platform: ElToritoPlatform;
  bootable: boolean;
  emulation: ElToritoEmulation;
  loadSegment: number;
  systemType: number;
  /** 512-byte virtual sectors the BIOS loads (Sector Count). */
  sectorCount: number;
  /** Logical sector where the boot image starts (Load RBA). */
  loadSector: number;
  /** The section header's ID string, for section entries. */
  sectionId?: string;
}

export interface ElToritoCatalog {
  catalogSector: number;
  /** Validation Entry ID string (manufacturer or developer). */
  idString: string;
  images: ElToritoBootImage[];
}

const ENTRY_BYTES = 32;
const HEADER_ID = 0x01;
const KEY_BYTES = [0x55, 0xaa];
const BOOTABLE = 0x88;
const SECTION_HEADER_MORE = 0x90;
const SECTION_HEADER_FINAL = 0x91;
const EXTENSION_INDICATOR = 0x44;
const EXTENSION_MORE = 1 << 5;

function platformName(id: number): ElToritoPlatform {
  switch (id) {
    case 0x00: return 'x86';
    case 0x01: return 'powerpc';
    case 0x02: return 'mac';
    case 0xef: return 'efi';
    default: return `unknown (0x${id.toString(16)})`;
  }
}

function emulationName(mediaType: number): ElToritoEmulation {
  const names: ElToritoEmulation[] = ['none', 'floppy-1.2M', 'floppy-1.44M', 'floppy-2.88M', 'hard-disk'];
  return names[mediaType & 0x0f] ?? `unknown (${mediaType & 0x0f})`;
}

function bootImage(view: ByteView, at: number, platform: ElToritoPlatform): ElToritoBootImage {
  const entry = BOOT_ENTRY.read(view, at);
  return {
    platform,
    bootable: entry.Boot_Indicator === BOOTABLE,
    emulation: emulationName(entry.Boot_media_type),
    loadSegment: entry.Load_Segment,
    systemType: entry.System_Type,
    sectorCount: entry.Sector_Count,
    loadSector: entry.Load_RBA,
  };
}

export function readElToritoCatalog(source: IsoSource, catalogSector: number): ElToritoCatalog {
  const offset = catalogSector * LOGICAL_SECTOR_BYTES;
  const wanted = ISO9660_LIMITS.bootCatalogEntries * ENTRY_BYTES;
  const available = Math.max(0, Math.min(wanted, source.sizeBytes - offset));
  const bytes = readExactly(source, offset, Math.max(available, ENTRY_BYTES * 2), 'El Torito boot catalog');
  const view = new ByteView(bytes, ISO9660_FORMAT);
  const validation = VALIDATION_ENTRY.read(view);
  if (validation.Header_ID !== HEADER_ID || validation.Key_byte_55 !== KEY_BYTES[0] || validation.Key_byte_AA !== KEY_BYTES[1]) {
    throw invalid('the boot catalog does not start with a Validation Entry (header 01, key bytes 55 AA)', offset, 'Validation_Entry');
  }
  let sum = 0;
  for (let at = 0; at < ENTRY_BYTES; at += 2) sum = (sum + view.u16(at, 'Validation_Entry')) & 0xffff;
  if (sum !== 0) throw invalid(`the Validation Entry's words sum to 0x${sum.toString(16)}, not 0`, offset + VALIDATION_ENTRY.fields.Checksum_Word.offset, 'Checksum_Word');

  const images = [bootImage(view, ENTRY_BYTES, platformName(validation.Platform_ID))];
  let at = ENTRY_BYTES * 2;
  let final = false;
  while (!final && at + ENTRY_BYTES <= bytes.length) {
    const header = SECTION_HEADER_ENTRY.read(view, at);
    if (header.Header_Indicator !== SECTION_HEADER_MORE && header.Header_Indicator !== SECTION_HEADER_FINAL) break;
    final = header.Header_Indicator === SECTION_HEADER_FINAL;
    const platform = platformName(header.Platform_ID);
    at += ENTRY_BYTES;
    for (let index = 0; index < header.Number_of_section_entries_following && at + ENTRY_BYTES <= bytes.length; index++) {
      const image = bootImage(view, at, platform);
      if (header.ID_string !== '') image.sectionId = header.ID_string;
      images.push(image);
      at += ENTRY_BYTES;
      // Extensions carry more selection criteria; each says whether another follows.
      while (at + ENTRY_BYTES <= bytes.length) {
        const extension = SECTION_ENTRY_EXTENSION.read(view, at);
        if (extension.Extension_Indicator !== EXTENSION_INDICATOR) break;
        at += ENTRY_BYTES;
        if ((extension.Flags & EXTENSION_MORE) === 0) break;
      }
    }
  }
  return { catalogSector, idString: validation.ID_string, images };
}
