// Fuzz targets for the kernel image parsers (src/image/; PE and UKI are in pe.ts): one per
// entry point, each seeded with compact copies of the real kernels (headers kept whole, bulk
// data cut short so an input stays small), as test/image/*.test.ts call them.
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
import { parseRiscvImage, probeRiscvImage } from '../../src/image/riscv/parse.js';
import { parseZboot, probeZboot, zbootHeaderLayout } from '../../src/image/zboot/parse.js';
import { derivedSeed, readArtefact, readArtefactHead } from '../artefacts.js';
import type { LyingField, Seed } from '../mutate.js';
import { PE_DICTIONARY, peSeeds } from './pe.js';
import { latin1, present, type FuzzTarget } from './target.js';
import { syntheticRiscvImage, syntheticZboot } from '../../test/image/synthetic-images.js';

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



async function zbootSeeds(): Promise<Seed[]> {
  const arm64 = readArtefactHead(4096, 'foreign-arch', 'arm64-vmlinuz') ?? new Uint8Array(4096);
  const fields = Object.values(zbootHeaderLayout.fields).flatMap((spec): LyingField[] => {
    const width = widthOf(spec.type);
    return width === undefined ? [] : [{ offset: spec.offset, width }];
  });
  return [
    { name: 'synthetic zboot around a gzip of the arm64 kernel head', bytes: syntheticZboot(gzipSync(arm64), 'gzip', 512), fields },
    { name: 'synthetic zboot, zstd named', bytes: syntheticZboot(arm64.subarray(0, 256), 'zstd', 512), fields },
  ];
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
  return [...(await bzImageSeeds()), ...(await peSeeds()), ...(await arm64Seeds()), ...(await zbootSeeds()), ...(await elfSeeds()).slice(0, 1), { name: 'RISC-V 0.2', bytes: syntheticRiscvImage(2, true, 512) }];
}

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
      { name: 'synthetic RISC-V Image 0.2', bytes: syntheticRiscvImage(2, true, 512), fields: IMAGE_HEADER_FIELDS },
      { name: 'synthetic RISC-V Image 0.1', bytes: syntheticRiscvImage(1, false, 512), fields: IMAGE_HEADER_FIELDS },
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
