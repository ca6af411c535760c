// Fuzz targets for the boot configuration readers (src/bootcfg/): GRUB's lexer, parser and
// evaluator, BLS entries and loader.conf, syslinux, grubenv, and the ISO 9660 reader. The
// text seeds are the committed real configs (test/fixtures/bootcfg/, see PROVENANCE.md); the
// ISO seeds are the head of each cached image, as far as its directories reach.
import fs from 'node:fs';
import { parseBlsEntry } from '../../src/bootcfg/bls/entry.js';
import { parseLoaderConf } from '../../src/bootcfg/bls/loader-conf.js';
import { expandForGrubBlscfg } from '../../src/bootcfg/bls/grub-variables.js';
import { readBlsConfig } from '../../src/bootcfg/bls/read.js';
import { compareRpmVersions, sortForBlscfg } from '../../src/bootcfg/grub/rpm-version.js';
import { parseGrubenv } from '../../src/bootcfg/grub/grubenv.js';
import { lexGrubScript } from '../../src/bootcfg/grub/lex.js';
import { parseGrubScript } from '../../src/bootcfg/grub/parse.js';
import { parseGrubConfig } from '../../src/bootcfg/grub/read.js';
import { isoBootEntries } from '../../src/bootcfg/iso9660/boot-entries.js';
import { openIsoFile } from '../../src/bootcfg/iso9660/file-source.js';
import { openIso, type Iso, type IsoNameSpace } from '../../src/bootcfg/iso9660/iso.js';
import { isoSourceFromBytes, type IsoSource } from '../../src/bootcfg/iso9660/source.js';
import { parseSyslinuxConfig } from '../../src/bootcfg/syslinux/parse.js';
import { memoryBootFileReader } from '../../src/bootcfg/types.js';
import { cachePath, committedTree, derivedSeed, readRange } from '../artefacts.js';
import type { LyingField, Seed } from '../mutate.js';
import { eachStep, present, utf8, type FuzzTarget } from './target.js';

function textSeeds(tree: string, keep: (file: string) => boolean): Seed[] {
  return Object.entries(committedTree(tree))
    .filter(([file]) => keep(file))
    .map(([file, text]) => ({ name: `test/fixtures/bootcfg/${tree}${file}`, bytes: new Uint8Array(Buffer.from(text, 'utf8')) }));
}

function grubSeeds(): Seed[] {
  return [
    ...textSeeds('debian-grub-mkconfig', (file) => file.endsWith('.cfg')),
    ...textSeeds('debian-netboot', (file) => file.endsWith('grub.cfg')),
    ...textSeeds('grub-example', () => true),
  ];
}

const GRUB_DICTIONARY = [
  'if', 'then', 'else', 'elif', 'fi', 'while', 'until', 'do', 'done', 'for', 'in', 'function', 'menuentry', 'submenu', '{', '}', ';', '\n',
  "'", '"', '\\', '$', '${', '${a}', '$@', '$1', '[', ']', 'set a=$a$a', 'source /boot/grub/grub.cfg', 'configfile /boot/grub/grub.cfg',
  'load_env', 'save_env', 'blscfg', 'linux /vmlinuz', 'initrd /initrd.img', 'search --no-floppy --fs-uuid --set=root x', 'export a',
  'return', 'break', 'continue', 'exit', 'f', 'function f { f }', 'if [ "${a}" ]; then', 'insmod', 'default=', '\u0000', 'é',
];

/** The tree the evaluator's `source`, `configfile`, `load_env` and `blscfg` read from. */
const grubFiles = (): Record<string, string> => ({ ...committedTree('debian-grub-mkconfig'), ...committedTree('debian-kernel-install') });
let grubReaderFiles: Record<string, string> | undefined;

const SYSLINUX_DICTIONARY = ['LABEL a', 'KERNEL /k', 'LINUX /k', 'APPEND', 'INITRD /i', 'INCLUDE /pxelinux.cfg/default', 'MENU BEGIN m', 'MENU END', 'DEFAULT', 'CONFIG x', 'PATH', 'UI menu.c32', 'TEXT HELP', 'ENDTEXT', '\t', '\\', '\u0000'];
const BLS_DICTIONARY = ['title', 'version', 'linux', 'initrd', 'options', 'machine-id', 'sort-key', 'devicetree', 'efi', 'architecture', 'default', 'timeout', '@saved', '*', '\t', '#', '\u0000'];

let netbootFiles: Record<string, string> | undefined;
let rhelFiles: Record<string, string> | undefined;

/** The BLS entries of the real RHEL-family trees (test/fixtures/bootcfg-real/, see its PROVENANCE.md). */
function rhelTextSeeds(keep: (file: string) => boolean): Seed[] {
  return ['rhel8-bios', 'rocky8-uefi', 'rhel8-ami-uefi', 'rhel9-uefi', 'centos8-uefi'].flatMap((tree) =>
    Object.entries(committedTree(`../bootcfg-real/${tree}`))
      .filter(([file]) => keep(file))
      .map(([file, text]) => ({ name: `test/fixtures/bootcfg-real/${tree}${file}`, bytes: new Uint8Array(Buffer.from(text, 'utf8')) })),
  );
}
let blsFiles: Record<string, string> | undefined;

/** ISO 9660 fields a liar would change, in the volume descriptors (ECMA-119 8.4). */
function volumeDescriptorFields(): LyingField[] {
  const fields: LyingField[] = [];
  for (let sector = 16; sector < 20; sector++) {
    const base = sector * 2048;
    fields.push({ offset: base, width: 1 }, { offset: base + 80, width: 4 }, { offset: base + 88, width: 1 }, { offset: base + 128, width: 2 }, { offset: base + 0x47, width: 4 });
    const root = base + 156;
    fields.push({ offset: root, width: 1 }, { offset: root + 1, width: 1 }, { offset: root + 2, width: 4 }, { offset: root + 10, width: 4 }, { offset: root + 25, width: 1 }, { offset: root + 32, width: 1 });
    fields.push({ offset: base + 132, width: 4 }, { offset: base + 140, width: 4 }); // path table size, L-path table
  }
  return fields;
}

const ISO_HEAD_LIMIT = 256 << 10;

/**
 * The first bytes of a cached image, as far as every directory, the boot catalog and the small
 * files that start inside the head reach (capped at 256 KiB): what the reader walks, without
 * the kernel and initrd.
 */
function isoHead(file: string): Uint8Array | undefined {
  const path = cachePath('iso', file);
  if (!fs.existsSync(path)) return undefined;
  const source = openIsoFile(path);
  try {
    let end = 20 * 2048;
    for (const names of ['rock-ridge', 'joliet', 'plain'] as IsoNameSpace[]) {
      let iso: Iso;
      try {
        iso = openIso(source, { names });
      } catch {
        continue;
      }
      for (const { path: entryPath, entry } of iso.walk()) {
        const info = iso.lstat(entryPath);
        for (const extent of info?.extents ?? []) {
          const extentEnd = extent.offset + extent.sizeBytes;
          if (extentEnd <= ISO_HEAD_LIMIT && (entry.kind === 'directory' || extent.sizeBytes <= 16 << 10)) end = Math.max(end, extentEnd);
        }
      }
      const catalog = iso.bootCatalog();
      if (catalog !== undefined) end = Math.max(end, Math.min(ISO_HEAD_LIMIT, (catalog.catalogSector + 1) * 2048));
    }
    return readRange(path, 0, Math.ceil(end / 2048) * 2048);
  } finally {
    source.close();
  }
}

const NAME_SPACES: ('auto' | IsoNameSpace)[] = ['auto', 'rock-ridge', 'joliet', 'plain'];

/** Everything the ISO reader offers, as test/bootcfg/iso-fuzz.test.ts exercises it. */
function exerciseIso(source: IsoSource, names: 'auto' | IsoNameSpace): void {
  const iso = openIso(source, { names });
  const files: string[] = [];
  // Each part on its own: a refusal in one does not hide the others; the first is the outcome.
  eachStep(
    [
      () => {
        for (const { path, entry } of iso.walk()) if (entry.kind === 'file' && files.length < 16) files.push(path);
      },
      ...Array.from({ length: 16 }, (_, index) => () => {
        const path = files[index];
        const info = path === undefined ? undefined : iso.stat(path);
        if (info?.kind === 'file' && info.sizeBytes <= 64 * 1024) iso.readFile(info.path, { maxBytes: 64 * 1024 });
      }),
      () => iso.bootCatalog(),
      () => isoBootEntries(iso, { isoPath: '/isos/x.iso' }),
    ],
    'any',
  );
}

export const BOOTCFG_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'grub-lex',
    description: 'lexGrubScript',
    text: true,
    seeds: async () => grubSeeds(),
    dictionary: GRUB_DICTIONARY,
    run(bytes) {
      lexGrubScript(utf8(bytes));
    },
  },
  {
    name: 'grub-parse',
    description: 'parseGrubScript',
    text: true,
    seeds: async () => grubSeeds(),
    dictionary: GRUB_DICTIONARY,
    run(bytes) {
      parseGrubScript(utf8(bytes));
    },
  },
  {
    name: 'grub-evaluate',
    description: 'parseGrubConfig (lex, parse, run the script, build the menu) over the grub-mkconfig tree',
    text: true,
    quickInputs: 300,
    seeds: async () => grubSeeds(),
    dictionary: GRUB_DICTIONARY,
    run(bytes) {
      grubReaderFiles ??= grubFiles();
      parseGrubConfig(utf8(bytes), '/boot/grub/grub.cfg', { reader: memoryBootFileReader(grubReaderFiles) });
    },
  },
  {
    name: 'grubenv',
    description: 'parseGrubenv',
    text: true,
    seeds: async () => textSeeds('debian-grub-mkconfig', (file) => file.endsWith('grubenv')),
    dictionary: ['# GRUB Environment Block', 'saved_entry=', 'next_entry=', '=', '\\', '#'],
    run(bytes) {
      parseGrubenv(utf8(bytes), '/boot/grub/grubenv');
    },
  },
  {
    name: 'bls-entry',
    description: 'parseBlsEntry, then readBlsConfig with the entry among the kernel-install tree',
    text: true,
    seeds: async () => textSeeds('debian-kernel-install', (file) => file.endsWith('.conf')),
    dictionary: BLS_DICTIONARY,
    run(bytes) {
      const file = '/boot/loader/entries/fuzz-6.1.0-1-amd64+3-1.conf';
      const text = utf8(bytes);
      parseBlsEntry(text, file);
      blsFiles ??= committedTree('debian-kernel-install');
      readBlsConfig(memoryBootFileReader({ ...blsFiles, [file]: text }));
    },
  },
  {
    name: 'bls-for-grub',
    description: 'a BLS entry among a real RHEL 8 /boot: parseGrubConfig of its grub.cfg (blscfg), and readBlsConfig + expandForGrubBlscfg without it',
    text: true,
    quickInputs: 300,
    seeds: async () => rhelTextSeeds((file) => file.endsWith('.conf')),
    dictionary: [...BLS_DICTIONARY, '$kernelopts', '$tuned_params', '$tuned_initrd', '${kernelopts}', '$', 'grub_users', 'grub_arg', 'grub_class', '0-rescue', '~', '-'],
    run(bytes) {
      const file = '/boot/loader/entries/fuzz-4.18.0-1.el8.x86_64.conf';
      rhelFiles ??= committedTree('../bootcfg-real/rhel8-bios');
      const files: Record<string, string> = { ...rhelFiles, [file]: utf8(bytes) };
      const reader = memoryBootFileReader(files);
      eachStep([
        () => parseGrubConfig(files['/boot/grub2/grub.cfg'] ?? '', '/boot/grub2/grub.cfg', { reader }),
        () => expandForGrubBlscfg(readBlsConfig(reader), reader, { grubenvFiles: ['/boot/grub2/grubenv'], pathBases: ['/', '/boot'] }),
      ], 'any');
    },
  },
  {
    name: 'rpm-version-compare',
    description: 'compareRpmVersions on the two lines of the input, which must be antisymmetric; sortForBlscfg of both',
    text: true,
    seeds: async () => [
      { name: 'RHEL 8 kernel versions', bytes: new Uint8Array(Buffer.from('4.18.0-240.15.1.el8_3.x86_64\n4.18.0-240.1.1.el8_3.x86_64')) },
      { name: 'rescue against a kernel', bytes: new Uint8Array(Buffer.from('0-rescue-d8aff414dbe6429cbe36b52011441ef4\n5.14.0-570.132.1.el9_6.aarch64')) },
      { name: 'tilde pre-release', bytes: new Uint8Array(Buffer.from('6.8.0~rc3-1.fc40\n6.8.0-1.fc40')) },
    ],
    dictionary: ['~', '^', '+', '-', '.', '0', '00', '9', 'a', 'rc', 'el8_10', '\n'],
    run(bytes) {
      const [a = '', b = ''] = utf8(bytes).split('\n');
      if (Math.sign(compareRpmVersions(a, b)) !== -Math.sign(compareRpmVersions(b, a))) {
        throw new Error(`compareRpmVersions is not antisymmetric on ${JSON.stringify(a)} and ${JSON.stringify(b)}`);
      }
      sortForBlscfg([{ fileName: `${a}.conf`, version: b }, { fileName: `${b}.conf`, version: a }, { fileName: 'x.conf' }]);
    },
  },
  {
    name: 'bls-loader-conf',
    description: 'parseLoaderConf',
    text: true,
    seeds: async () => [
      { name: 'systemd-boot loader.conf (man loader.conf example)', bytes: new Uint8Array(Buffer.from('# Boot Loader Specification\ndefault @saved\ntimeout 4\nconsole-mode keep\neditor no\nauto-entries yes\nauto-firmware yes\nbeep no\nreboot-for-bitlocker no\n')) },
      { name: 'loader.conf with a glob default', bytes: new Uint8Array(Buffer.from('default 4b2c81e0f1d94f3a9a5e0c7d2f6b8a13-*\ntimeout menu-force\n')) },
    ],
    dictionary: BLS_DICTIONARY,
    run(bytes) {
      parseLoaderConf(utf8(bytes), '/boot/loader/loader.conf');
    },
  },
  {
    name: 'syslinux',
    description: 'parseSyslinuxConfig over the netboot tree (INCLUDE, MENU BEGIN, LABEL)',
    text: true,
    seeds: async () => textSeeds('debian-netboot', (file) => file.endsWith('.cfg') || file.endsWith('default')),
    dictionary: SYSLINUX_DICTIONARY,
    run(bytes) {
      netbootFiles ??= committedTree('debian-netboot');
      parseSyslinuxConfig(utf8(bytes), '/pxelinux.cfg/default', { reader: memoryBootFileReader(netbootFiles) });
    },
  },
  {
    name: 'iso9660',
    description: 'openIso in each namespace, walk, stat, readFile, bootCatalog, isoBootEntries over a memory source',
    maxBytes: 640 << 10,
    quickInputs: 300,
    seeds: async () => {
      const fields = volumeDescriptorFields();
      return present([
        { name: 'netboot-isolinux.iso head', bytes: await derivedSeed('iso-isolinux-head', () => isoHead('netboot-isolinux.iso')), fields },
        { name: 'netboot-grub-rescue.iso head', bytes: await derivedSeed('iso-grub-rescue-head', () => isoHead('netboot-grub-rescue.iso')), fields },
      ]);
    },
    dictionary: ['CD001', 'EL TORITO SPECIFICATION', 'SP\x07\x01\xbe\xef', 'RR', 'PX', 'NM', 'SL', 'CE', 'TF', 'CL', 'PL', 'RE', 'ST', 'ER', '%/E'],
    run(bytes) {
      // The namespace from the input, so each one is exercised without running all four each time.
      exerciseIso(isoSourceFromBytes(bytes), NAME_SPACES[bytes.length % NAME_SPACES.length]!);
    },
  },
];
