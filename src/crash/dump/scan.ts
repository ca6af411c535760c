import { CRASH_LIMITS } from '../../limits.js';
import type { Vmcore } from '../vmcore/vmcore.js';
import { x86_64Memory, type VirtualMemory } from '../vmcore/x86-64.js';
import { canFindStructPages, readMemMap, type MemMap } from './mem-map.js';
import { isKexecError } from '../../errors.js';
import { encodeElfNote } from '../../image/elf/notes.js';
import { DL_EXCLUDE_ZERO, KEXEC_TS_NOTE_NAME, NT_KEXEC_TS_UNAPPLIED, describeUnapplied, planExclusions, type ExclusionPlan } from './dump-level.js';
import { PageFilter } from './page-filter.js';

// What every writer shares: which page frames exist, which of them a dump level keeps, and
// reading the kept ones in large runs. Memory stays bounded: one cycle's bitmap (CRASH_LIMITS.
// pagesPerCycle bits) and one run of pages at a time, whatever the size of the dump.

/** Pages read in one go: 1 MiB of 4 KiB pages. */
export const READ_RUN_PAGES = 256;
/** Excluded pages read anyway to join two runs (one read instead of two). */
const RUN_JOIN_GAP_PAGES = 8;

export interface DumpContext {
  readonly vmcore: Vmcore;
  readonly memory: VirtualMemory | undefined;
  readonly pageSize: number;
  /** One past the last page frame written (makedumpfile's max_mapnr). */
  readonly maxPfn: number;
  readonly memMap: MemMap | undefined;
  /** What the dump level asks and what of it applies (`exclusions.appliedLevel`) to this kernel's dump. */
  readonly exclusions: ExclusionPlan;
  readonly cyclePages: number;
  /** The notes the dump carries: the vmcore's, and ours when exclusions were left out. */
  readonly noteBytes: Uint8Array;
}

export interface PrepareOptions {
  dumpLevel: number;
  /** Page frames per cycle (a multiple of 8); tests make it small to cross cycle edges. */
  cyclePages?: number;
}

export async function prepareDump(vmcore: Vmcore, options: PrepareOptions): Promise<DumpContext> {
  const memory = vmcore.machineName === 'x86_64' ? x86_64Memory(vmcore) : undefined;
  let memMap: MemMap | undefined;
  let maxPfn = vmcore.maxPfn;
  let memMapProblem: string | undefined;
  // makedumpfile reads the mem_map whenever it can, and lowers max_mapnr to its end. A mem_map
  // that cannot be read only costs the exclusions that need it, never the dump.
  if (!memory) memMapProblem = `finding struct pages is implemented for x86_64 dumps, not ${vmcore.machineName}`;
  else if (!canFindStructPages(vmcore.vmcoreinfo)) memMapProblem = 'finding struct pages needs SYMBOL(mem_section), SIZE(page) and SIZE(mem_section), which the crashed kernel did not export';
  else {
    try {
      memMap = await readMemMap(memory, vmcore.vmcoreinfo, vmcore.pageSize, vmcore.maxPfn);
      maxPfn = memMap.maxPfn;
    } catch (error) {
      if (!isKexecError(error)) throw error;
      memMapProblem = `the mem_map could not be read: ${error.message}`;
    }
  }
  const exclusions = planExclusions(vmcore.vmcoreinfo, options.dumpLevel, memMapProblem);
  const cyclePages = Math.max(8, Math.floor((options.cyclePages ?? CRASH_LIMITS.pagesPerCycle) / 8) * 8);
  return { vmcore, memory, pageSize: vmcore.pageSize, maxPfn, memMap, exclusions, cyclePages, noteBytes: dumpNotes(vmcore, exclusions) };
}

/** The vmcore's notes, plus a KEXEC-TS note naming what was not left out, when something was not. */
function dumpNotes(vmcore: Vmcore, exclusions: ExclusionPlan): Uint8Array {
  if (exclusions.notApplied.length === 0) return vmcore.noteBytes;
  const text = `dump level ${exclusions.requestedLevel} asked, ${exclusions.appliedLevel} applied:\n${describeUnapplied(exclusions.notApplied).join('\n')}\n`;
  return Buffer.concat([vmcore.noteBytes, encodeElfNote(KEXEC_TS_NOTE_NAME, NT_KEXEC_TS_UNAPPLIED, Buffer.from(text, 'utf8'))]);
}

export function createFilter(context: DumpContext): PageFilter {
  const memory = context.memory ?? {
    toPhysical: async () => 0,
    readVirtual: async () => new Uint8Array(0),
  };
  return new PageFilter(memory, context.vmcore.vmcoreinfo, context.memMap, { plan: context.exclusions, pageSize: context.pageSize });
}

export interface Cycle {
  readonly startPfn: number;
  readonly endPfn: number;
  /** Bit i: page frame startPfn + i is in the source dump. */
  readonly present: Uint8Array;
  /** Bit i: page frame startPfn + i is kept by the level's struct-page rules (zero pages not yet judged). */
  readonly keep: Uint8Array;
}

/**
 * The bitmaps of a first pass kept for the second, when they are small: they spare the second
 * pass the struct pages (one read of 1/64 of memory and the classification). Past the budget
 * (machines over 32 GiB) the second pass classifies again, so memory stays bounded.
 */
export class CycleCache {
  private readonly cycles: Cycle[] = [];
  private bytes = 0;
  private overflowed = false;

  constructor(private readonly maxBytes = 1024 * 1024) {}

  keep(cycle: Cycle): void {
    if (this.overflowed) return;
    this.bytes += cycle.keep.length + cycle.present.length;
    if (this.bytes > this.maxBytes) {
      this.overflowed = true;
      this.cycles.length = 0;
      return;
    }
    this.cycles.push({ startPfn: cycle.startPfn, endPfn: cycle.endPfn, present: cycle.present.slice(), keep: cycle.keep.slice() });
  }

  /** The cycles of a completed first pass, or undefined when they did not fit. */
  get complete(): readonly Cycle[] | undefined {
    return this.overflowed ? undefined : this.cycles;
  }
}

/** The cycles of [fromPfn, toPfn) in order, each with its keep bitmap (reused between cycles). */
export async function* cycles(context: DumpContext, filter: PageFilter, fromPfn = 0, toPfn = context.maxPfn): AsyncGenerator<Cycle> {
  const keepBitmap = new Uint8Array(context.cyclePages / 8);
  const presentBitmap = new Uint8Array(context.cyclePages / 8);
  for (let start = fromPfn; start < toPfn; start += context.cyclePages) {
    const end = Math.min(toPfn, start + context.cyclePages);
    const present = presentBitmap.subarray(0, Math.ceil((end - start) / 8));
    present.fill(0);
    context.vmcore.markPresent(present, start, end);
    const keep = keepBitmap.subarray(0, present.length);
    keep.set(present);
    await filter.exclude(keep, start, end);
    yield { startPfn: start, endPfn: end, present, keep };
  }
}

export function isKept(keep: Uint8Array, bit: number): boolean {
  return (keep[bit >>> 3]! & (1 << (bit & 7))) !== 0;
}

export function countKept(keep: Uint8Array, bits: number): number {
  let count = 0;
  for (let index = 0; index < keep.length; index++) {
    let byte = keep[index]!;
    if (index === keep.length - 1 && bits % 8 !== 0) byte &= (1 << (bits % 8)) - 1;
    while (byte !== 0) {
      byte &= byte - 1;
      count++;
    }
  }
  return count;
}

export function isZeroPage(page: Uint8Array, zeroPage: Uint8Array): boolean {
  return Buffer.compare(page, zeroPage) === 0;
}

export function excludesZeroPages(context: DumpContext): boolean {
  return (context.exclusions.appliedLevel & DL_EXCLUDE_ZERO) !== 0;
}

/**
 * Calls `onRun` for the kept page frames of a cycle in order, in runs of at most READ_RUN_PAGES
 * read with one call (short gaps of excluded frames are read and skipped). `pages[i]` is frame
 * `pfns[i]`; the bytes are only valid until `onRun` resolves.
 */
export async function forEachKeptRun(
  context: DumpContext,
  cycle: Cycle,
  buffer: Uint8Array,
  onRun: (pfns: readonly number[], pages: readonly Uint8Array[], bytesRead: number) => Promise<void>,
): Promise<void> {
  const { pageSize } = context;
  const total = cycle.endPfn - cycle.startPfn;
  // Reading an excluded page is cheap only in an ELF source (no decompression), and only a
  // page that is in the source can be read at all.
  const joinGaps = context.vmcore.format === 'elf';
  let bit = 0;
  while (bit < total) {
    // Skip whole zero bytes of the bitmap quickly.
    if ((bit & 7) === 0 && cycle.keep[bit >>> 3] === 0) {
      bit += 8;
      continue;
    }
    if (!isKept(cycle.keep, bit)) {
      bit++;
      continue;
    }
    const first = bit;
    let last = bit;
    let probe = bit + 1;
    while (probe < total && probe - first < READ_RUN_PAGES) {
      if (isKept(cycle.keep, probe)) last = probe;
      else if (!joinGaps || !isKept(cycle.present, probe) || probe - last > RUN_JOIN_GAP_PAGES) break;
      probe++;
    }
    const count = last - first + 1;
    const bytes = await context.vmcore.readPhysical((cycle.startPfn + first) * pageSize, count * pageSize, buffer);
    const pfns: number[] = [];
    const pages: Uint8Array[] = [];
    for (let index = first; index <= last; index++) {
      if (!isKept(cycle.keep, index)) continue;
      pfns.push(cycle.startPfn + index);
      pages.push(bytes.subarray((index - first) * pageSize, (index - first + 1) * pageSize));
    }
    await onRun(pfns, pages, count * pageSize);
    bit = last + 1;
  }
}
