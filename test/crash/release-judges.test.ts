// Dumps of the kernels users run now, judged by the tools of the same Debian release: Debian
// 13's 6.12 with trixie's makedumpfile 1.7.6, sid's 7.x with sid's makedumpfile 1.7.8 (each run
// from its debootstrapped root), and vmcore-dmesg and crash of each release. Where a judge is
// known to be wrong for its kernel, the test shows that the whole difference is that fault.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openVmcore } from '../../src/crash/vmcore/open.js';
import { saveDump, type SaveResult } from '../../src/crash/dump/save.js';
import { extractDmesg } from '../../src/crash/dmesg/index.js';
import { x86_64Memory } from '../../src/crash/vmcore/x86-64.js';
import { readMemMap } from '../../src/crash/dump/mem-map.js';
import { openKdumpBitmaps, type KdumpBitmaps } from './kdump-bitmaps.js';
import { releaseJudge, runJudge, scratchDir, splitLines, vmcoreFixture, type VmcoreFixtureName } from './vmcore-fixtures.js';

const RELEASES = [
  { suite: 'trixie', vmcore: 'vmcore-trixie' },
  { suite: 'sid', vmcore: 'vmcore-sid' },
] as const satisfies readonly { suite: 'trixie' | 'sid'; vmcore: VmcoreFixtureName }[];

function isKept(bitmaps: KdumpBitmaps, pfn: number): boolean {
  return ((bitmaps.kept[pfn >> 3]! >> (pfn & 7)) & 1) === 1;
}

/** Frames kept in `a` and not in `b`. */
function keptOnlyIn(a: KdumpBitmaps, b: KdumpBitmaps): number[] {
  const only: number[] = [];
  for (let pfn = 0; pfn < a.maxPfn; pfn++) if (isKept(a, pfn) && !isKept(b, pfn)) only.push(pfn);
  return only;
}

interface Compared {
  ours: KdumpBitmaps;
  theirs: KdumpBitmaps;
  result: SaveResult;
  identical: boolean;
}

/** makedumpfile -d LEVEL and our save, both uncompressed kdump files of the same vmcore. */
async function compare(dir: string, makedumpfile: string, vmcorePath: string, level: number, tag: string): Promise<Compared> {
  const theirsPath = join(dir, `${tag}-makedumpfile-${level}.kdump`);
  const run = runJudge(makedumpfile, ['-d', String(level), vmcorePath, theirsPath]);
  assert.equal(run.status, 0, `makedumpfile -d ${level}: ${run.stdout}${run.stderr}`);
  const oursPath = join(dir, `${tag}-ours-${level}.kdump`);
  const vmcore = await openVmcore(vmcorePath);
  let result: SaveResult;
  try {
    result = await saveDump(vmcore, { out: oursPath, format: 'kdump', compress: 'none', dumpLevel: level });
  } finally {
    await vmcore.close();
  }
  assert.deepEqual(result.notApplied, [], 'every rule applies to this kernel');
  const [ours, theirs] = [await openKdumpBitmaps(oursPath), await openKdumpBitmaps(theirsPath)];
  assert.equal(ours.maxPfn, theirs.maxPfn);
  assert.ok(ours.memory.equals(theirs.memory), '1st bitmap (memory)');
  return { ours, theirs, result, identical: readFileSync(oursPath).equals(readFileSync(theirsPath)) };
}

test("Debian 13 (6.12): sid's makedumpfile 1.7.8, which knows 6.12's page types, writes byte-identical files at -d 1, 17 and 31", async (t) => {
  const fixture = vmcoreFixture(t, 'vmcore-trixie');
  const makedumpfile = releaseJudge(t, 'sid', 'makedumpfile');
  if (!fixture || !makedumpfile) return;
  const dir = scratchDir(t);
  for (const level of [1, 17, 31]) {
    const { identical, result } = await compare(dir, makedumpfile, fixture.path, level, 'trixie');
    assert.ok(identical, `-d ${level}: the whole file equals makedumpfile 1.7.8's`);
    if (level & 16) assert.ok(result.excluded.free > 100_000, 'most of an idle 1 GiB guest is free');
  }
});

test("Debian 13 (6.12): trixie's own makedumpfile 1.7.6 keeps the same pages but the free ones, which its slab test mistakes for slab", async (t) => {
  // 1.7.6's isSlab() masks page_type the 6.11 way, which on 6.12 (one type in the top byte) is
  // true for buddy and offline pages too: it leaves out no free page (makedumpfile issue #16,
  // fixed in 1.7.7). Everything else must agree exactly.
  const fixture = vmcoreFixture(t, 'vmcore-trixie');
  const makedumpfile = releaseJudge(t, 'trixie', 'makedumpfile');
  if (!fixture || !makedumpfile) return;
  const dir = scratchDir(t);
  const levelOne = await compare(dir, makedumpfile, fixture.path, 1, 'trixie-own');
  assert.ok(levelOne.identical, '-d 1: byte-identical');
  for (const level of [17, 31]) {
    const { ours, theirs, result } = await compare(dir, makedumpfile, fixture.path, level, 'trixie-own');
    assert.deepEqual(keptOnlyIn(ours, theirs), [], `-d ${level}: every page we keep, 1.7.6 keeps`);
    assert.equal(keptOnlyIn(theirs, ours).length, result.excluded.free, `-d ${level}: what only 1.7.6 keeps is exactly the free pages`);
    const withoutFree = await compare(dir, makedumpfile, fixture.path, level & ~16, `trixie-own-below-${level}`);
    assert.ok(withoutFree.identical, `-d ${level & ~16}: byte-identical`);
  }
});

test("sid (7.x): makedumpfile 1.7.8 agrees at -d 1 and 17; at 31 it also drops compound tail pages, which 7.1's page.compound_info marks and it does not read", async (t) => {
  // Linux 7.1 renamed page.compound_head to compound_info; makedumpfile 1.7.8 then finds no tail
  // offset and judges each tail page alone (the fix came after 1.7.8). We follow the kernel: a
  // tail goes with its head. So at -d 31 we keep more, and each extra page must be a tail.
  const fixture = vmcoreFixture(t, 'vmcore-sid');
  const makedumpfile = releaseJudge(t, 'sid', 'makedumpfile');
  if (!fixture || !makedumpfile) return;
  const dir = scratchDir(t);
  for (const level of [1, 17]) assert.ok((await compare(dir, makedumpfile, fixture.path, level, 'sid')).identical, `-d ${level}: byte-identical`);
  const { ours, theirs } = await compare(dir, makedumpfile, fixture.path, 31, 'sid');
  assert.deepEqual(keptOnlyIn(theirs, ours), [], 'every page 1.7.8 keeps, we keep');
  const extra = keptOnlyIn(ours, theirs);
  assert.ok(extra.length > 0, 'the 7.1 change shows in this dump');

  const vmcore = await openVmcore(fixture.path);
  try {
    const info = vmcore.vmcoreinfo;
    const compoundInfo = info.offsets['page.compound_info'];
    assert.ok(compoundInfo !== undefined && info.offsets['page.compound_head'] === undefined, '7.x exports compound_info, not compound_head');
    const memory = x86_64Memory(vmcore);
    const memMap = await readMemMap(memory, info, vmcore.pageSize, vmcore.maxPfn);
    const notTails: number[] = [];
    for (const pfn of extra) {
      const section = memMap.sections.find((candidate) => pfn >= candidate.startPfn && pfn < candidate.endPfn)!;
      const word = await memory.readVirtual(section.memMap + BigInt((pfn - section.startPfn) * memMap.pageStructSize + compoundInfo), 8);
      if ((word[0]! & 1) !== 1) notTails.push(pfn);
    }
    assert.deepEqual(notTails, [], 'every page only we keep is a compound tail');
  } finally {
    await vmcore.close();
  }
});

for (const release of RELEASES) {
  test(`${release.suite}: our dmesg equals that release's vmcore-dmesg, and its crash reads every format we write`, async (t) => {
    const fixture = vmcoreFixture(t, release.vmcore);
    const vmcoreDmesg = releaseJudge(t, release.suite, 'vmcore-dmesg');
    const crash = releaseJudge(t, release.suite, 'crash');
    if (!fixture || !vmcoreDmesg || !crash) return;
    const run = runJudge(vmcoreDmesg, [fixture.path]);
    assert.equal(run.status, 0, run.stderr);
    const theirs = splitLines(run.stdout);
    assert.deepEqual(await extractDmesg(fixture.path, { style: 'vmcore-dmesg' }), theirs);
    assert.ok(theirs.some((line) => line.endsWith(fixture.manifest.marker)), 'the marker written before the crash');

    const dir = scratchDir(t);
    const vmcore = await openVmcore(fixture.path);
    const files: Record<string, string> = {};
    try {
      for (const [name, options] of [
        ['kdump-zlib', { format: 'kdump', compress: 'zlib' }],
        ['kdump-zstd', { format: 'kdump', compress: 'zstd' }],
        ['flat-lzo', { format: 'flat', compress: 'lzo' }],
        ['elf', { format: 'elf' }],
      ] as const) {
        files[name] = join(dir, name);
        await saveDump(vmcore, { out: files[name]!, dumpLevel: 31, ...options });
      }
    } finally {
      await vmcore.close();
    }
    const releaseName = fixture.manifest.kernelRelease ?? fixture.manifest.kernelPackage.replace(/^linux-(image|binary)-/, '');
    for (const [name, file] of Object.entries(files)) {
      const osrelease = runJudge(crash, ['--osrelease', file]);
      assert.equal(osrelease.status, 0, `${name}: ${osrelease.stderr}`);
      assert.equal(osrelease.stdout.trim(), releaseName, name);
    }
  });
}
