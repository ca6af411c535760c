import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { KexecError, ParseError } from '../../src/errors.js';
import { openVmcore, readVmcore } from '../../src/crash/vmcore/open.js';
import { openFileSource, type RandomAccessSource } from '../../src/crash/vmcore/source.js';
import { parseVmcoreinfo } from '../../src/crash/vmcore/vmcoreinfo.js';
import { PageNotInDumpError } from '../../src/crash/vmcore/errors.js';
import { fuzzSettings } from '../image/image-fixtures.js';
import { judge, runJudge, scratchDir, vmcoreFixture, readFileRange } from './vmcore-fixtures.js';

const START_KERNEL_MAP = 0xffffffff80000000n;
/** Where x86_64 links the kernel (CONFIG_PHYSICAL_START 16 MiB above __START_KERNEL_map). */
const LINKED_STEXT = 0xffffffff81000000n;


test('the real vmcore: an ELF64 x86_64 core with its PT_LOADs, one NT_PRSTATUS per CPU and VMCOREINFO', async (t) => {
  const fixture = vmcoreFixture(t);
  if (!fixture) return;
  const vmcore = await openVmcore(fixture.path);
  try {
    assert.equal(vmcore.format, 'elf');
    assert.equal(vmcore.machineName, 'x86_64');
    assert.equal(vmcore.littleEndian, true);
    assert.equal(vmcore.sizeBytes, fixture.manifest.sizeBytes);
    assert.equal(vmcore.cpus.length, fixture.manifest.cpus);
    // The kernel image load plus the RAM outside the crashkernel= reservation.
    assert.ok(vmcore.loads!.length >= 2, `${vmcore.loads!.length} PT_LOADs`);
    for (const load of vmcore.loads!) assert.equal(load.p_filesz, load.p_memsz);

    const info = vmcore.vmcoreinfo;
    assert.deepEqual(info.warnings, []);
    assert.equal(info.osrelease, fixture.manifest.kernelPackage.replace(/^linux-image-/, ''));
    assert.equal(info.pageSize, 4096);
    assert.equal(vmcore.pageSize, 4096);
    assert.ok(info.symbols.prb !== undefined && info.symbols.init_top_pgt !== undefined && info.symbols.mem_section !== undefined);
    assert.equal(info.offsets['page.flags'], 0);
    assert.ok(info.sizes.page === 64);
    assert.ok(info.numbers.PAGE_BUDDY_MAPCOUNT_VALUE! < 0n, 'buddy mapcount value is negative');
    // KASLR: _stext is where it was linked plus KERNELOFFSET.
    assert.equal(info.symbols._stext, LINKED_STEXT + info.kernelOffset!);
    // CRASHTIME is the crash, a few seconds before the fixture was written.
    assert.ok(info.crashTime! > 1_600_000_000);

    // The kernel-image PT_LOAD maps __START_KERNEL_map + x to x + phys_base.
    const text = vmcore.loads!.find((load) => load.p_vaddr >= START_KERNEL_MAP)!;
    assert.equal(BigInt(text.p_paddr), BigInt.asUintN(64, text.p_vaddr - START_KERNEL_MAP + vmcore.physBase!));
    // The same physical page through the API and straight from the file at the PT_LOAD's offset.
    const fromApi = await vmcore.readPhysical(text.p_paddr + 4096, 4096);
    assert.deepEqual(Buffer.from(fromApi), readFileRange(fixture.path, text.p_offset + 4096, 4096));
    // The kernel image also lies in the direct map: another PT_LOAD holds the same bytes.
    const direct = vmcore.loads!.find((load) => load !== text && load.p_paddr <= text.p_paddr && text.p_paddr < load.p_paddr + load.p_memsz)!;
    assert.deepEqual(readFileRange(fixture.path, direct.p_offset + (text.p_paddr - direct.p_paddr) + 4096, 4096), Buffer.from(fromApi));

    // Each CPU stopped somewhere in the kernel's text.
    for (const cpu of vmcore.cpus) {
      const rip = cpu.registers.rip!;
      assert.ok(rip >= info.symbols._stext! && rip < text.p_vaddr + BigInt(text.p_memsz), `rip 0x${rip.toString(16)}`);
    }
    // A hole: the crashkernel= reservation is not in the dump.
    const firstRange = vmcore.memoryRanges[0]!;
    await assert.rejects(vmcore.readPhysical(firstRange.end, 8), PageNotInDumpError);
    assert.equal(vmcore.hasPage(firstRange.end / 4096), false);
    assert.equal(vmcore.hasPage(firstRange.start / 4096), true);
  } finally {
    await vmcore.close();
  }
});

test('the smaller real vmcore reads the same way, one CPU', async (t) => {
  const fixture = vmcoreFixture(t, 'vmcore-small');
  if (!fixture) return;
  const vmcore = await openVmcore(fixture.path);
  try {
    assert.equal(vmcore.cpus.length, 1);
    assert.equal(vmcore.sizeBytes, fixture.manifest.sizeBytes);
    assert.ok(vmcore.maxPfn * 4096 <= fixture.manifest.memoryMiB * 1024 * 1024);
  } finally {
    await vmcore.close();
  }
});

test('VMCOREINFO: each key kind typed, unknown keys kept, bad lines become warnings', () => {
  const info = parseVmcoreinfo([
    'OSRELEASE=6.1.0-56-cloud-amd64',
    'PAGESIZE=4096',
    'SYMBOL(prb)=ffffffff926622c0',
    'SIZE(page)=64',
    'OFFSET(page._mapcount)=48',
    'NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)=-129',
    'NUMBER(kimage_voffset)=0xffff800008000000',
    'LENGTH(zone.free_area)=11',
    'KERNELOFFSET=fc00000',
    'CRASHTIME=1795410084',
    'CONFIG_X86_PAE=y',
    'NEWKEY(thing)=whatever',
    'SIZE(page)=128',
    'no equals sign here',
    'SYMBOL(bad)=xyz',
    '',
  ].join('\n') + '\0\0\0');
  assert.equal(info.osrelease, '6.1.0-56-cloud-amd64');
  assert.equal(info.pageSize, 4096);
  assert.equal(info.symbols.prb, 0xffffffff926622c0n);
  assert.equal(info.sizes.page, 64, 'the first value of a repeated key is kept');
  assert.equal(info.offsets['page._mapcount'], 48);
  assert.equal(info.numbers.PAGE_BUDDY_MAPCOUNT_VALUE, -129n);
  assert.equal(info.numbers.kimage_voffset, 0xffff800008000000n, 'arm64 prints this NUMBER in hex');
  assert.equal(info.lengths['zone.free_area'], 11);
  assert.equal(info.kernelOffset, 0xfc00000n);
  assert.equal(info.crashTime, 1795410084);
  assert.equal(info.configs.CONFIG_X86_PAE, 'y');
  assert.equal(info.other['NEWKEY(thing)'], 'whatever');
  assert.deepEqual(info.warnings.map((warning) => [warning.code, warning.line]), [
    ['VMCOREINFO_DUPLICATE', 13],
    ['VMCOREINFO_BAD_LINE', 14],
    ['VMCOREINFO_BAD_VALUE', 15],
  ]);
});

test("makedumpfile's kdump-compressed and flattened output read back page for page", async (t) => {
  const fixture = vmcoreFixture(t);
  const makedumpfile = judge(t, 'makedumpfile');
  if (!fixture || !makedumpfile) return;
  const dir = scratchDir(t);
  const plain = join(dir, 'dump.lzo');
  assert.equal(runJudge(makedumpfile, ['-l', '-d', '31', fixture.path, plain]).status, 0);
  const flat = join(dir, 'dump.flat');
  const flatRun = runJudge('/bin/sh', ['-c', `'${makedumpfile}' -F -c -d 31 '${fixture.path}' > '${flat}'`]);
  assert.equal(flatRun.status, 0, flatRun.stderr);

  const elf = await openVmcore(fixture.path);
  const kdump = await openVmcore(plain);
  const flattened = await openVmcore(flat);
  try {
    assert.equal(kdump.format, 'kdump');
    assert.equal(flattened.format, 'kdump');
    assert.equal(kdump.kdump!.header_version, 6);
    assert.equal(kdump.kdump!.dump_level, 31);
    assert.equal(kdump.kdump!.utsname.release, elf.vmcoreinfo.osrelease);
    assert.equal(kdump.kdump!.nr_cpus, elf.cpus.length);
    assert.equal(kdump.physBase, elf.physBase);
    assert.equal(kdump.maxPfn, elf.maxPfn);
    assert.deepEqual(kdump.vmcoreinfo, elf.vmcoreinfo);
    assert.deepEqual(Buffer.from(kdump.noteBytes), Buffer.from(elf.noteBytes));
    assert.deepEqual(kdump.memoryRanges, elf.memoryRanges);
    // Every 97th dumped page (a few thousand), through the LZO and zlib decoders, equals the vmcore's.
    let compared = 0;
    for (let pfn = 0; pfn < elf.maxPfn; pfn += 97) {
      if (!kdump.hasPage(pfn)) continue;
      assert.ok(flattened.hasPage(pfn));
      const expected = Buffer.from(await elf.readPhysical(pfn * 4096, 4096));
      assert.deepEqual(Buffer.from(await kdump.readPhysical(pfn * 4096, 4096)), expected, `pfn ${pfn} (lzo)`);
      assert.deepEqual(Buffer.from(await flattened.readPhysical(pfn * 4096, 4096)), expected, `pfn ${pfn} (flattened zlib)`);
      compared++;
    }
    assert.ok(compared > 100, `${compared} pages compared`);
  } finally {
    await Promise.all([elf.close(), kdump.close(), flattened.close()]);
  }
});

/** A source over a real file with some bytes replaced and a length cut: mutations without copying 800 MB. */
function mutatedSource(base: RandomAccessSource, patches: ReadonlyMap<number, number>, sizeBytes: number): RandomAccessSource {
  return {
    name: `${base.name} (mutated)`,
    sizeBytes,
    async readAt(offset, length, field, into) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > sizeBytes) {
        throw new ParseError('FORMAT_TRUNCATED', 'vmcore', `${field}: ${length} bytes at ${offset} past ${sizeBytes}`);
      }
      const bytes = await base.readAt(offset, length, field, into);
      for (const [at, value] of patches) if (at >= offset && at < offset + length) bytes[at - offset] = value;
      return bytes;
    },
    close: async () => {},
  };
}

async function exercise(source: RandomAccessSource): Promise<void> {
  const vmcore = await readVmcore(source);
  for (const range of vmcore.memoryRanges.slice(0, 3)) await vmcore.readPhysical(range.start, Math.min(8192, range.end - range.start));
}

async function fuzzReader(t: import('node:test').TestContext, path: string, headerBytes: number, runs = 300): Promise<void> {
  const base = await openFileSource(path);
  t.after(() => base.close());
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(headerBytes - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }),
      fc.oneof(fc.constant(base.sizeBytes), fc.nat(base.sizeBytes)),
      async (patches, size) => {
        try {
          await exercise(mutatedSource(base, new Map(patches), size));
        } catch (error) {
          if (!(error instanceof KexecError)) throw error;
        }
      },
    ),
    fuzzSettings(runs),
  );
}

test('property: a mutated real vmcore (ELF header, program headers, notes) fails only with ParseError', async (t) => {
  const fixture = vmcoreFixture(t, 'vmcore-small');
  if (!fixture) return;
  // The headers and the note segment sit in the first two pages.
  await fuzzReader(t, fixture.path, 8192);
});

test("property: a mutated makedumpfile kdump-compressed dump and a flattened one fail only with ParseError", async (t) => {
  const fixture = vmcoreFixture(t, 'vmcore-small');
  const makedumpfile = judge(t, 'makedumpfile');
  if (!fixture || !makedumpfile) return;
  const dir = scratchDir(t);
  const kdump = join(dir, 'dump');
  assert.equal(runJudge(makedumpfile, ['-c', '-d', '31', fixture.path, kdump]).status, 0);
  // Headers, notes, both bitmaps and the start of the page_desc table.
  await fuzzReader(t, kdump, Math.min(statSync(kdump).size, 40 * 4096), 150);
  const flat = join(dir, 'dump.flat');
  assert.equal(runJudge('/bin/sh', ['-c', `'${makedumpfile}' -F -l -d 31 '${fixture.path}' > '${flat}'`]).status, 0);
  await fuzzReader(t, flat, Math.min(statSync(flat).size, 16 * 4096), 150);
});

test("property: the real VMCOREINFO, mutated, parses to warnings, never an exception", async (t) => {
  const fixture = vmcoreFixture(t, 'vmcore-small');
  if (!fixture) return;
  const vmcore = await openVmcore(fixture.path);
  const text = Buffer.from(vmcore.vmcoreinfoBytes!).toString('latin1');
  await vmcore.close();
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.nat(text.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 12 }), fc.nat(text.length), (patches, cut) => {
      const chars = [...text.slice(0, cut)];
      for (const [at, code] of patches) if (at < chars.length) chars[at] = String.fromCharCode(code);
      const info = parseVmcoreinfo(chars.join(''));
      for (const warning of info.warnings) assert.ok(warning.line >= 1);
    }),
    fuzzSettings(500),
  );
});
