// Exactness, measured: for the same vmcore and dump level, the pages we keep are the pages
// makedumpfile keeps. Both write the kdump-compressed format; uncompressed, the two files are
// compared whole, bitmaps first (the 2nd bitmap is the set of pages kept; at level 1 zero pages
// stay in it and share one stored zero page, so their page_descs are compared too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openVmcore } from '../../src/crash/vmcore/open.js';
import { saveDump } from '../../src/crash/dump/save.js';
import type { KdumpHeader } from '../../src/crash/vmcore/kdump-file.js';
import { judge, runJudge, scratchDir, vmcoreFixture, readFileRange } from './vmcore-fixtures.js';
import { differingPfns, openKdumpBitmaps } from './kdump-bitmaps.js';


async function kdumpHeader(path: string): Promise<KdumpHeader> {
  const dump = await openVmcore(path);
  try {
    return dump.kdump!;
  } finally {
    await dump.close();
  }
}

/** pfns whose page_desc points at the shared zero page (level 1), and how many page_descs there are. */
async function zeroPagePfns(path: string): Promise<number[]> {
  const header = await kdumpHeader(path);
  const dump = await openVmcore(path);
  try {
    const descs = readFileRange(path, header.pageDescOffset, header.dumpedPages * 24);
    const zeroOffset = BigInt(header.pageDescOffset + header.dumpedPages * 24);
    const zero: number[] = [];
    let index = 0;
    for (let pfn = 0; pfn < header.max_mapnr; pfn++) {
      if (!dump.hasPage(pfn)) continue;
      if (descs.readBigUInt64LE(index * 24) === zeroOffset) zero.push(pfn);
      index++;
    }
    return zero;
  } finally {
    await dump.close();
  }
}

for (const level of [1, 17, 31]) {
  test(`dump level ${level}: the same pages as makedumpfile -d ${level} (bitmaps, zero pages, then the whole file)`, async (t) => {
    const fixture = vmcoreFixture(t);
    const makedumpfile = judge(t, 'makedumpfile');
    if (!fixture || !makedumpfile) return;
    const dir = scratchDir(t);
    const theirs = join(dir, 'makedumpfile.kdump');
    const run = runJudge(makedumpfile, ['-d', String(level), fixture.path, theirs]);
    assert.equal(run.status, 0, run.stderr);
    const ours = join(dir, 'ours.kdump');
    const vmcore = await openVmcore(fixture.path);
    try {
      const result = await saveDump(vmcore, { out: ours, format: 'kdump', compress: 'none', dumpLevel: level });
      assert.equal(result.dumpLevel, level);
    } finally {
      await vmcore.close();
    }

    const [ourHeader, theirHeader] = [await kdumpHeader(ours), await kdumpHeader(theirs)];
    assert.equal(ourHeader.max_mapnr, theirHeader.max_mapnr);
    assert.equal(ourHeader.bitmapOffset, theirHeader.bitmapOffset);
    assert.equal(ourHeader.bitmapBytes, theirHeader.bitmapBytes);
    const bytes = Math.ceil(ourHeader.max_mapnr / 8);
    assert.ok(readFileRange(ours, ourHeader.bitmapOffset, bytes).equals(readFileRange(theirs, theirHeader.bitmapOffset, bytes)), '1st bitmap (memory)');
    const [ourBitmaps, theirBitmaps] = [await openKdumpBitmaps(ours), await openKdumpBitmaps(theirs)];
    if (!ourBitmaps.kept.equals(theirBitmaps.kept)) {
      assert.fail(`2nd bitmap differs from makedumpfile's, first at pfns ${differingPfns(ourBitmaps, theirBitmaps).join(', ')}`);
    }
    assert.equal(ourHeader.dumpedPages, theirHeader.dumpedPages);
    if (level & 1) assert.deepEqual(await zeroPagePfns(ours), await zeroPagePfns(theirs), 'pages stored as the shared zero page');
    // Same headers, bitmaps, page_descs and pages: the files are identical.
    assert.ok(readFileSync(ours).equals(readFileSync(theirs)), 'the whole file equals makedumpfile\'s');
  });
}

test('a codec does not change which pages are kept: bitmaps of -c -d 31 and -l -d 31 equal ours', async (t) => {
  const fixture = vmcoreFixture(t);
  const makedumpfile = judge(t, 'makedumpfile');
  if (!fixture || !makedumpfile) return;
  const dir = scratchDir(t);
  const vmcore = await openVmcore(fixture.path);
  try {
    for (const [flag, compress] of [['-c', 'zlib'], ['-l', 'lzo']] as const) {
      const theirs = join(dir, `theirs-${compress}`);
      assert.equal(runJudge(makedumpfile, [flag, '-d', '31', fixture.path, theirs]).status, 0);
      const ours = join(dir, `ours-${compress}`);
      await saveDump(vmcore, { out: ours, compress, dumpLevel: 31 });
      const [a, b] = [await kdumpHeader(ours), await kdumpHeader(theirs)];
      const bytes = Math.ceil(a.max_mapnr / 8);
      assert.ok(readFileRange(ours, a.bitmapOffset, 2 * a.bitmapBytes).subarray(0, a.bitmapBytes + bytes).equals(readFileRange(theirs, b.bitmapOffset, 2 * b.bitmapBytes).subarray(0, b.bitmapBytes + bytes)), compress);
      assert.equal(a.status, b.status, `${compress}: status flags`);
      // Headers up to the bitmaps are the same bytes (utsname, crash time, phys_base, notes).
      assert.ok(readFileRange(ours, 0, a.bitmapOffset).equals(readFileRange(theirs, 0, b.bitmapOffset)), `${compress}: headers`);
    }
  } finally {
    await vmcore.close();
  }
});

test('cycle edges change nothing: a dump classified in cycles of 4104 pages equals one in a single cycle', async (t) => {
  const fixture = vmcoreFixture(t, 'vmcore-small');
  if (!fixture) return;
  const dir = scratchDir(t);
  const vmcore = await openVmcore(fixture.path);
  try {
    await saveDump(vmcore, { out: join(dir, 'one'), compress: 'none', dumpLevel: 31 });
    // Small cycles cut free blocks of order 10 (1024 pages) only when misaligned; 4100 is not a
    // power of two, so blocks do run over cycle ends and must be finished in the next cycle.
    await saveDump(vmcore, { out: join(dir, 'many'), compress: 'none', dumpLevel: 31, cyclePages: 4104 });
    assert.ok(readFileSync(join(dir, 'one')).equals(readFileSync(join(dir, 'many'))));
  } finally {
    await vmcore.close();
  }
});

test('a kdump-compressed dump saved again at a higher level keeps what makedumpfile keeps when it refilters; ELF from it is refused', async (t) => {
  const fixture = vmcoreFixture(t, 'vmcore-small');
  const makedumpfile = judge(t, 'makedumpfile');
  if (!fixture || !makedumpfile) return;
  const dir = scratchDir(t);
  const level1 = join(dir, 'level1');
  assert.equal(runJudge(makedumpfile, ['-d', '1', fixture.path, level1]).status, 0);
  const theirs = join(dir, 'theirs31');
  assert.equal(runJudge(makedumpfile, ['-d', '31', level1, theirs]).status, 0);
  const source = await openVmcore(level1);
  try {
    const ours = join(dir, 'ours31');
    await saveDump(source, { out: ours, compress: 'none', dumpLevel: 31 });
    const [a, b] = [await kdumpHeader(ours), await kdumpHeader(theirs)];
    const bytes = Math.ceil(a.max_mapnr / 8);
    assert.ok(readFileRange(ours, a.bitmapOffset + a.bitmapBytes, bytes).equals(readFileRange(theirs, b.bitmapOffset + b.bitmapBytes, bytes)), '2nd bitmap');
    await assert.rejects(saveDump(source, { out: join(dir, 'elf'), format: 'elf' }), { code: 'USAGE' });
  } finally {
    await source.close();
  }
});
