// A dump is never lost for the sake of a filter. Newer kernels stopped exporting some of what a
// dump level reads (NUMBER(PG_slab) went away when slab became a page type); here the real
// vmcore's VMCOREINFO is cut down as such a kernel's would be, and the save must still write the
// dump, keep the pages of the rules it cannot decide, and say which and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openVmcore } from '../../src/crash/vmcore/open.js';
import { saveDump, type SaveResult } from '../../src/crash/dump/save.js';
import { DL_EXCLUDE_FREE, DL_EXCLUDE_USER_DATA, KEXEC_TS_NOTE_NAME, NT_KEXEC_TS_UNAPPLIED, describeUnapplied, planExclusions } from '../../src/crash/dump/dump-level.js';
import type { Vmcoreinfo } from '../../src/crash/vmcore/vmcoreinfo.js';
import type { Vmcore } from '../../src/crash/vmcore/vmcore.js';
import { openKdumpBitmaps } from './kdump-bitmaps.js';
import { judge, makedumpfileDmesg, runJudge, scratchDir, vmcoreFixture } from './vmcore-fixtures.js';

type Section = 'numbers' | 'symbols' | 'offsets' | 'sizes';

/** The vmcore's VMCOREINFO without the named keys, as a kernel that does not export them. */
function without(info: Vmcoreinfo, drop: Partial<Record<Section, string[]>>): Vmcoreinfo {
  const cut = <T>(record: Readonly<Record<string, T>>, names: string[] = []): Record<string, T> =>
    Object.fromEntries(Object.entries(record).filter(([name]) => !names.includes(name)));
  return {
    ...info,
    numbers: cut(info.numbers, drop.numbers),
    symbols: cut(info.symbols, drop.symbols),
    offsets: cut(info.offsets, drop.offsets),
    sizes: cut(info.sizes, drop.sizes),
  };
}

async function saveWith(path: string, out: string, dumpLevel: number, drop: Partial<Record<Section, string[]>>, format: 'kdump' | 'elf' = 'kdump'): Promise<SaveResult> {
  const vmcore = await openVmcore(path);
  try {
    const cutDown: Vmcore = Object.create(vmcore, { vmcoreinfo: { value: without(vmcore.vmcoreinfo, drop) } });
    return await saveDump(cutDown, { out, format, compress: 'none', dumpLevel });
  } finally {
    await vmcore.close();
  }
}

const NO_SLAB = { numbers: ['PG_slab', 'PAGE_SLAB_MAPCOUNT_VALUE'] };

test('without a way to tell slab pages apart, level 31 keeps user and free pages, says why, and writes the dump level 7 would', async (t) => {
  const fixture = vmcoreFixture(t);
  if (!fixture) return;
  const dir = scratchDir(t);
  const result = await saveWith(fixture.path, join(dir, 'no-slab.kdump'), 31, NO_SLAB);
  assert.equal(result.dumpLevel, 31);
  assert.equal(result.appliedDumpLevel, 7);
  assert.deepEqual(result.notApplied.map((entry) => entry.dumpLevelBit), [DL_EXCLUDE_USER_DATA, DL_EXCLUDE_FREE]);
  assert.match(result.notApplied[0]!.reason, /NUMBER\(PG_slab\) or NUMBER\(PAGE_SLAB_MAPCOUNT_VALUE\)/);
  assert.equal(result.excluded.user, 0);
  assert.equal(result.excluded.free, 0);
  assert.ok(result.excluded.cache > 0, 'the page cache rule still applies');
  assert.match(describeUnapplied(result.notApplied).join('\n'), /^user data pages \(8\) were kept, not left out: /m);

  // Exactly the pages a level 7 dump of the whole VMCOREINFO keeps, and the header says 7.
  const level7 = await saveWith(fixture.path, join(dir, 'level-7.kdump'), 7, {});
  assert.equal(level7.notApplied.length, 0);
  const [ours, reference] = [await openKdumpBitmaps(join(dir, 'no-slab.kdump')), await openKdumpBitmaps(join(dir, 'level-7.kdump'))];
  assert.equal(ours.dumpLevel, 7);
  assert.ok(ours.kept.equals(reference.kept), 'the same pages as level 7');

  // The dump says so itself, in a note the judges pass over: they still read it.
  const expectedNote = `dump level 31 asked, 7 applied:\n${describeUnapplied(result.notApplied).join('\n')}\n`;
  assert.equal(await kexecTsNote(join(dir, 'no-slab.kdump')), expectedNote);
  assert.equal(await kexecTsNote(join(dir, 'level-7.kdump')), undefined, 'no note when every rule applied');
  await saveWith(fixture.path, join(dir, 'no-slab.elf'), 31, NO_SLAB, 'elf');
  assert.equal(await kexecTsNote(join(dir, 'no-slab.elf')), expectedNote);
  const makedumpfile = judge(t, 'makedumpfile');
  const vmcoreDmesg = judge(t, 'vmcore-dmesg');
  if (!makedumpfile || !vmcoreDmesg) return;
  assert.ok(makedumpfileDmesg(makedumpfile, join(dir, 'no-slab.kdump')).some((line) => line.endsWith(fixture.manifest.marker)), 'makedumpfile reads the dump with our note');
  const elfDmesg = runJudge(vmcoreDmesg, [join(dir, 'no-slab.elf')]);
  assert.equal(elfDmesg.status, 0, elfDmesg.stderr);
  assert.ok(elfDmesg.stdout.includes(fixture.manifest.marker), 'vmcore-dmesg reads the ELF dump with our note');
});

/** The text of the dump's KEXEC-TS note, if it has one. */
async function kexecTsNote(path: string): Promise<string | undefined> {
  const dump = await openVmcore(path);
  try {
    const note = dump.notes.find((candidate) => candidate.name === KEXEC_TS_NOTE_NAME && candidate.type === NT_KEXEC_TS_UNAPPLIED);
    return note === undefined ? undefined : Buffer.from(note.desc).toString('utf8');
  } finally {
    await dump.close();
  }
}

test('without the mem_map, every struct-page rule is left out and the dump is still written; level 0 never needs it', async (t) => {
  const fixture = vmcoreFixture(t);
  if (!fixture) return;
  const dir = scratchDir(t);
  const noMemMap = { symbols: ['mem_section'] };
  const result = await saveWith(fixture.path, join(dir, 'no-mem-map.kdump'), 31, noMemMap);
  assert.equal(result.appliedDumpLevel, 1);
  // Debian 12's kernel has no CONFIG_MEMORY_FAILURE: no hwpoison rule to leave out.
  assert.deepEqual(result.notApplied.map((entry) => entry.dumpLevelBit), [2, 4, 8, 16]);
  assert.match(result.notApplied[0]!.reason, /SYMBOL\(mem_section\)/);
  assert.ok(result.excluded.zero > 0, 'zero pages are still left out');

  const levelZero = await saveWith(fixture.path, join(dir, 'level-0.kdump'), 0, noMemMap);
  assert.deepEqual(levelZero.notApplied, []);
  assert.equal(levelZero.pagesWritten, result.pagesWritten + result.excluded.zero);
});

test('the plan: level 0 reads no struct page even where hwpoison pages could be looked for; a missing flag costs only its rules', async (t) => {
  const fixture = vmcoreFixture(t, 'vmcore-trixie');
  if (!fixture) return;
  const vmcore = await openVmcore(fixture.path);
  try {
    const info = vmcore.vmcoreinfo;
    assert.ok(info.numbers.PG_hwpoison !== undefined, "Debian 13's kernel exports PG_hwpoison");
    assert.equal(info.numbers.PG_slab, undefined, 'and no PG_slab: slab is a page type there');
    assert.equal(planExclusions(info, 0).scansStructPages, false);
    assert.equal(planExclusions(info, 1).scansStructPages, true, 'makedumpfile looks for hwpoison pages from level 1');
    const noBuddy = planExclusions(without(info, { numbers: ['PAGE_BUDDY_MAPCOUNT_VALUE'] }), 31);
    assert.equal(noBuddy.appliedLevel, 15);
    assert.match(noBuddy.notApplied[0]!.reason, /NUMBER\(PAGE_BUDDY_MAPCOUNT_VALUE\)/);
    const noFlags = planExclusions(without(info, { offsets: ['page.flags'] }), 17);
    assert.equal(noFlags.appliedLevel, 1);
    assert.match(noFlags.notApplied[0]!.reason, /OFFSET\(page\.flags\)/);
    assert.deepEqual(noFlags.notApplied.map((entry) => entry.dumpLevelBit), [16, 0], 'the free pages, and the hwpoison pages of every level');
    assert.equal(noFlags.scansStructPages, false);
  } finally {
    await vmcore.close();
  }
});
