// Fuzz targets for the kernel image parsers (src/image/): one per entry point, each seeded
// with compact copies of the real kernels, the UKI and its addons (headers kept whole, bulk
// data cut short so an input stays small), as test/image/*.test.ts call them.
import fs from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { FieldType } from '../../src/binary/layout.js';
import { parseArm64Image, probeArm64Image } from '../../src/image/arm64/parse.js';
import { SETUP_HEADER_OFFSET, setupHeaderLayout } from '../../src/image/bzimage/layout.js';
import { parseBzImage, probeBzImage } from '../../src/image/bzimage/parse.js';
import { detectInitrdKind } from '../../src/image/cpio.js';
import { inspect } from '../../src/image/detect.js';
import { elf32HeaderLayout, elf64HeaderLayout } from '../../src/image/elf/layout.js';
import { parseElf, probeElf } from '../../src/image/elf/parse.js';
import { extractEmbeddedConfig } from '../../src/image/ikconfig.js';
import { parseKernelConfig } from '../../src/image/kernel-config.js';
import { IMAGE_FILE_HEADER, IMAGE_OPTIONAL_HEADER64, IMAGE_SECTION_HEADER, WIN_CERTIFICATE } from '../../src/image/pe/layouts.js';
import { parseAuthenticode, parsePe, probePe, type PeImage } from '../../src/image/pe/index.js';
import { parseRiscvImage, probeRiscvImage, riscvImageHeaderLayout } from '../../src/image/riscv/parse.js';
import { combineUkiCmdline, parseAddon, parseOsRelease, parseUki, probeUki } from '../../src/image/uki/index.js';
import { parseZboot, probeZboot, zbootHeaderLayout } from '../../src/image/zboot/parse.js';
import { cachePath, derivedSeed, readArtefact, readArtefactHead, readRange } from '../artefacts.js';
import type { LyingField, Seed } from '../mutate.js';
import { eachStep, latin1, present, type FuzzTarget } from './target.js';

const CLOUD_VMLINUZ = ['debian-cloud-amd64', 'vmlinuz'];
const GENERIC_VMLINUZ = ['foreign-arch', 'amd64-generic-vmlinuz'];

/** The width of an integer field of a layout; undefined for byte arrays and strings. */
function widthOf(type: FieldType): LyingField['width'] | undefined {
  return type === 'u8' ? 1 : type === 'u16' ? 2 : type === 'u32' || type === 'i32' ? 4 : type === 'u64' ? 8 : undefined;
}

/** setup_header fields as the layout declares them, at their file offsets. */
function setupHeaderFields(): LyingField[] {
  const fields: LyingField[] = [{ offset: 0x3c, width: 4 }];
  for (const spec of Object.values(setupHeaderLayout.fields)) {
    const width = widthOf(spec.type);
    if (width !== undefined) fields.push({ offset: SETUP_HEADER_OFFSET + spec.offset, width });
  }
  return fields;
}

/**
 * A bzImage cut to its setup code and the first KiB of the payload, payload_length rewritten to
 * match: every header rule runs, no 14 MB copy per input.
 */
function compactBzImage(vmlinuz: Uint8Array): Uint8Array {
  const view = new DataView(vmlinuz.buffer, vmlinuz.byteOffset, vmlinuz.byteLength);
  const setupSectors = vmlinuz[0x1f1] || 4;
  const protectedMode = (setupSectors + 1) * 512;
  const payloadStart = protectedMode + view.getUint32(0x248, true);
  const kernelInfoOffset = view.getUint32(0x268, true);
  const payloadKept = 1024;
  const kernelInfoBytes = 64;
  // kernel_info sits far into the image: copied to just after the kept payload, its offset moved.
  const compact = new Uint8Array(payloadStart + payloadKept + kernelInfoBytes);
  compact.set(vmlinuz.subarray(0, payloadStart + payloadKept));
  const compactView = new DataView(compact.buffer);
  compactView.setUint32(0x24c, payloadKept, true);
  if (kernelInfoOffset !== 0 && protectedMode + kernelInfoOffset + kernelInfoBytes <= vmlinuz.length) {
    compact.set(vmlinuz.subarray(protectedMode + kernelInfoOffset, protectedMode + kernelInfoOffset + kernelInfoBytes), payloadStart + payloadKept);
    compactView.setUint32(0x268, payloadStart + payloadKept - protectedMode, true);
  }
  return compact;
}

async function bzImageSeeds(): Promise<Seed[]> {
  const fields = setupHeaderFields();
  return present([
    { name: 'debian-cloud-amd64 vmlinuz (compact)', bytes: await derivedSeed('bzimage-cloud', () => mapped(readArtefactHead(1 << 20, ...CLOUD_VMLINUZ), compactBzImage)), fields },
    { name: 'debian amd64 generic vmlinuz (compact)', bytes: await derivedSeed('bzimage-generic', () => mapped(readArtefactHead(1 << 20, ...GENERIC_VMLINUZ), compactBzImage)), fields },
  ]);
}

function mapped<T, U>(value: T | undefined, map: (value: T) => U): U | undefined {
  return value === undefined ? undefined : map(value);
}

function elfHeaderFields(is64: boolean, bigEndian: boolean): LyingField[] {
  const layout = is64 ? elf64HeaderLayout : elf32HeaderLayout;
  const fields: LyingField[] = [];
  for (const spec of Object.values(layout.fields)) {
    const width = widthOf(spec.type);
    if (width !== undefined) fields.push({ offset: spec.offset, width, bigEndian });
  }
  return fields;
}

async function elfSeeds(): Promise<Seed[]> {
  return present([
    { name: 'vmlinux head (64 KiB)', bytes: readArtefactHead(64 << 10, 'codec-samples', 'vmlinux'), fields: elfHeaderFields(true, false) },
    { name: 'busybox-i386 head (16 KiB)', bytes: readArtefactHead(16 << 10, 'foreign-arch', 'busybox-i386'), fields: elfHeaderFields(false, false) },
    { name: 'busybox-s390x head (16 KiB)', bytes: readArtefactHead(16 << 10, 'foreign-arch', 'busybox-s390x'), fields: elfHeaderFields(true, true) },
  ]);
}

function arm64Dir(): string[] | undefined {
  const current = readArtefact('arm64-kernel', 'current.json');
  if (!current) return undefined;
  const { key } = JSON.parse(Buffer.from(current).toString('utf8')) as { key?: string };
  return key === undefined ? undefined : ['arm64-kernel', key];
}

const IMAGE_HEADER_FIELDS: LyingField[] = [0, 4, 8, 16, 24, 32, 40, 48, 56, 60].map((offset) => ({ offset, width: offset % 8 === 0 && offset <= 48 ? 8 : 4 }));

async function arm64Seeds(): Promise<Seed[]> {
  const dir = arm64Dir();
  return present([
    { name: 'debian arm64 vmlinuz head (8 KiB)', bytes: readArtefactHead(8192, 'foreign-arch', 'arm64-vmlinuz'), fields: IMAGE_HEADER_FIELDS },
    { name: 'built arm64 Image head (8 KiB)', bytes: dir ? readArtefactHead(8192, ...dir, 'Image') : undefined, fields: IMAGE_HEADER_FIELDS },
  ]);
}

/** A RISC-V Image header as boot-image-header.rst lays it out (no Debian riscv64 kernel is cached). */
function syntheticRiscvImage(version: number, withMagic2: boolean): Uint8Array {
  const bytes = new Uint8Array(512);
  riscvImageHeaderLayout.write(bytes, {
    code0: 0x0000_0013,
    code1: 0x0000_0013,
    text_offset: 0x200000n,
    image_size: 0x1400000n,
    flags: 0n,
    version,
    res1: 0,
    res2: 0n,
    magic: Buffer.from('RISCV\0\0\0', 'latin1'),
    magic2: withMagic2 ? Buffer.from('RSC\x05', 'latin1') : new Uint8Array(4),
    res3: 0,
  });
  return bytes;
}

/** An EFI zboot image laid out as drivers/firmware/efi/libstub/zboot-header.S does. */
function syntheticZboot(payload: Uint8Array, compression: string): Uint8Array {
  const payloadOffset = 512;
  const bytes = new Uint8Array(payloadOffset + payload.length + 4);
  zbootHeaderLayout.write(bytes, {
    mz_magic: 0x5a4d,
    image_type: 'zimg',
    payload_offset: payloadOffset,
    payload_size: payload.length,
    reserved: new Uint8Array(8),
    compression_type: compression,
    linux_pe_magic: 0x818223cd,
    pe_header_offset: 64,
  });
  bytes.set(payload, payloadOffset);
  return bytes;
}

async function zbootSeeds(): Promise<Seed[]> {
  const arm64 = readArtefactHead(4096, 'foreign-arch', 'arm64-vmlinuz') ?? new Uint8Array(4096);
  const fields = Object.values(zbootHeaderLayout.fields).flatMap((spec): LyingField[] => {
    const width = widthOf(spec.type);
    return width === undefined ? [] : [{ offset: spec.offset, width }];
  });
  return [
    { name: 'synthetic zboot around a gzip of the arm64 kernel head', bytes: syntheticZboot(gzipSync(arm64), 'gzip'), fields },
    { name: 'synthetic zboot, zstd named', bytes: syntheticZboot(arm64.subarray(0, 256), 'zstd'), fields },
  ];
}

/** Offsets of the PE header fields a liar would change: e_lfanew, counts, sizes, pointers. */
function peLyingFields(pe: PeImage): LyingField[] {
  const fileHeader = pe.peHeaderOffset + 4;
  const optionalHeader = fileHeader + IMAGE_FILE_HEADER.sizeBytes;
  const offsets = [
    0x3c,
    fileHeader + IMAGE_FILE_HEADER.fields.NumberOfSections.offset,
    fileHeader + IMAGE_FILE_HEADER.fields.PointerToSymbolTable.offset,
    fileHeader + IMAGE_FILE_HEADER.fields.NumberOfSymbols.offset,
    fileHeader + IMAGE_FILE_HEADER.fields.SizeOfOptionalHeader.offset,
    optionalHeader,
    optionalHeader + IMAGE_OPTIONAL_HEADER64.fields.SizeOfHeaders.offset,
    optionalHeader + IMAGE_OPTIONAL_HEADER64.fields.NumberOfRvaAndSizes.offset,
  ];
  if (pe.certificateTableEntryOffset !== undefined) offsets.push(pe.certificateTableEntryOffset, pe.certificateTableEntryOffset + 4);
  if (pe.certificateTable) offsets.push(pe.certificateTable.fileOffset + WIN_CERTIFICATE.fields.dwLength.offset, pe.certificateTable.fileOffset + 4);
  for (const section of pe.sections) {
    for (const field of ['VirtualSize', 'VirtualAddress', 'SizeOfRawData', 'PointerToRawData'] as const) offsets.push(section.headerOffset + IMAGE_SECTION_HEADER.fields[field].offset);
    offsets.push(section.headerOffset, section.headerOffset + 4);
  }
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

async function peSeeds(): Promise<Seed[]> {
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

/** The IKCFG_ST ... IKCFG_ED region of the built arm64 Image, with a little on either side. */
function ikconfigRegion(image: Uint8Array): Uint8Array | undefined {
  const bytes = Buffer.from(image.buffer, image.byteOffset, image.byteLength);
  const start = bytes.indexOf('IKCFG_ST');
  const end = bytes.indexOf('IKCFG_ED', start);
  if (start < 0 || end < 0) return undefined;
  return image.slice(Math.max(0, start - 256), end + 8 + 256);
}

async function ikconfigSeeds(): Promise<Seed[]> {
  const dir = arm64Dir();
  const config = readArtefactHead(16 << 10, 'debian-cloud-amd64', 'config');
  const synthetic = config ? Buffer.concat([Buffer.from('IKCFG_ST'), gzipSync(config), Buffer.from('IKCFG_ED')]) : undefined;
  return present([
    { name: 'built arm64 Image, its IKCONFIG region', bytes: await derivedSeed('ikconfig-arm64', () => mapped(dir ? readArtefact(...dir, 'Image') : undefined, ikconfigRegion)) },
    { name: 'the cloud kernel config gzip-ed between the markers', bytes: synthetic ? new Uint8Array(synthetic) : undefined },
  ]);
}

async function kernelConfigSeeds(): Promise<Seed[]> {
  const dir = arm64Dir();
  return present([
    { name: 'debian-cloud-amd64 config (first 32 KiB)', bytes: readArtefactHead(32 << 10, 'debian-cloud-amd64', 'config') },
    { name: 'debian amd64 generic config (first 32 KiB)', bytes: readArtefactHead(32 << 10, 'foreign-arch', 'amd64-generic-config') },
    { name: 'built arm64 kernel config (first 32 KiB)', bytes: dir ? readArtefactHead(32 << 10, ...dir, 'config') : undefined },
  ]);
}

function magicHead(prefix: Uint8Array | string, at = 0, length = 1024): Uint8Array {
  const bytes = new Uint8Array(length);
  bytes.set(typeof prefix === 'string' ? Buffer.from(prefix, 'latin1') : prefix, at);
  return bytes;
}

async function cpioSeeds(): Promise<Seed[]> {
  return present([
    { name: 'UKI fixture initrd.cpio (newc)', bytes: readArtefact('uki', 'initrd.cpio') },
    { name: 'newc-crc magic', bytes: magicHead('070702') },
    { name: 'squashfs magic', bytes: magicHead('hsqs') },
    { name: 'cramfs magic', bytes: magicHead(new Uint8Array([0x45, 0x3d, 0xcd, 0x28])) },
    { name: 'romfs magic', bytes: magicHead('-rom1fs-') },
    { name: 'ext2 superblock magic', bytes: magicHead(new Uint8Array([0x53, 0xef]), 1024 + 56, 2048) },
  ]);
}

async function inspectSeeds(): Promise<Seed[]> {
  return [...(await bzImageSeeds()), ...(await peSeeds()), ...(await arm64Seeds()), ...(await zbootSeeds()), ...(await elfSeeds()).slice(0, 1), { name: 'RISC-V 0.2', bytes: syntheticRiscvImage(2, true) }];
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

const PE_DICTIONARY = ['MZ', 'PE\0\0', '.linux\0\0', '.initrd\0', '.cmdline', '.osrel\0\0', '.uname\0\0', '.profile', '.sbat\0\0\0', '.dtb\0\0\0\0', '\x0b\x02', '\x30\x82', '\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02'];

export const IMAGE_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'bzimage',
    description: 'parseBzImage (x86 setup header, payload, kernel_info)',
    seeds: bzImageSeeds,
    dictionary: ['HdrS', 'LToP', '\x55\xaa', '\x1f\x8b\x08', '\x02\x21\x4c\x18'],
    run(bytes) {
      probeBzImage(bytes);
      parseBzImage(bytes);
    },
  },
  {
    name: 'elf',
    description: 'parseElf (ELF32/ELF64, either byte order, program headers)',
    seeds: elfSeeds,
    dictionary: ['\x7fELF'],
    run(bytes) {
      probeElf(bytes);
      parseElf(bytes);
    },
  },
  {
    name: 'arm64-image',
    description: 'parseArm64Image (arm64 Image header)',
    seeds: arm64Seeds,
    dictionary: ['ARM\x64', 'MZ', 'PE\0\0'],
    run(bytes) {
      probeArm64Image(bytes);
      parseArm64Image(bytes);
    },
  },
  {
    name: 'riscv-image',
    description: 'parseRiscvImage (RISC-V Image header, both magics)',
    seeds: async () => [
      { name: 'synthetic RISC-V Image 0.2', bytes: syntheticRiscvImage(2, true), fields: IMAGE_HEADER_FIELDS },
      { name: 'synthetic RISC-V Image 0.1', bytes: syntheticRiscvImage(1, false), fields: IMAGE_HEADER_FIELDS },
    ],
    dictionary: ['RISCV\0\0\0', 'RSC\x05'],
    run(bytes) {
      probeRiscvImage(bytes);
      parseRiscvImage(bytes);
    },
  },
  {
    name: 'zboot',
    description: 'parseZboot (EFI zboot header)',
    seeds: zbootSeeds,
    dictionary: ['MZ', 'zimg', 'gzip\0', 'zstd\0', 'lzma\0'],
    run(bytes) {
      probeZboot(bytes);
      parseZboot(bytes);
    },
  },
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
  {
    name: 'ikconfig',
    description: 'extractEmbeddedConfig (IKCFG_ST gzip IKCFG_ED in a kernel)',
    seeds: ikconfigSeeds,
    dictionary: ['IKCFG_ST', 'IKCFG_ED', '\x1f\x8b\x08'],
    run(bytes) {
      extractEmbeddedConfig(bytes);
    },
  },
  {
    name: 'kernel-config',
    description: 'parseKernelConfig (a .config text)',
    text: true,
    seeds: kernelConfigSeeds,
    dictionary: ['CONFIG_KEXEC_FILE=y', '# CONFIG_X is not set', 'CONFIG_A="', '=', '#'],
    run(bytes) {
      parseKernelConfig(latin1(bytes));
    },
  },
  {
    name: 'cpio',
    description: 'detectInitrdKind (cpio newc, filesystem images)',
    seeds: cpioSeeds,
    dictionary: ['070701', '070702', 'TRAILER!!!'],
    run(bytes) {
      detectInitrdKind(bytes);
    },
  },
  {
    name: 'inspect',
    description: 'inspect (the probe table, then the matching parser)',
    seeds: inspectSeeds,
    dictionary: [...PE_DICTIONARY, 'HdrS', 'zimg', 'ARM\x64', 'RSC\x05', '\x7fELF'],
    run(bytes) {
      inspect(bytes);
    },
  },
];
