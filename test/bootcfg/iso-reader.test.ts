// The ISO 9660 reader on real images: xorriso's (Rock Ridge, Joliet, El Torito with isolinux)
// and grub-mkrescue's (Rock Ridge, upper-case level 1 names, BIOS and UEFI boot images), both
// built from the debian-installer netboot tree. Files read from the images are compared with
// the tree they came from; each namespace's names are checked against what the tools record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ErrorCode, ParseError, ValidationError } from '../../src/errors.js';
import { isoBootFileReader } from '../../src/bootcfg/iso9660/boot-file-reader.js';
import { isSelfOrParent, parseDirectoryRecords, plainName } from '../../src/bootcfg/iso9660/directory.js';
import { extractIsoFile } from '../../src/bootcfg/iso9660/extract.js';
import { locateIsoFile, openIsoFile, withIsoFile, type IsoFileSource } from '../../src/bootcfg/iso9660/file-source.js';
import { openIso, type Iso, type IsoNameSpace } from '../../src/bootcfg/iso9660/iso.js';
import { readSuspEntries } from '../../src/bootcfg/iso9660/susp.js';
import { ISO_PROBE_BYTES, probeIso } from '../../src/bootcfg/iso9660/volume.js';
import { isoFixtures, meteredSource, NETBOOT_INITRD, NETBOOT_LINUX, patchedSource, readHead } from './iso-fixtures.js';

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function sha256OfChunks(chunks: Iterable<Uint8Array>): string {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}

function withImage<T>(file: string, names: IsoNameSpace | 'auto', use: (iso: Iso, source: IsoFileSource) => T): T {
  return withIsoFile(file, use, { names });
}

test('volume descriptors: identifiers, block size, the namespaces each tool records', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  withImage(fixtures.isolinuxIso, 'auto', (iso) => {
    assert.equal(iso.volume.volumeIdentifier, fixtures.manifest.volumeIds.isolinux);
    assert.equal(iso.volume.logicalBlockBytes, 2048);
    assert.equal(iso.volume.volumeSpaceBlocks * 2048, fixtures.manifest.isolinux.sizeBytes);
    // SOURCE_DATE_EPOCH=1686096000 in the recipe.
    assert.equal(iso.volume.createdAt, '2023-06-07T00:00:00.000Z');
    assert.deepEqual(iso.nameSpaces, ['rock-ridge', 'joliet', 'plain']);
    assert.equal(iso.nameSpace, 'rock-ridge');
  });
  withImage(fixtures.grubRescueIso, 'auto', (iso) => {
    assert.equal(iso.volume.volumeIdentifier, fixtures.manifest.volumeIds.grubRescue);
    assert.deepEqual(iso.nameSpaces, ['rock-ridge', 'plain'], 'grub-mkrescue records no Joliet tree');
    assert.throws(() => withImage(fixtures.grubRescueIso, 'joliet', () => undefined), (error: unknown) => error instanceof ParseError && error.code === ErrorCode.FORMAT_UNRECOGNIZED);
  });
});

test('probe: "CD001" at sector 16 of both images, not in the kernel or a short head', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  assert.equal(probeIso(readHead(fixtures.isolinuxIso, ISO_PROBE_BYTES)), true);
  assert.equal(probeIso(readHead(fixtures.grubRescueIso, ISO_PROBE_BYTES)), true);
  assert.equal(probeIso(readHead(path.join(fixtures.netbootRoot, NETBOOT_LINUX), ISO_PROBE_BYTES)), false);
  assert.equal(probeIso(readHead(fixtures.isolinuxIso, ISO_PROBE_BYTES - 1)), false);
});

test('the netboot kernel and initrd read from either image equal the netboot tree byte for byte', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  const hostLinux = fs.readFileSync(path.join(fixtures.netbootRoot, NETBOOT_LINUX));
  assert.equal(sha256(hostLinux), fixtures.manifest.netbootLinuxSha256);
  const cases: [string, IsoNameSpace][] = [
    [fixtures.isolinuxIso, 'rock-ridge'],
    [fixtures.isolinuxIso, 'joliet'],
    [fixtures.grubRescueIso, 'rock-ridge'],
  ];
  for (const [file, names] of cases) {
    withImage(file, names, (iso) => {
      const what = `${path.basename(file)} (${names})`;
      assert.equal(iso.stat(NETBOOT_LINUX)?.sizeBytes, hostLinux.length, what);
      assert.equal(sha256(iso.readFile(NETBOOT_LINUX, { maxBytes: hostLinux.length })), fixtures.manifest.netbootLinuxSha256, what);
      assert.equal(sha256OfChunks(iso.chunks(NETBOOT_INITRD, { maxBytes: 1 << 30 })), fixtures.manifest.netbootInitrdSha256, what);
    });
  }
});

test('chunks are bounded; extractIsoFile writes the file through a descriptor as a memfd would take it', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  const source = meteredSource(openIsoFile(fixtures.isolinuxIso));
  const iso = openIso(source);
  assert.ok(source.bytesRead < 64 * 1024, `opening read ${source.bytesRead} bytes`);
  const chunkBytes = 256 * 1024;
  let count = 0;
  for (const chunk of iso.chunks(NETBOOT_LINUX, { maxBytes: 1 << 30, chunkBytes })) {
    assert.ok(chunk.length > 0 && chunk.length <= chunkBytes);
    count++;
  }
  assert.equal(count, Math.ceil(iso.stat(NETBOOT_LINUX)!.sizeBytes / chunkBytes));
  assert.ok(source.largestRead <= chunkBytes, `largest read ${source.largestRead}`);

  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kexec-ts-iso-'));
  const target = path.join(scratch, 'linux');
  const fd = fs.openSync(target, 'w');
  try {
    const written = extractIsoFile(iso, NETBOOT_LINUX, (chunk) => fs.writeSync(fd, chunk), { maxBytes: 1 << 30 });
    assert.equal(written, fs.fstatSync(fd).size);
  } finally {
    fs.closeSync(fd);
  }
  assert.equal(sha256(fs.readFileSync(target)), fixtures.manifest.netbootLinuxSha256);
  fs.rmSync(scratch, { recursive: true, force: true });
});

test('refusals: missing, not a regular file, larger than maxBytes (before any byte of it is read)', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  const source = meteredSource(openIsoFile(fixtures.isolinuxIso));
  const iso = openIso(source);
  assert.throws(() => iso.readFile('/no/such/file', { maxBytes: 10 }), (error: unknown) => error instanceof ValidationError && error.code === ErrorCode.INPUT_NOT_FOUND);
  assert.throws(() => iso.readFile('/isolinux', { maxBytes: 10 }), (error: unknown) => error instanceof ValidationError && error.code === ErrorCode.INPUT_NOT_REGULAR_FILE);
  const size = iso.stat(NETBOOT_LINUX)!.sizeBytes;
  const before = source.bytesRead;
  assert.throws(() => iso.readFile(NETBOOT_LINUX, { maxBytes: size - 1 }), (error: unknown) => error instanceof ParseError && error.code === ErrorCode.FORMAT_LIMIT_EXCEEDED);
  assert.throws(() => [...iso.chunks(NETBOOT_LINUX, { maxBytes: 1024 })], (error: unknown) => error instanceof ParseError && error.code === ErrorCode.FORMAT_LIMIT_EXCEEDED);
  assert.equal(source.bytesRead, before, 'nothing of the refused file was read');
  assert.equal(iso.list('/no/such/dir'), undefined);
  assert.equal(iso.list('/isolinux.cfg'), undefined, 'a file is not a directory');
  assert.equal(iso.stat('/isolinux.cfg/x'), undefined);
});

test('Rock Ridge, Joliet and plain names of the same files, as each namespace records them', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  const { names } = fixtures.manifest;
  const longName = path.posix.basename(names.long);
  const listed = (names: IsoNameSpace): string[] => withImage(fixtures.isolinuxIso, names, (iso) => iso.list('/names')!.map((entry) => entry.name));
  // Rock Ridge: POSIX names, case and length as written; the symbolic link is one.
  assert.deepEqual(listed('rock-ridge'), ['MixedCase.Name', longName, 'absolute-link', 'deep']);
  // Joliet: UCS-2 names cut at 64 characters; libisofs leaves symbolic links out of the tree.
  assert.deepEqual(listed('joliet'), ['MixedCase.Name', longName.slice(0, 64), 'deep']);
  // Plain: xorriso's level-1 8.3 names, shown lower case without ";1"; the link is an empty file.
  assert.deepEqual(listed('plain'), ['mixedcas.nam', 'a-very-l', 'absolute', 'deep']);
  withImage(fixtures.isolinuxIso, 'plain', (iso) => {
    assert.equal(iso.lstat('/names/absolute')?.kind, 'file');
    assert.equal(iso.lstat('/names/absolute')?.sizeBytes, 0);
    // Plain names are matched without regard to case, as they are recorded upper case by most tools.
    assert.equal(iso.stat('/NAMES/MIXEDCAS.NAM')?.path, '/names/mixedcas.nam');
  });
  withImage(fixtures.isolinuxIso, 'rock-ridge', (iso) => {
    assert.equal(Buffer.from(iso.readFile(names.mixedCase, { maxBytes: 100 })).toString(), 'mixed case\n');
    assert.equal(Buffer.from(iso.readFile(names.long, { maxBytes: 100 })).toString(), 'long name\n');
    assert.equal(iso.stat('/names/mixedcase.name'), undefined, 'Rock Ridge names are case-sensitive');
  });
});

test('a Rock Ridge name too long for its record goes on in a SUSP continuation area (CE)', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  withImage(fixtures.isolinuxIso, 'rock-ridge', (iso, source) => {
    const dir = iso.stat('/names')!.extents[0]!;
    const records = parseDirectoryRecords(source.readAt(dir.offset, dir.sizeBytes), dir.offset).filter((record) => !isSelfOrParent(record.identifier));
    const long = records.find((record) => plainName(record.identifier) === 'a-very-l')!;
    const recordEnd = long.systemUseOffset + long.systemUse.length;
    const nameEntries = readSuspEntries(source, long.systemUse, long.systemUseOffset, 0, 2048).filter((entry) => entry.signature === 'NM');
    assert.ok(nameEntries.length >= 2, 'the name is recorded in pieces');
    assert.ok(nameEntries.some((entry) => entry.offset < long.offset || entry.offset >= recordEnd), 'one NM piece lies outside the record, in the continuation area');
    assert.equal(iso.list('/names')!.find((entry) => entry.name.startsWith('a-very'))!.name.length, path.posix.basename(fixtures.manifest.names.long).length);
  });
});

test('Rock Ridge symbolic links: absolute and relative targets, followed by stat, shown by lstat; `..` stops at the root', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  const { names } = fixtures.manifest;
  withImage(fixtures.isolinuxIso, 'rock-ridge', (iso) => {
    const link = iso.lstat(names.absoluteLink)!;
    assert.equal(link.kind, 'symlink');
    assert.equal(link.linkTarget, names.absoluteLinkTarget);
    const target = iso.stat(names.absoluteLink)!;
    assert.equal(target.kind, 'file');
    assert.equal(target.path, NETBOOT_LINUX);
    // The netboot tree's own relative links at its root, as the package ships them.
    assert.equal(iso.lstat('/pxelinux.cfg')?.linkTarget, 'debian-installer/amd64/pxelinux.cfg');
    // ... and pxelinux.cfg/default, itself a link to ../boot-screens/syslinux.cfg.
    assert.equal(iso.stat('/pxelinux.cfg/default')?.path, '/debian-installer/amd64/boot-screens/syslinux.cfg');
    assert.equal(iso.lstat('/pxelinux.cfg/default')?.path, '/debian-installer/amd64/pxelinux.cfg/default');
    assert.equal(iso.stat('/../../isolinux/../isolinux.cfg')?.path, '/isolinux.cfg');
  });
  withImage(fixtures.isolinuxIso, 'joliet', (iso) => assert.equal(iso.lstat('/pxelinux.cfg'), undefined));
});

test('deep directory relocation: Rock Ridge puts the moved directory back (CL) and hides /rr_moved (RE); plain names show the move', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  const { deepFile } = fixtures.manifest.names;
  withImage(fixtures.isolinuxIso, 'rock-ridge', (iso) => {
    assert.equal(Buffer.from(iso.readFile(deepFile, { maxBytes: 100 })).toString(), 'ten levels deep\n');
    assert.ok(!iso.list('/')!.some((entry) => entry.name === 'rr_moved'));
  });
  withImage(fixtures.isolinuxIso, 'plain', (iso) => {
    assert.ok(iso.list('/')!.some((entry) => entry.name === 'rr_moved'));
    assert.equal(iso.stat(deepFile), undefined);
    const moved = [...iso.walk('/rr_moved')].filter(({ entry }) => entry.kind === 'file').map(({ path }) => path);
    assert.deepEqual(moved, ['/rr_moved/6/7/8/file.txt']);
  });
});

test('the Rock Ridge tree of the isolinux image is the netboot tree: every name, kind, size and link', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  withImage(fixtures.isolinuxIso, 'rock-ridge', (iso) => {
    const inImage = new Map([...iso.walk('/debian-installer')].map(({ path, entry }) => [path, entry]));
    const onDisk: string[] = [];
    const visit = (relative: string): void => {
      for (const name of fs.readdirSync(path.join(fixtures.netbootRoot, relative)).sort()) {
        const child = `${relative}/${name}`;
        const stats: fs.Stats = fs.lstatSync(path.join(fixtures.netbootRoot, child));
        const entry = inImage.get(child);
        assert.ok(entry, `${child} is missing from the image`);
        onDisk.push(child);
        if (stats.isDirectory()) {
          assert.equal(entry.kind, 'directory', child);
          visit(child);
        } else if (stats.isSymbolicLink()) {
          assert.equal(entry.kind, 'symlink', child);
          assert.equal(entry.linkTarget, fs.readlinkSync(path.join(fixtures.netbootRoot, child)), child);
        } else {
          assert.equal(entry.kind, 'file', child);
          assert.equal(entry.sizeBytes, stats.size, child);
          assert.equal(entry.mode! & 0o777, stats.mode & 0o777, child);
        }
      }
    };
    visit('/debian-installer');
    assert.deepEqual(onDisk.sort(), [...inImage.keys()].sort());
  });
});

test('plain level-1 names of grub-mkrescue: upper case recorded, matched in any case; Rock Ridge is exact', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  withImage(fixtures.grubRescueIso, 'plain', (iso) => {
    assert.deepEqual(iso.list('/')!.map((entry) => entry.name), ['boot', 'boot.cat', 'debian_i', 'efi.img', 'mach_ker', 'system']);
    assert.equal(iso.stat('/BOOT/GRUB/GRUB.CFG')?.path, '/boot/grub/grub.cfg');
    assert.equal(iso.stat('/boot/grub/x86_64-efi'), undefined, 'a name past 8 characters is cut, "-" made "_"');
    assert.equal(iso.stat('/BOOT/GRUB/X86_64_E')?.kind, 'directory');
  });
  withImage(fixtures.grubRescueIso, 'rock-ridge', (iso) => {
    assert.equal(iso.stat('/BOOT/GRUB/GRUB.CFG'), undefined);
    assert.equal(Buffer.from(iso.readFile('/boot/grub/loopback.cfg', { maxBytes: 1 << 20 })).toString(), fixtures.manifest.loopbackCfg);
  });
});

test('El Torito: the catalog and boot images are where xorriso and grub-mkrescue put them', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  withImage(fixtures.isolinuxIso, 'auto', (iso) => {
    const catalog = iso.bootCatalog()!;
    assert.equal(catalog.catalogSector * 2048, iso.stat('/isolinux/boot.cat')!.extents[0]!.offset);
    assert.deepEqual(catalog.images, [
      { platform: 'x86', bootable: true, emulation: 'none', loadSegment: 0, systemType: 0, sectorCount: 4, loadSector: iso.stat('/isolinux/isolinux.bin')!.extents[0]!.offset / 2048 },
    ]);
  });
  withImage(fixtures.grubRescueIso, 'auto', (iso) => {
    const catalog = iso.bootCatalog()!;
    assert.deepEqual(catalog.images.map((image) => [image.platform, image.emulation, image.bootable]), [['x86', 'none', true], ['efi', 'none', true]]);
    assert.equal(catalog.images[0]!.loadSector * 2048, iso.stat('/boot/grub/i386-pc/eltorito.img')!.extents[0]!.offset);
    assert.equal(catalog.images[1]!.loadSector * 2048, iso.stat('/efi.img')!.extents[0]!.offset);
    // The UEFI entry's Sector Count covers the FAT image in 512-byte sectors.
    assert.equal(catalog.images[1]!.sectorCount * 512, iso.stat('/efi.img')!.sizeBytes);
  });
});

/** The /isolinux directory rewritten so isolinux.bin is two directory records (Multi-Extent), the second extent moved past the image's end. */
function splitIntoTwoExtents(source: IsoFileSource, iso: Iso, firstExtentBlocks: number) {
  const dir = iso.stat('/isolinux')!.extents[0]!;
  const bytes = Buffer.from(source.readAt(dir.offset, dir.sizeBytes));
  const records = parseDirectoryRecords(bytes, dir.offset);
  const index = records.findIndex((record) => plainName(record.identifier) === 'isolinux.bin');
  const original = records[index]!;
  const rawOf = (record: (typeof records)[number]): Buffer => Buffer.from(bytes.subarray(record.offset - dir.offset, record.offset - dir.offset + bytes[record.offset - dir.offset]!));
  const setBoth32 = (raw: Buffer, at: number, value: number): void => {
    raw.writeUInt32LE(value, at);
    raw.writeUInt32BE(value, at + 4);
  };
  const size = original.dataLength;
  const head = rawOf(original);
  setBoth32(head, 10, firstExtentBlocks * 2048);
  head[25] = head[25]! | 0x80;
  const tail = rawOf(original);
  const appendedBlock = source.sizeBytes / 2048;
  setBoth32(tail, 2, appendedBlock);
  setBoth32(tail, 10, size - firstExtentBlocks * 2048);
  const rebuilt = Buffer.concat([...records.slice(0, index).map(rawOf), head, tail, ...records.slice(index + 1).map(rawOf)]);
  assert.ok(rebuilt.length <= dir.sizeBytes);
  const directory = Buffer.alloc(dir.sizeBytes);
  rebuilt.copy(directory);
  const fileOffset = original.extentBlock * 2048;
  const moved = source.readAt(fileOffset + firstExtentBlocks * 2048, size - firstExtentBlocks * 2048);
  return { directory, directoryOffset: dir.offset, moved, head, tail, index, records: records.map(rawOf) };
}

test('a multi-extent file (a real directory rewritten so one file has two records) reads as one file', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  const source = openIsoFile(fixtures.isolinuxIso);
  try {
    const iso = openIso(source);
    const expected = iso.readFile('/isolinux/isolinux.bin', { maxBytes: 1 << 20 });
    const split = splitIntoTwoExtents(source, iso, 10);
    const patched = openIso(patchedSource(source, [{ offset: split.directoryOffset, bytes: split.directory }], split.moved));
    const info = patched.stat('/isolinux/isolinux.bin')!;
    assert.equal(info.extents.length, 2);
    assert.equal(info.sizeBytes, expected.length);
    assert.deepEqual(patched.list('/isolinux')!.map((entry) => entry.name), ['boot.cat', 'isolinux.bin', 'ldlinux.c32']);
    assert.equal(sha256(patched.readFile('/isolinux/isolinux.bin', { maxBytes: 1 << 20 })), sha256(expected));
    assert.equal(sha256OfChunks(patched.chunks('/isolinux/isolinux.bin', { maxBytes: 1 << 20, chunkBytes: 3000 })), sha256(expected));

    // The last record keeping the Multi-Extent flag: the directory ends inside the file.
    const unterminated = Buffer.concat([...split.records.slice(0, split.index), split.head]);
    const directory = Buffer.alloc(split.directory.length);
    unterminated.copy(directory);
    const broken = openIso(patchedSource(source, [{ offset: split.directoryOffset, bytes: directory }], split.moved));
    assert.throws(() => broken.list('/isolinux'), (error: unknown) => error instanceof ParseError && error.code === ErrorCode.FORMAT_INVALID);
  } finally {
    source.close();
  }
});

test('the boot-config reader over an image: text, sorted names, existence, links followed', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  withImage(fixtures.isolinuxIso, 'auto', (iso) => {
    const reader = isoBootFileReader(iso);
    assert.equal(reader.readText('/isolinux.cfg'), fs.readFileSync(path.join(fixtures.netbootRoot, 'debian-installer/amd64/boot-screens/syslinux.cfg'), 'utf8'));
    assert.equal(reader.readText('/pxelinux.cfg/default'), fs.readFileSync(path.join(fixtures.netbootRoot, 'pxelinux.cfg/default'), 'utf8'));
    assert.equal(reader.readText('/isolinux'), undefined, 'a directory has no text');
    assert.equal(reader.readText('/nothing'), undefined);
    assert.deepEqual(reader.list('/isolinux'), ['boot.cat', 'isolinux.bin', 'ldlinux.c32']);
    assert.deepEqual(reader.list('/nothing'), []);
    assert.equal(reader.exists!('/names/absolute-link'), true);
    assert.equal(reader.exists!('/names/nothing'), false);
  });
});

test('locateIsoFile: the path from the root of the file system holding the image (mountinfo root and mount point)', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  const real = fs.realpathSync(fixtures.isolinuxIso);
  const here = locateIsoFile(fixtures.isolinuxIso);
  assert.ok(real.startsWith(here.mountPoint) && here.isoPath.endsWith(`/${path.basename(real)}`), JSON.stringify(here));
  // A made-up mountinfo: the image's device mounted twice, the longer mount point wins, and a
  // bind mount's root (a directory of the file system) prefixes the path.
  const dev = BigInt(fs.statSync(real).dev);
  const major = Number((dev >> 8n) & 0xfffn) | Number((dev >> 32n) & ~0xfffn);
  const minor = Number(dev & 0xffn) | Number((dev >> 12n) & ~0xffn);
  const parent = path.dirname(path.dirname(real));
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'kexec-ts-mountinfo-'));
  const mountinfo = path.join(scratch, 'mountinfo');
  fs.writeFileSync(mountinfo, [
    `22 1 ${major}:${minor} / / rw,relatime shared:1 - ext4 /dev/vdz1 rw`,
    `40 22 ${major}:${minor} /srv/images ${parent.replace(/ /g, '\\040')} rw,relatime shared:2 - ext4 /dev/vdz1 rw`,
    `41 22 7:0 / ${parent}/iso rw - iso9660 /dev/loop0 ro`,
    '',
  ].join('\n'));
  const located = locateIsoFile(fixtures.isolinuxIso, mountinfo);
  assert.equal(located.mountPoint, parent);
  assert.equal(located.isoPath, path.posix.join('/srv/images', real.slice(parent.length)));
  fs.rmSync(scratch, { recursive: true, force: true });
});
