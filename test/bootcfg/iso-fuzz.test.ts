// Property tests on the two real images: a copy of each image's first MiB (volume descriptors,
// directories, continuation areas, boot catalog) with lying extents, lengths, flags and CE
// pointers, flipped bits and truncations, read through everything the reader offers (every
// namespace, a full walk, stat and small reads, the boot catalog, the boot entries). Only a
// result or a ParseError (ConfigError from the config parsers) may come out; no read may be
// larger than a directory may be, and no run may take long. Fixed seeds; KEXEC_TS_FUZZ_RUNS=N
// (and KEXEC_TS_FUZZ_SEED) for long runs. Then the lies that must end in one particular way: a
// CE loop, a directory inside itself, a link loop, lengths past the image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError, ErrorCode, ParseError } from '../../src/errors.js';
import { ISO9660_LIMITS } from '../../src/limits.js';
import { isoBootEntries } from '../../src/bootcfg/iso9660/boot-entries.js';
import { isSelfOrParent, parseDirectoryRecords } from '../../src/bootcfg/iso9660/directory.js';
import { openIsoFile, type IsoFileSource } from '../../src/bootcfg/iso9660/file-source.js';
import { openIso, type Iso, type IsoNameSpace } from '../../src/bootcfg/iso9660/iso.js';
import type { IsoSource } from '../../src/bootcfg/iso9660/source.js';
import { readSuspEntries } from '../../src/bootcfg/iso9660/susp.js';
import { isoFixtures, meteredSource, patchedSource } from './iso-fixtures.js';

const RUNS = Number(process.env.KEXEC_TS_FUZZ_RUNS) || 120;
const SEED = process.env.KEXEC_TS_FUZZ_SEED === undefined ? undefined : Number(process.env.KEXEC_TS_FUZZ_SEED);
const HEAD_BYTES = 1024 * 1024;
/** A single run of everything below takes ~50 ms; this is a hang, not a slow machine. */
const RUN_TIME_LIMIT_MS = 20_000;
const NAME_SPACES: ('auto' | IsoNameSpace)[] = ['auto', 'rock-ridge', 'joliet', 'plain'];

interface Field {
  offset: number;
  width: 1 | 2 | 4;
}

/** Offsets of the fields a liar would change, found by reading the pristine image. */
function lyingFields(source: IsoFileSource): Field[] {
  const fields: Field[] = [];
  const add = (offset: number, width: Field['width']): void => {
    if (offset + width <= HEAD_BYTES) fields.push({ offset, width });
  };
  const record = (at: number): void => {
    add(at, 1); // Length of Directory Record
    add(at + 1, 1); // Extended Attribute Record Length
    add(at + 2, 4); // Location of Extent
    add(at + 10, 4); // Data Length
    add(at + 25, 1); // File Flags
    add(at + 26, 1); // File Unit Size
    add(at + 32, 1); // Length of File Identifier
  };
  for (let sector = 16; sector < 20; sector++) {
    const base = sector * 2048;
    add(base, 1); // Volume Descriptor Type
    add(base + 80, 4); // Volume Space Size
    add(base + 88, 1); // Escape Sequences (Joliet level)
    add(base + 128, 2); // Logical Block Size
    add(base + 0x47, 4); // El Torito catalog pointer, in a boot record
    record(base + 156);
  }
  for (const names of ['rock-ridge', 'joliet', 'plain'] as IsoNameSpace[]) {
    let iso: Iso;
    try {
      iso = openIso(source, { names });
    } catch {
      continue;
    }
    const dirs = ['/', ...[...iso.walk()].filter(({ entry }) => entry.kind === 'directory').map(({ path }) => path)];
    for (const dir of dirs) {
      const extent = iso.lstat(dir)!.extents[0]!;
      for (const raw of parseDirectoryRecords(source.readAt(extent.offset, extent.sizeBytes), extent.offset)) {
        record(raw.offset);
        if (names !== 'rock-ridge') continue;
        for (const entry of readSuspEntries(source, raw.systemUse, raw.systemUseOffset, 0, 2048)) {
          add(entry.offset + 2, 1); // Length
          if (entry.signature === 'NM' || entry.signature === 'SL' || entry.signature === 'TF') add(entry.offset + 4, 1);
          if (entry.signature === 'PX' || entry.signature === 'CL') add(entry.offset + 4, 4);
          if (entry.signature === 'SL') for (let at = 5; at + 1 < entry.bytes.length; at += 2 + (entry.bytes[at + 1] ?? 0)) add(entry.offset + at + 1, 1);
        }
        // CE entries are not in the list readSuspEntries returns: find them in the field itself.
        const ce = Buffer.from(raw.systemUse).indexOf('CE');
        if (ce >= 0) {
          add(raw.systemUseOffset + ce + 4, 4);
          add(raw.systemUseOffset + ce + 12, 4);
          add(raw.systemUseOffset + ce + 20, 4);
        }
      }
    }
    const catalog = iso.bootCatalog();
    if (catalog !== undefined) for (let at = 0; at < 96; at++) add(catalog.catalogSector * 2048 + at, 1);
  }
  return fields;
}

type Mutation = { kind: 'lie'; field: Field; value: number } | { kind: 'flip'; offset: number; bit: number };

function mutations(fields: Field[], imageBytes: number) {
  const blocks = Math.floor(imageBytes / 2048);
  const lie = fc.record({
    kind: fc.constant('lie' as const),
    field: fc.constantFrom(...fields),
    value: fc.oneof(
      fc.constantFrom(0, 1, 2, 3, 4, 5, 7, 16, 17, 18, 19, 20, 28, 33, 34, 36, 44, 128, 255, 256, 512, 1024, 2048, 4096, 0xffff, 0x7fffffff, 0xffffffff, blocks - 1, blocks, blocks + 1, imageBytes, ISO9660_LIMITS.directoryBytes + 1),
      fc.nat({ max: 0xffffffff }),
    ),
  });
  const flip = fc.record({ kind: fc.constant('flip' as const), offset: fc.integer({ min: 16 * 2048, max: HEAD_BYTES - 1 }), bit: fc.nat({ max: 7 }) });
  return fc.record({
    changes: fc.array(fc.oneof(lie, lie, flip), { minLength: 1, maxLength: 8 }),
    truncateTo: fc.option(fc.nat({ max: imageBytes }), { freq: 6 }),
  });
}

function apply(head: Buffer, changes: Mutation[]): Buffer {
  const copy = Buffer.from(head);
  for (const change of changes) {
    if (change.kind === 'flip') copy[change.offset]! ^= 1 << change.bit;
    else if (change.field.width === 1) copy[change.field.offset] = change.value & 0xff;
    else if (change.field.width === 2) copy.writeUInt16LE(change.value & 0xffff, change.field.offset);
    else copy.writeUInt32LE(change.value >>> 0, change.field.offset);
  }
  return copy;
}

function truncated(inner: IsoSource, sizeBytes: number): IsoSource {
  return { sizeBytes, readAt: (offset, length) => inner.readAt(offset, Math.max(0, Math.min(length, sizeBytes - offset))) };
}

function typedOnly(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (error instanceof ParseError || error instanceof ConfigError) return;
    throw error;
  }
}

/** Everything the reader offers, each part on its own: a failure in one does not hide the others. */
function exercise(source: IsoSource): void {
  for (const names of NAME_SPACES) {
    let iso: Iso | undefined;
    typedOnly(() => {
      iso = openIso(source, { names });
    });
    if (iso === undefined) continue;
    const opened = iso;
    const files: string[] = [];
    typedOnly(() => {
      for (const { path, entry } of opened.walk()) if (entry.kind === 'file' && files.length < 16) files.push(path);
    });
    for (const path of files) {
      typedOnly(() => {
        const info = opened.stat(path);
        if (info?.kind === 'file' && info.sizeBytes <= 64 * 1024) opened.readFile(info.path, { maxBytes: 64 * 1024 });
      });
    }
    typedOnly(() => opened.bootCatalog());
    typedOnly(() => isoBootEntries(opened, { isoPath: '/isos/x.iso' }));
  }
}

for (const image of ['isolinuxIso', 'grubRescueIso'] as const) {
  test(`property: the ${image === 'isolinuxIso' ? 'isolinux' : 'grub-mkrescue'} image with lying metadata gives results or ParseErrors, with bounded reads and time`, { timeout: 30 * 60_000 }, (t) => {
    const fixtures = isoFixtures(t);
    if (!fixtures) return;
    const file = openIsoFile(fixtures[image]);
    try {
      const fields = lyingFields(file);
      assert.ok(fields.length > 200, `${fields.length} fields to lie in`);
      const head = Buffer.from(file.readAt(0, HEAD_BYTES));
      let slowest = 0;
      fc.assert(
        fc.property(mutations(fields, file.sizeBytes), ({ changes, truncateTo }) => {
          const patched = patchedSource(file, [{ offset: 0, bytes: apply(head, changes) }]);
          const metered = meteredSource(truncateTo === null ? patched : truncated(patched, truncateTo));
          const started = Date.now();
          exercise(metered);
          const took = Date.now() - started;
          slowest = Math.max(slowest, took);
          assert.ok(took < RUN_TIME_LIMIT_MS, `a run took ${took} ms`);
          assert.ok(metered.largestRead <= ISO9660_LIMITS.directoryBytes, `a read of ${metered.largestRead} bytes`);
        }),
        { seed: SEED ?? (image === 'isolinuxIso' ? 9660 : 1282), numRuns: RUNS },
      );
      t.diagnostic(`${fields.length} lying fields; slowest run ${slowest} ms`);
    } finally {
      file.close();
    }
  });
}

/** The pristine image with `bytes` written at `offset`. */
function withPatch(file: IsoFileSource, ...patches: { offset: number; bytes: Uint8Array }[]): IsoSource {
  return patchedSource(file, patches);
}

function u32(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value >>> 0);
  return bytes;
}

function rawRecord(file: IsoFileSource, iso: Iso, dir: string, name: (identifier: Uint8Array) => boolean) {
  const extent = iso.lstat(dir)!.extents[0]!;
  return parseDirectoryRecords(file.readAt(extent.offset, extent.sizeBytes), extent.offset).find((record) => name(record.identifier))!;
}

function isError(code: string) {
  return (error: unknown) => error instanceof ParseError && error.code === code;
}

test('lies that must end one way: a CE loop, a huge or truncated directory, a directory inside itself, a link loop', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  const file = openIsoFile(fixtures.isolinuxIso);
  try {
    const iso = openIso(file);
    const rootSelf = rawRecord(file, iso, '/', (identifier) => identifier.length === 1 && identifier[0] === 0);
    const ce = Buffer.from(rootSelf.systemUse).indexOf('CE');
    assert.ok(ce >= 0, "the root's own record continues in a CE area (its ER entry)");

    // A CE pointing back at the System Use field holding it: followed 32 times, then refused.
    const loop = withPatch(file,
      { offset: rootSelf.systemUseOffset + ce + 4, bytes: u32(Math.floor(rootSelf.systemUseOffset / 2048)) },
      { offset: rootSelf.systemUseOffset + ce + 12, bytes: u32(rootSelf.systemUseOffset % 2048) },
      { offset: rootSelf.systemUseOffset + ce + 20, bytes: u32(rootSelf.systemUse.length) });
    assert.throws(() => openIso(loop), isError(ErrorCode.FORMAT_LIMIT_EXCEEDED));

    // /names claiming 4 GiB: refused before it is read; claiming past the image: truncated, not allocated.
    const names = rawRecord(file, iso, '/', (identifier) => Buffer.from(identifier).toString('latin1') === 'names');
    const huge = meteredSource(withPatch(file, { offset: names.offset + 10, bytes: u32(0xffffffff) }));
    assert.throws(() => openIso(huge).list('/names'), isError(ErrorCode.FORMAT_LIMIT_EXCEEDED));
    assert.ok(huge.largestRead <= 2048);
    const pastEnd = meteredSource(withPatch(file, { offset: names.offset + 2, bytes: u32(file.sizeBytes / 2048 - 1) }, { offset: names.offset + 10, bytes: u32(2 * 1024 * 1024) }));
    assert.throws(() => openIso(pastEnd).list('/names'), isError(ErrorCode.FORMAT_TRUNCATED));
    assert.ok(pastEnd.largestRead <= 2048);

    // /names pointing at the root directory: it lists the root, a walk ends, paths through it resolve.
    const rootBlock = rootSelf.extentBlock;
    const inside = openIso(withPatch(file, { offset: names.offset + 2, bytes: u32(rootBlock) }, { offset: names.offset + 10, bytes: u32(rootSelf.dataLength) }));
    assert.deepEqual(inside.list('/names')!.map((entry) => entry.name), iso.list('/')!.map((entry) => entry.name));
    const walked = [...inside.walk()];
    assert.ok(walked.length < 400, `${walked.length} entries`);
    assert.equal(inside.stat('/names/names/names/isolinux.cfg')?.kind, 'file');

    // pxelinux.cfg's target components 1 and 2 made CURRENT ("."): the link now names itself.
    const link = rawRecord(file, iso, '/', (identifier) => Buffer.from(identifier).toString('latin1').startsWith('pxelinux.cfg'));
    const sl = Buffer.from(link.systemUse).indexOf('SL');
    const firstComponent = link.systemUseOffset + sl + 5;
    const firstLength = link.systemUse[sl + 6]!;
    const selfLink = openIso(withPatch(file, { offset: firstComponent, bytes: Buffer.from([0x02]) }, { offset: firstComponent + 2 + firstLength, bytes: Buffer.from([0x02]) }));
    assert.equal(selfLink.lstat('/pxelinux.cfg')?.linkTarget, '././pxelinux.cfg');
    assert.equal(selfLink.stat('/pxelinux.cfg/default'), undefined, 'a link loop is "not found" after the hop limit');

    // A block size that is not 512, 1024 or 2048; no "CD001" at all.
    assert.throws(() => openIso(withPatch(file, { offset: 16 * 2048 + 128, bytes: Buffer.from([0x00, 0x10]) })), isError(ErrorCode.FORMAT_INVALID));
    assert.throws(() => openIso(withPatch(file, { offset: 16 * 2048 + 1, bytes: Buffer.from('CD002') })), isError(ErrorCode.FORMAT_UNRECOGNIZED));

    // A broken catalog checksum spoils only the catalog, read when asked for.
    const catalogAt = iso.bootCatalog()!.catalogSector * 2048;
    const badCatalog = openIso(withPatch(file, { offset: catalogAt + 0x1c, bytes: Buffer.from([0x12, 0x34]) }));
    assert.throws(() => badCatalog.bootCatalog(), isError(ErrorCode.FORMAT_INVALID));
    assert.equal(badCatalog.stat('/isolinux.cfg')?.kind, 'file');
  } finally {
    file.close();
  }
});
