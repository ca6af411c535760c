import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { KexecError } from '../../src/errors.js';
import { extractDmesg } from '../../src/crash/dmesg/index.js';
import { DumpExistsError } from '../../src/crash/dump/errors.js';
import { reassembleFlattened } from '../../src/crash/dump/reassemble.js';
import { saveDump, type SaveResult } from '../../src/crash/dump/save.js';
import type { SaveProgress } from '../../src/crash/dump/progress.js';
import { openVmcore } from '../../src/crash/vmcore/open.js';
import type { Vmcore } from '../../src/crash/vmcore/vmcore.js';
import { findOnPath } from '../vm/harness.js';
import { fuzzSettings } from '../image/image-fixtures.js';
import { judge, makedumpfileDmesg, runJudge, scratchDir, splitLines, vmcoreFixture, type VmcoreFixture } from './vmcore-fixtures.js';

/** Our dumps of the real vmcore at level 31, written once for the tests below. */
interface Dumps {
  dir: string;
  fixture: VmcoreFixture;
  files: Record<'zlib' | 'lzo' | 'snappy' | 'zstd' | 'none' | 'elf' | 'flat' | 'elfFlat', string>;
  results: Record<string, SaveResult>;
}
let dumps: Promise<Dumps | undefined> | undefined;
/** Shared by the tests of this file, removed when they are all done. */
const sharedDir = mkdtempSync(join(os.tmpdir(), 'kexec-ts-dumps-'));
after(() => rmSync(sharedDir, { recursive: true, force: true }));

function ourDumps(t: import('node:test').TestContext): Promise<Dumps | undefined> {
  const fixture = vmcoreFixture(t);
  if (!fixture) return Promise.resolve(undefined);
  dumps ??= (async () => {
    const dir = sharedDir;
    const files = {
      zlib: join(dir, 'dump.zlib'),
      lzo: join(dir, 'dump.lzo'),
      snappy: join(dir, 'dump.snappy'),
      zstd: join(dir, 'dump.zstd'),
      none: join(dir, 'dump.none'),
      elf: join(dir, 'dump.elf'),
      flat: join(dir, 'dump.flat'),
      elfFlat: join(dir, 'dump.elf.flat'),
    };
    const results: Record<string, SaveResult> = {};
    const vmcore = await openVmcore(fixture.path);
    try {
      for (const compress of ['zlib', 'lzo', 'snappy', 'zstd', 'none'] as const) results[compress] = await saveDump(vmcore, { out: files[compress], compress, dumpLevel: 31 });
      results.elf = await saveDump(vmcore, { out: files.elf, format: 'elf', dumpLevel: 31 });
      results.flat = await saveDump(vmcore, { out: files.flat, format: 'flat', compress: 'lzo', dumpLevel: 31 });
      results.elfFlat = await saveDump(vmcore, { out: files.elfFlat, format: 'elf', flatten: true, dumpLevel: 31 });
    } finally {
      await vmcore.close();
    }
    return { dir, fixture, files, results };
  })();
  return dumps;
}

test('makedumpfile --dump-dmesg reads our zlib, lzo and ELF dumps: the same lines as ours, the marker among them', async (t) => {
  const makedumpfile = judge(t, 'makedumpfile');
  const dumpSet = await ourDumps(t);
  if (!makedumpfile || !dumpSet) return;
  const expected = await extractDmesg(dumpSet.fixture.path);
  for (const name of ['zlib', 'lzo', 'elf'] as const) {
    const theirs = makedumpfileDmesg(makedumpfile, dumpSet.files[name]);
    assert.ok(theirs.some((line) => line.endsWith(`] ${dumpSet.fixture.manifest.marker}`)), `${name}: the marker`);
    assert.deepEqual(await extractDmesg(dumpSet.files[name]), theirs, `${name}: ours vs makedumpfile's reading of our dump`);
    assert.deepEqual(theirs, expected, `${name}: the same log as the vmcore's`);
  }
});

test("vmcore-dmesg reads our ELF dump: the same lines as ours in its style", async (t) => {
  const vmcoreDmesg = judge(t, 'vmcore-dmesg');
  const dumpSet = await ourDumps(t);
  if (!vmcoreDmesg || !dumpSet) return;
  const run = runJudge(vmcoreDmesg, [dumpSet.files.elf]);
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(splitLines(run.stdout), await extractDmesg(dumpSet.files.elf, { style: 'vmcore-dmesg' }));
  assert.ok(run.stdout.includes(dumpSet.fixture.manifest.marker));
});

test('crash --osrelease accepts every format we write (zstd and snappy included, flattened too)', async (t) => {
  const crash = judge(t, 'crash');
  const dumpSet = await ourDumps(t);
  if (!crash || !dumpSet) return;
  const release = dumpSet.fixture.manifest.kernelPackage.replace(/^linux-image-/, '');
  for (const [name, file] of Object.entries(dumpSet.files)) {
    const run = runJudge(crash, ['--osrelease', file]);
    assert.equal(run.status, 0, `${name}: ${run.stderr}`);
    assert.equal(run.stdout.trim(), release, name);
  }
});

async function eachStoredPage(dump: Vmcore, vmcore: Vmcore, onMismatch: (pfn: number) => void): Promise<number> {
  let pages = 0;
  for (let pfn = 0; pfn < dump.maxPfn; pfn++) {
    if (!dump.hasPage(pfn)) continue;
    const ours = await dump.readPhysical(pfn * 4096, 4096);
    const original = await vmcore.readPhysical(pfn * 4096, 4096);
    if (Buffer.compare(ours, original) !== 0) onMismatch(pfn);
    pages++;
  }
  return pages;
}

test('every page of every dump reads back equal to the vmcore', async (t) => {
  const dumpSet = await ourDumps(t);
  if (!dumpSet) return;
  const vmcore = await openVmcore(dumpSet.fixture.path);
  try {
    for (const name of ['zlib', 'lzo', 'snappy', 'zstd', 'flat', 'elf'] as const) {
      const dump = await openVmcore(dumpSet.files[name]);
      try {
        const mismatches: number[] = [];
        const pages = await eachStoredPage(dump, vmcore, (pfn) => mismatches.push(pfn));
        assert.deepEqual(mismatches.slice(0, 5), [], `${name}: pages that differ`);
        assert.ok(pages > 10_000, `${name}: ${pages} pages`);
      } finally {
        await dump.close();
      }
    }
  } finally {
    await vmcore.close();
  }
});

/** The compressed frames of the first `count` compressed pages of a kdump file, with their pfns. */
async function compressedFrames(path: string, count: number): Promise<{ pfn: number; frame: Buffer }[]> {
  const dump = await openVmcore(path);
  const header = dump.kdump!;
  const fd = openSync(path, 'r');
  try {
    const frames: { pfn: number; frame: Buffer }[] = [];
    let index = 0;
    for (let pfn = 0; pfn < header.max_mapnr && frames.length < count; pfn++) {
      if (!dump.hasPage(pfn)) continue;
      const desc = Buffer.alloc(24);
      readSync(fd, desc, 0, 24, header.pageDescOffset + index * 24);
      index++;
      if (desc.readUInt32LE(12) === 0) continue;
      const frame = Buffer.alloc(desc.readUInt32LE(8));
      readSync(fd, frame, 0, frame.length, Number(desc.readBigUInt64LE(0)));
      frames.push({ pfn, frame });
    }
    return frames;
  } finally {
    closeSync(fd);
    await dump.close();
  }
}

test("our zstd pages decode with the reference zstd tool, and snappy pages with Google's libsnappy (python3-snappy)", async (t) => {
  const dumpSet = await ourDumps(t);
  if (!dumpSet) return;
  const vmcore = await openVmcore(dumpSet.fixture.path);
  try {
    const zstd = findOnPath('zstd');
    if (!zstd) t.diagnostic('zstd (Debian package zstd) missing: the zstd check is skipped');
    else {
      const frames = await compressedFrames(dumpSet.files.zstd, 200);
      // Frames one after another are one valid zstd stream: the pages, concatenated.
      const input = join(dumpSet.dir, 'frames.zst');
      writeFileSync(input, Buffer.concat(frames.map((entry) => entry.frame)));
      const run = spawnSync(zstd, ['-d', '-c', input], { maxBuffer: 64 * 1024 * 1024 });
      assert.equal(run.status, 0, String(run.stderr));
      const expected = Buffer.concat(await Promise.all(frames.map((entry) => vmcore.readPhysical(entry.pfn * 4096, 4096))));
      assert.ok(run.stdout.equals(expected), 'zstd -d of our frames gives the vmcore pages');
    }
    // Debian's python3, where python3-snappy installs (another python3 may come first on PATH).
    const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : findOnPath('python3');
    const hasSnappy = python && spawnSync(python, ['-c', 'import snappy']).status === 0;
    if (!hasSnappy) {
      if (process.env.CI === 'true') assert.fail('python3-snappy is missing (prepare-tests installs it)');
      t.diagnostic('python3-snappy missing: the snappy check is skipped');
      return;
    }
    const frames = await compressedFrames(dumpSet.files.snappy, 200);
    const input = join(dumpSet.dir, 'frames.snappy');
    writeFileSync(input, Buffer.concat(frames.flatMap((entry) => [Buffer.from(Uint32Array.of(entry.frame.length).buffer), entry.frame])));
    const script = 'import sys, snappy, struct\ndata = open(sys.argv[1], "rb").read()\nout = sys.stdout.buffer\ni = 0\nwhile i < len(data):\n    (n,) = struct.unpack_from("<I", data, i)\n    out.write(snappy.uncompress(data[i + 4:i + 4 + n]))\n    i += 4 + n\n';
    const run = spawnSync(python!, ['-c', script, input], { maxBuffer: 64 * 1024 * 1024 });
    assert.equal(run.status, 0, String(run.stderr));
    const expected = Buffer.concat(await Promise.all(frames.map((entry) => vmcore.readPhysical(entry.pfn * 4096, 4096))));
    assert.ok(run.stdout.equals(expected), 'libsnappy decodes our pages to the vmcore pages');
  } finally {
    await vmcore.close();
  }
});

test('flattened: makedumpfile -R and our reassembly both give back the plain dump byte for byte, and ours reassembles makedumpfile -F output', async (t) => {
  const makedumpfile = judge(t, 'makedumpfile');
  const dumpSet = await ourDumps(t);
  if (!makedumpfile || !dumpSet) return;
  const { dir, files, fixture } = dumpSet;
  const theirRebuild = join(dir, 'rebuilt-by-makedumpfile');
  const run = runJudge('/bin/sh', ['-c', `'${makedumpfile}' -R '${theirRebuild}' < '${files.flat}'`]);
  assert.equal(run.status, 0, run.stderr);
  assert.ok(readFileSync(theirRebuild).equals(readFileSync(files.lzo)), 'makedumpfile -R of our flattened lzo dump = our plain lzo dump');
  const ourRebuild = join(dir, 'rebuilt-by-us');
  const result = await reassembleFlattened(files.flat, ourRebuild);
  assert.equal(result.sizeBytes, statSync(files.lzo).size);
  assert.ok(readFileSync(ourRebuild).equals(readFileSync(files.lzo)));
  const elfRebuild = join(dir, 'rebuilt-elf');
  await reassembleFlattened(files.elfFlat, elfRebuild);
  assert.ok(readFileSync(elfRebuild).equals(readFileSync(files.elf)), 'a flattened ELF dump reassembles to the ELF dump');
  // And the other way round: makedumpfile's own flattened output.
  const theirFlat = join(dir, 'theirs.flat');
  assert.equal(runJudge('/bin/sh', ['-c', `'${makedumpfile}' -F -c -d 31 '${fixture.path}' > '${theirFlat}'`]).status, 0);
  const theirPlain = join(dir, 'theirs.plain');
  assert.equal(runJudge(makedumpfile, ['-c', '-d', '31', fixture.path, theirPlain]).status, 0);
  await reassembleFlattened(theirFlat, join(dir, 'theirs.rebuilt'));
  assert.ok(readFileSync(join(dir, 'theirs.rebuilt')).equals(readFileSync(theirPlain)));
});

test('ELF dump: PT_LOADs split where pages are left out, kept pages equal the vmcore, left-out pages read as zeros', async (t) => {
  const dumpSet = await ourDumps(t);
  if (!dumpSet) return;
  const elf = await openVmcore(dumpSet.files.elf);
  const vmcore = await openVmcore(dumpSet.fixture.path);
  try {
    const loads = elf.loads!;
    assert.equal(loads.length, dumpSet.results.elf!.elfSegments);
    assert.ok(loads.length > vmcore.loads!.length, 'split into more segments than the vmcore has');
    assert.ok(loads.some((load) => load.p_filesz < load.p_memsz), 'some segment ends in left-out pages');
    // The memory map is whole: the same ranges as the vmcore's.
    assert.deepEqual(elf.memoryRanges, vmcore.memoryRanges);
    // Data sits back to back after the notes.
    const withData = loads.filter((load) => load.p_filesz > 0);
    withData.forEach((load, index) => {
      if (index > 0) assert.equal(load.p_offset, withData[index - 1]!.p_offset + withData[index - 1]!.p_filesz);
    });
    assert.equal(withData[withData.length - 1]!.p_offset + withData[withData.length - 1]!.p_filesz, statSync(dumpSet.files.elf).size);
    const leftOut = loads.find((load) => load.p_filesz < load.p_memsz)!;
    const hole = leftOut.p_paddr + leftOut.p_filesz;
    assert.equal(elf.hasPage(hole / 4096), false);
    assert.deepEqual(await elf.readPhysical(hole, 4096), new Uint8Array(4096));
  } finally {
    await Promise.all([elf.close(), vmcore.close()]);
  }
});

test('ELF dump with a cap on segments: short runs of left-out pages stay in the data, and the dump still reads', async (t) => {
  const fixture = vmcoreFixture(t, 'vmcore-small');
  const vmcoreDmesg = judge(t, 'vmcore-dmesg');
  if (!fixture || !vmcoreDmesg) return;
  const dir = scratchDir(t);
  const vmcore = await openVmcore(fixture.path);
  try {
    const free = await saveDump(vmcore, { out: join(dir, 'free.elf'), format: 'elf', dumpLevel: 31 });
    const capped = await saveDump(vmcore, { out: join(dir, 'capped.elf'), format: 'elf', dumpLevel: 31, maxElfSegments: 40 });
    assert.ok(free.elfSegments! > 40, `${free.elfSegments} segments without a cap`);
    assert.ok(capped.elfSegments! <= 40, `${capped.elfSegments} segments with a cap of 40`);
    assert.ok(capped.bytesWritten > free.bytesWritten);
    const run = runJudge(vmcoreDmesg, [join(dir, 'capped.elf')]);
    assert.equal(run.status, 0, run.stderr);
    assert.ok(run.stdout.includes(fixture.manifest.marker));
  } finally {
    await vmcore.close();
  }
});

test('an existing complete dump is kept unless forced; success leaves no .incomplete file', async (t) => {
  const fixture = vmcoreFixture(t, 'vmcore-small');
  if (!fixture) return;
  const dir = scratchDir(t);
  const out = join(dir, 'dump');
  writeFileSync(out, 'an earlier dump');
  const vmcore = await openVmcore(fixture.path);
  try {
    await assert.rejects(saveDump(vmcore, { out, compress: 'lzo' }), (error: unknown) => error instanceof DumpExistsError && error.code === 'DUMP_EXISTS');
    assert.equal(readFileSync(out, 'utf8'), 'an earlier dump');
    assert.equal(existsSync(`${out}.incomplete`), false, 'nothing written before the refusal');
    const result = await saveDump(vmcore, { out, compress: 'lzo', force: true });
    // Bytes written, plus the holes left in the bitmap blocks' padding.
    assert.ok(statSync(out).size >= result.bytesWritten && statSync(out).size < result.bytesWritten + 2 * 4096);
    assert.equal(existsSync(`${out}.incomplete`), false);
    assert.equal((await openVmcore(out).then(async (dump) => (await dump.close(), dump.format))), 'kdump');
  } finally {
    await vmcore.close();
  }
});

test('progress: the scan, then the write, bytes only growing, a rate, and the written total at the end', async (t) => {
  const fixture = vmcoreFixture(t, 'vmcore-small');
  if (!fixture) return;
  const dir = scratchDir(t);
  const vmcore = await openVmcore(fixture.path);
  const reports: SaveProgress[] = [];
  try {
    const result = await saveDump(vmcore, { out: join(dir, 'dump'), compress: 'lzo', dumpLevel: 31, onProgress: (progress) => reports.push(progress) });
    assert.ok(reports.length >= 2);
    assert.deepEqual([...new Set(reports.map((report) => report.phase))], ['scan', 'write']);
    for (let index = 1; index < reports.length; index++) {
      assert.ok(reports[index]!.bytesRead >= reports[index - 1]!.bytesRead);
      assert.ok(reports[index]!.bytesWritten >= reports[index - 1]!.bytesWritten);
    }
    const last = reports[reports.length - 1]!;
    assert.equal(last.bytesDone, last.bytesTotal);
    assert.ok(last.bytesPerSecond > 0);
    assert.ok(last.bytesWritten <= result.bytesWritten);
  } finally {
    await vmcore.close();
  }
});

test('a stream gets the flattened form, which reassembles to the plain dump', async (t) => {
  const fixture = vmcoreFixture(t, 'vmcore-small');
  if (!fixture) return;
  const dir = scratchDir(t);
  const vmcore = await openVmcore(fixture.path);
  try {
    const stream = new PassThrough();
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    const result = await saveDump(vmcore, { out: { stream, name: 'pipe' }, compress: 'lzo', dumpLevel: 31 });
    assert.equal(result.flattened, true);
    writeFileSync(join(dir, 'stream.flat'), Buffer.concat(chunks));
    await saveDump(vmcore, { out: join(dir, 'plain'), compress: 'lzo', dumpLevel: 31 });
    await reassembleFlattened(join(dir, 'stream.flat'), join(dir, 'rebuilt'));
    assert.ok(readFileSync(join(dir, 'rebuilt')).equals(readFileSync(join(dir, 'plain'))));
  } finally {
    await vmcore.close();
  }
});

test('property: reassembling a mutated flattened dump fails only with typed errors', async (t) => {
  const dumpSet = await ourDumps(t);
  if (!dumpSet) return;
  const flat = readFileSync(dumpSet.files.flat);
  // The flat header and the first records (headers, notes, the bitmaps' start).
  const head = flat.subarray(0, 64 * 1024);
  const dir = scratchDir(t);
  let run = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.nat(head.length - 1), fc.nat(255)), { minLength: 1, maxLength: 6 }), fc.nat(head.length), async (patches, cut) => {
      const bytes = Buffer.from(head.subarray(0, cut));
      for (const [at, value] of patches) if (at < bytes.length) bytes[at] = value;
      const input = join(dir, `in-${run}`);
      writeFileSync(input, bytes);
      try {
        await reassembleFlattened(input, join(dir, `out-${run++}`));
      } catch (error) {
        if (!(error instanceof KexecError)) throw error;
      }
    }),
    fuzzSettings(150),
  );
});
