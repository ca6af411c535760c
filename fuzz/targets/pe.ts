// Fuzz targets for the PE readers (src/image/pe/, src/image/uki/): the PE/COFF headers, the
// Authenticode certificate table and signature, UKIs with their addons, and os-release texts.
// Seeds are compact copies of the signed Debian kernel, systemd's stub and the UKI built from it
// (headers real, section data cut short), and the addons as they are.
import fs from 'node:fs';
import { IMAGE_SECTION_HEADER } from '../../src/image/pe/layouts.js';
import { parseAuthenticode, parsePe, probePe, type PeImage } from '../../src/image/pe/index.js';
import { combineUkiCmdline, parseAddon, parseOsRelease, parseUki, probeUki } from '../../src/image/uki/index.js';
import { cachePath, derivedSeed, readArtefact, readRange } from '../artefacts.js';
import type { LyingField, Seed } from '../mutate.js';
import { eachStep, latin1, present, type FuzzTarget } from './target.js';
import { peLyingFieldOffsets } from '../../test/image/synthetic-images.js';

const CLOUD_VMLINUZ = ['debian-cloud-amd64', 'vmlinuz'];

function mapped<T, U>(value: T | undefined, map: (value: T) => U): U | undefined {
  return value === undefined ? undefined : map(value);
}

/** Offsets of the PE header fields a liar would change: e_lfanew, counts, sizes, pointers. */
function peLyingFields(pe: PeImage): LyingField[] {
  const offsets = peLyingFieldOffsets(pe);
  const fields: LyingField[] = offsets.map((offset) => ({ offset, width: 4 }));
  // The DER lengths at the start of the signature: SEQUENCE, OID, [0], SignedData.
  if (pe.certificateTable) for (let at = 8; at < 40; at++) fields.push({ offset: pe.certificateTable.fileOffset + at, width: 1 });
  return fields;
}

/**
 * The signed kernel's first 64 KiB plus its certificate table, the data directory pointing at
 * the new place (as test/image/pe-uki-properties.test.ts builds it): the certificate parsing
 * runs in full without hashing 14 MB per input.
 */
function compactSignedKernel(): Uint8Array | undefined {
  const file = cachePath(...CLOUD_VMLINUZ);
  if (!fs.existsSync(file)) return undefined;
  const head = readRange(file, 0, 1 << 20);
  const pe = parsePe(head);
  const table = pe.certificateTable;
  if (!table || pe.certificateTableEntryOffset === undefined) return undefined;
  const compact = new Uint8Array(0x10000 + table.sizeBytes);
  compact.set(head.subarray(0, 0x10000));
  compact.set(readRange(file, table.fileOffset, table.sizeBytes), 0x10000);
  new DataView(compact.buffer).setUint32(pe.certificateTableEntryOffset, 0x10000, true);
  return compact;
}

/**
 * A PE with every section's raw data cut to `keepBytes` and moved up to follow the headers:
 * section names, sizes and the small text sections (.cmdline, .osrel, .uname) stay real.
 */
function compactPe(bytes: Uint8Array, keepBytes: number): Uint8Array {
  const pe = parsePe(bytes);
  const headerBytes = pe.optionalHeader.SizeOfHeaders;
  const parts: Uint8Array[] = [bytes.slice(0, headerBytes)];
  let at = headerBytes;
  const rewrites: { headerOffset: number; pointer: number; size: number }[] = [];
  for (const section of pe.sections) {
    const size = Math.min(section.SizeOfRawData, keepBytes);
    parts.push(bytes.subarray(section.PointerToRawData, section.PointerToRawData + size));
    rewrites.push({ headerOffset: section.headerOffset, pointer: at, size });
    at += size;
  }
  const out = Buffer.concat(parts);
  for (const { headerOffset, pointer, size } of rewrites) {
    out.writeUInt32LE(size, headerOffset + IMAGE_SECTION_HEADER.fields.SizeOfRawData.offset);
    out.writeUInt32LE(pointer, headerOffset + IMAGE_SECTION_HEADER.fields.PointerToRawData.offset);
  }
  // No certificate table in the compact copy: its offset would point past the end.
  if (pe.certificateTableEntryOffset !== undefined) out.fill(0, pe.certificateTableEntryOffset, pe.certificateTableEntryOffset + 8);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

async function withFields(name: string, bytes: Uint8Array | undefined): Promise<Seed | undefined> {
  if (bytes === undefined) return undefined;
  let fields: LyingField[] = [];
  try {
    fields = peLyingFields(parsePe(bytes));
  } catch {
    // A seed that is not a PE (a bzImage head cut short) still serves, without fields.
  }
  return { name, bytes, fields };
}

export async function peSeeds(): Promise<Seed[]> {
  return present([
    await withFields('signed debian-cloud-amd64 vmlinuz (headers + certificate table)', await derivedSeed('pe-signed-kernel', compactSignedKernel)),
    await withFields('systemd-stub linuxx64.efi.stub (compact)', await derivedSeed('pe-stub', () => mapped(readArtefact('uki', 'linuxx64.efi.stub'), (stub) => compactPe(stub, 2048)))),
    await withFields('UKI addon 10-console', readArtefact('uki', 'addons', '10-console.addon.efi')),
    await withFields('UKI addon 50-debug', readArtefact('uki', 'addons', '50-debug.addon.efi')),
  ]);
}

async function ukiSeeds(): Promise<Seed[]> {
  return present([
    await withFields('debian-cloud UKI (sections cut to 4 KiB)', await derivedSeed('uki-compact', () => mapped(readArtefact('uki', 'debian-cloud.efi'), (uki) => compactPe(uki, 4096)))),
    await withFields('UKI addon 10-console', readArtefact('uki', 'addons', '10-console.addon.efi')),
  ]);
}

let cachedAddons: { fileName: string; bytes: Uint8Array }[] | undefined;

/** The cached UKI addons, applied to every UKI input (combineUkiCmdline's merge rules run). */
function ukiAddons(): { fileName: string; bytes: Uint8Array }[] {
  cachedAddons ??= ['10-console.addon.efi', '50-debug.addon.efi'].flatMap((fileName) => {
    const bytes = readArtefact('uki', 'addons', fileName);
    return bytes ? [{ fileName, bytes }] : [];
  });
  return cachedAddons;
}

export const PE_DICTIONARY = ['MZ', 'PE\0\0', '.linux\0\0', '.initrd\0', '.cmdline', '.osrel\0\0', '.uname\0\0', '.profile', '.sbat\0\0\0', '.dtb\0\0\0\0', '\x0b\x02', '\x30\x82', '\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02'];

export const PE_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'pe',
    description: 'parsePe (DOS stub, COFF and optional headers, sections, data directories)',
    seeds: peSeeds,
    dictionary: PE_DICTIONARY,
    run(bytes) {
      probePe(bytes);
      parsePe(bytes);
    },
  },
  {
    name: 'authenticode',
    description: 'parseAuthenticode (certificate table, PKCS#7 SignedData, digest)',
    seeds: peSeeds,
    dictionary: PE_DICTIONARY,
    run(bytes) {
      parseAuthenticode(bytes);
    },
  },
  {
    name: 'uki',
    description: 'parseUki (sections, profiles), parseAddon, combineUkiCmdline',
    seeds: ukiSeeds,
    dictionary: PE_DICTIONARY,
    run(bytes) {
      probeUki(bytes);
      // A UKI or an addon: the input passes when either reader takes it.
      eachStep(
        [
          () => {
            const uki = parseUki(bytes, { profile: bytes.length % 8 === 7 ? 1 : 0 });
            combineUkiCmdline(uki, ukiAddons());
          },
          () => parseAddon(bytes),
        ],
        'all',
      );
    },
  },
  {
    name: 'os-release',
    description: 'parseOsRelease (a UKI .osrel / .profile text)',
    text: true,
    seeds: async () => present([{ name: 'UKI fixture os-release', bytes: readArtefact('uki', 'os-release') }]),
    dictionary: ['NAME=', 'ID=', 'VERSION_ID=', "'", '"', '\\', '$', '`', '#'],
    run(bytes) {
      parseOsRelease(latin1(bytes));
    },
  },
];
