import { ELFCLASS64, ELFDATA2LSB, PT_LOAD, PT_NOTE, elf64HeaderLayout, elf64ProgramHeaderLayout } from '../../image/elf/layout.js';
import { ET_CORE } from '../vmcore/elf-core.js';
import type { DumpSink } from './output.js';
import { RegionWriter } from './output.js';
import { emptyCounts, type ExclusionCounts } from './dump-level.js';
import type { ProgressMeter } from './progress.js';
import { READ_RUN_PAGES, createFilter, cycles, excludesZeroPages, forEachKeptRun, isKept, isZeroPage, type DumpContext } from './scan.js';

// An ELF dump: the vmcore's own layout (ELF header, PT_NOTE, PT_LOADs, notes, then the
// segments' data) with the left-out pages dropped by splitting each PT_LOAD, as makedumpfile
// -E does it: a segment's p_filesz covers the pages kept, its p_memsz runs on over the pages
// left out up to the next segment, so the memory map stays whole and left-out pages read as
// zeros. makedumpfile splits only at runs of 256 or more left-out pages; we split at every
// run (smaller files) unless that would pass maxSegments, in which case the shortest runs are
// kept in the data (the threshold doubles until the table fits: e_phnum stays below PN_XNUM).

/** 65533 PT_LOADs + the PT_NOTE = 65534, the largest e_phnum without extended numbering. */
export const MAX_ELF_SEGMENTS = 65533;
const EV_CURRENT = 1;
const PF_RWX = 7;
const EM_BY_MACHINE: Readonly<Record<string, number>> = { x86_64: 62, aarch64: 183, i386: 3, s390: 22, ppc64: 21, riscv: 243 };
const COPY_CHUNK_BYTES = 1024 * 1024;

interface Load {
  readonly vaddr: bigint;
  readonly paddr: number;
  readonly memsz: number;
  readonly flags: number;
  readonly align: bigint;
}

/** A run of bytes to copy, inside load `load`. */
interface DataRun {
  readonly load: number;
  start: number;
  end: number;
}

export interface ElfWriteStats {
  segments: number;
  /** Pages written, left-out ones inside a segment (runs shorter than the threshold) included. */
  pagesWritten: number;
  /** The shortest run of left-out pages that got its own split (1 unless maxSegments forced more). */
  splitThresholdPages: number;
  excluded: ExclusionCounts;
}

function loadsOf(context: DumpContext): Load[] {
  const { vmcore } = context;
  if (vmcore.loads) return vmcore.loads.map((load) => ({ vaddr: load.p_vaddr, paddr: load.p_paddr, memsz: load.p_memsz, flags: load.p_flags, align: load.p_align }));
  // saveDump refuses this; a caller of the writer alone gets one PT_LOAD per memory range,
  // without virtual addresses.
  return vmcore.memoryRanges.map((range) => ({ vaddr: 0n, paddr: range.start, memsz: range.end - range.start, flags: PF_RWX, align: 0n }));
}

/** Joins neighbouring runs of the same load separated by fewer than `gapPages` pages. */
function mergeRuns(runs: DataRun[], gapBytes: number): DataRun[] {
  const merged: DataRun[] = [];
  for (const run of runs) {
    const last = merged[merged.length - 1];
    if (last && last.load === run.load && run.start - last.end < gapBytes) last.end = run.end;
    else merged.push({ ...run });
  }
  return merged;
}

export async function writeElfDump(context: DumpContext, sink: DumpSink, meter: ProgressMeter, options: { maxSegments?: number | undefined } = {}): Promise<ElfWriteStats> {
  const { vmcore, pageSize } = context;
  const loads = loadsOf(context);
  const maxSegments = Math.max(loads.length * 2, Math.min(options.maxSegments ?? MAX_ELF_SEGMENTS, MAX_ELF_SEGMENTS));
  const excludeZero = excludesZeroPages(context);
  const zeroPage = new Uint8Array(pageSize);
  const readBuffer = new Uint8Array(READ_RUN_PAGES * pageSize);
  const excluded = emptyCounts();

  // Pass 1: the runs of kept pages of every PT_LOAD (each load on its own: the kernel-image
  // load overlaps the direct map's), zero pages found by reading the kept ones.
  meter.startPhase('scan');
  let runs: DataRun[] = [];
  // Every load can add one leading segment without data; the rest is for runs.
  const runBudget = maxSegments - loads.length;
  let thresholdPages = 1;
  for (let index = 0; index < loads.length; index++) {
    const load = loads[index]!;
    const firstPfn = Math.ceil(load.paddr / pageSize);
    const endPfn = Math.floor((load.paddr + load.memsz) / pageSize);
    if (endPfn <= firstPfn) continue;
    const filter = createFilter(context);
    for await (const cycle of cycles(context, filter, firstPfn, endPfn)) {
      if (excludeZero) {
        await forEachKeptRun(context, cycle, readBuffer, async (pfns, pages, bytesRead) => {
          pages.forEach((page, at) => {
            if (!isZeroPage(page, zeroPage)) return;
            const bit = pfns[at]! - cycle.startPfn;
            cycle.keep[bit >>> 3]! &= ~(1 << (bit & 7));
            excluded.zero++;
          });
          meter.advance(0, bytesRead);
        });
      }
      for (let bit = 0; bit < cycle.endPfn - cycle.startPfn; bit++) {
        if (!isKept(cycle.keep, bit)) continue;
        const start = (cycle.startPfn + bit) * pageSize;
        const last = runs[runs.length - 1];
        if (last && last.load === index && last.end === start) last.end = start + pageSize;
        else runs.push({ load: index, start, end: start + pageSize });
      }
      // Too many segments: keep the shortest gaps in the data, doubling the threshold.
      while (runs.length > runBudget) {
        thresholdPages *= 2;
        runs = mergeRuns(runs, thresholdPages * pageSize);
      }
      meter.advance((cycle.endPfn - cycle.startPfn) * pageSize, 0);
    }
    for (const [reason, count] of Object.entries(filter.counts) as [keyof ExclusionCounts, number][]) excluded[reason] += count;
  }
  meter.finishPhase();

  // The program headers, from the runs.
  const phdrs: { paddr: number; vaddr: bigint; filesz: number; memsz: number; flags: number; align: bigint }[] = [];
  let runIndex = 0;
  loads.forEach((load, index) => {
    const loadEnd = load.paddr + load.memsz;
    const own: DataRun[] = [];
    while (runIndex < runs.length && runs[runIndex]!.load === index) own.push(runs[runIndex++]!);
    const vaddrOf = (paddr: number): bigint => load.vaddr + BigInt(paddr - load.paddr);
    if (own.length === 0) {
      phdrs.push({ paddr: load.paddr, vaddr: load.vaddr, filesz: 0, memsz: load.memsz, flags: load.flags, align: load.align });
      return;
    }
    const head = own[0]!;
    if (head.start > load.paddr) {
      if (head.start - load.paddr < thresholdPages * pageSize) head.start = load.paddr;
      else phdrs.push({ paddr: load.paddr, vaddr: load.vaddr, filesz: 0, memsz: head.start - load.paddr, flags: load.flags, align: load.align });
    }
    own.forEach((run, at) => {
      const next = own[at + 1]?.start ?? loadEnd;
      phdrs.push({ paddr: run.start, vaddr: vaddrOf(run.start), filesz: run.end - run.start, memsz: next - run.start, flags: load.flags, align: load.align });
    });
  });

  // The headers and the notes.
  const phnum = phdrs.length + 1;
  const noteOffset = elf64HeaderLayout.sizeBytes + phnum * elf64ProgramHeaderLayout.sizeBytes;
  const dataStart = noteOffset + context.noteBytes.length;
  const header = new Uint8Array(dataStart);
  const ident = new Uint8Array(16);
  ident.set([0x7f, 0x45, 0x4c, 0x46, ELFCLASS64, ELFDATA2LSB, EV_CURRENT]);
  elf64HeaderLayout.write(header, {
    e_ident: ident,
    e_type: ET_CORE,
    e_machine: EM_BY_MACHINE[vmcore.machineName] ?? 0,
    e_version: EV_CURRENT,
    e_entry: 0n,
    e_phoff: BigInt(elf64HeaderLayout.sizeBytes),
    e_shoff: 0n,
    e_flags: 0,
    e_ehsize: elf64HeaderLayout.sizeBytes,
    e_phentsize: elf64ProgramHeaderLayout.sizeBytes,
    e_phnum: phnum,
    e_shentsize: 0,
    e_shnum: 0,
    e_shstrndx: 0,
  });
  let at = elf64HeaderLayout.sizeBytes;
  elf64ProgramHeaderLayout.write(header, { p_type: PT_NOTE, p_flags: 0, p_offset: BigInt(noteOffset), p_vaddr: 0n, p_paddr: 0n, p_filesz: BigInt(context.noteBytes.length), p_memsz: BigInt(context.noteBytes.length), p_align: 0n }, at);
  at += elf64ProgramHeaderLayout.sizeBytes;
  let fileOffset = dataStart;
  for (const phdr of phdrs) {
    elf64ProgramHeaderLayout.write(
      header,
      {
        p_type: PT_LOAD,
        p_flags: phdr.flags,
        // A segment without data has no file offset (makedumpfile writes 0 there too).
        p_offset: phdr.filesz > 0 ? BigInt(fileOffset) : 0n,
        p_vaddr: phdr.vaddr,
        p_paddr: BigInt(phdr.paddr),
        p_filesz: BigInt(phdr.filesz),
        p_memsz: BigInt(phdr.memsz),
        p_align: phdr.align,
      },
      at,
    );
    at += elf64ProgramHeaderLayout.sizeBytes;
    fileOffset += phdr.filesz;
  }
  header.set(context.noteBytes, noteOffset);
  await sink.write(0, header);

  // Pass 2: the segments' bytes, front to back.
  meter.startPhase('write');
  const data = new RegionWriter(sink, dataStart, COPY_CHUNK_BYTES);
  const chunk = new Uint8Array(COPY_CHUNK_BYTES);
  let pagesWritten = 0;
  for (const phdr of phdrs) {
    for (let offset = 0; offset < phdr.filesz; offset += COPY_CHUNK_BYTES) {
      const length = Math.min(COPY_CHUNK_BYTES, phdr.filesz - offset);
      const bytes = await readOrZero(context, phdr.paddr + offset, length, chunk);
      await data.append(bytes);
      meter.advance(length, length);
    }
    pagesWritten += Math.ceil(phdr.filesz / pageSize);
  }
  await data.flush();
  meter.finishPhase();
  return { segments: phdrs.length, pagesWritten, splitThresholdPages: thresholdPages, excluded };
}

/** Physical bytes; a page the source does not hold (merged into a segment) reads as zeros. */
async function readOrZero(context: DumpContext, paddr: number, length: number, buffer: Uint8Array): Promise<Uint8Array> {
  const { vmcore, pageSize } = context;
  if (vmcore.format === 'elf') return vmcore.readPhysical(paddr, length, buffer);
  const target = buffer.subarray(0, length);
  for (let done = 0; done < length; ) {
    const at = paddr + done;
    const count = Math.min(length - done, pageSize - (at % pageSize));
    if (vmcore.hasPage(Math.floor(at / pageSize))) await vmcore.readPhysical(at, count, target.subarray(done, done + count));
    else target.fill(0, done, done + count);
    done += count;
  }
  return target;
}
