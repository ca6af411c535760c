import { ErrorCode, ParseError } from '../../errors.js';
import type { VirtualMemory } from '../vmcore/x86-64.js';
import { missingVmcoreinfo, requireNumber, requireOffset, type Vmcoreinfo } from '../vmcore/vmcoreinfo.js';
import type { MemMap } from './mem-map.js';

// Dump levels: which pages to leave out, decided from each page's struct page, by the rules of
// makedumpfile's __exclude_unnecessary_pages() (makedumpfile.c), so that for a given vmcore
// and level we keep exactly the pages makedumpfile keeps. Bits of the level (makedumpfile -d):

export const DL_EXCLUDE_ZERO = 0x01;
/** Page cache pages without private data (PG_lru or swap cache, not anonymous, no PG_private). */
export const DL_EXCLUDE_CACHE = 0x02;
/** All page cache pages, private or not. */
export const DL_EXCLUDE_CACHE_PRI = 0x04;
/** Anonymous (user process) pages and hugetlbfs pages. */
export const DL_EXCLUDE_USER_DATA = 0x08;
/** Free pages: buddy pages (and unaccepted memory). */
export const DL_EXCLUDE_FREE = 0x10;
export const MAX_DUMP_LEVEL = 31;

/** Pages left out, by reason, as makedumpfile reports them. */
export interface ExclusionCounts {
  zero: number;
  cache: number;
  cachePrivate: number;
  user: number;
  free: number;
  hwpoison: number;
  offline: number;
}

export function emptyCounts(): ExclusionCounts {
  return { zero: 0, cache: 0, cachePrivate: 0, user: 0, free: 0, hwpoison: 0, offline: 0 };
}

/** What each struct-page bit of the dump level leaves out, for notes and messages. */
export const DUMP_LEVEL_RULES: Readonly<Record<number, string>> = {
  [DL_EXCLUDE_CACHE]: 'page cache pages (2)',
  [DL_EXCLUDE_CACHE_PRI]: 'page cache pages with private data (4)',
  [DL_EXCLUDE_USER_DATA]: 'user data pages (8)',
  [DL_EXCLUDE_FREE]: 'free pages (16)',
};
const STRUCT_PAGE_BITS = DL_EXCLUDE_CACHE | DL_EXCLUDE_CACHE_PRI | DL_EXCLUDE_USER_DATA | DL_EXCLUDE_FREE;

/** A dump-level exclusion this dump could not decide for its kernel: the pages it would judge are kept. */
export interface UnappliedExclusion {
  /** The bit of the dump level (2, 4, 8 or 16), or 0 for the pages makedumpfile leaves out at every level (hwpoison). */
  readonly dumpLevelBit: number;
  readonly rule: string;
  readonly reason: string;
}

/**
 * Which of the requested exclusions a dump applies. A dump is never lost for the sake of a
 * filter: a rule that needs what the crashed kernel did not export (a page flag that newer
 * kernels dropped, the mem_map) is left out and said so, and its pages are kept.
 */
export interface ExclusionPlan {
  readonly requestedLevel: number;
  /** The level whose rules are applied: the requested one without the bits in notApplied. */
  readonly appliedLevel: number;
  readonly notApplied: readonly UnappliedExclusion[];
  /** Whether struct pages are read at all (never at level 0). */
  readonly scansStructPages: boolean;
}

/**
 * Decides, once per dump, which exclusions can be applied. `memMapProblem` says why the struct
 * pages could not be found, when they could not.
 */
export function planExclusions(info: Vmcoreinfo, dumpLevel: number, memMapProblem?: string): ExclusionPlan {
  if (!Number.isInteger(dumpLevel) || dumpLevel < 0 || dumpLevel > MAX_DUMP_LEVEL) {
    throw new ParseError(ErrorCode.FORMAT_INVALID, 'dump level', `dump level ${dumpLevel} is not 0-${MAX_DUMP_LEVEL}`, { field: 'dumpLevel' });
  }
  const notApplied: UnappliedExclusion[] = [];
  const drop = (bits: number, reason: string): void => {
    for (const bit of [DL_EXCLUDE_CACHE, DL_EXCLUDE_CACHE_PRI, DL_EXCLUDE_USER_DATA, DL_EXCLUDE_FREE]) {
      if ((bits & bit) !== 0 && (dumpLevel & bit) !== 0 && !notApplied.some((entry) => entry.dumpLevelBit === bit)) {
        notApplied.push({ dumpLevelBit: bit, rule: DUMP_LEVEL_RULES[bit]!, reason });
      }
    }
  };
  // Level 0 keeps every page: nothing about struct pages can matter, so none is read.
  const wantsHwpoison = dumpLevel !== 0 && info.numbers.PG_hwpoison !== undefined;
  const wantsStructPages = (dumpLevel & STRUCT_PAGE_BITS) !== 0 || wantsHwpoison;
  const problem = !wantsStructPages ? undefined : memMapProblem ?? layoutProblem(info);
  if (problem !== undefined) {
    drop(STRUCT_PAGE_BITS, problem);
    if (wantsHwpoison) notApplied.push({ dumpLevelBit: 0, rule: 'hardware-poisoned pages', reason: problem });
  } else if (wantsStructPages) {
    const slab = slabProblem(info);
    // Slab pages reuse the fields the anon and buddy tests read: without telling slab apart,
    // those tests could drop kernel memory.
    if (slab !== undefined) drop(DL_EXCLUDE_USER_DATA | DL_EXCLUDE_FREE, slab);
    const buddy = buddyProblem(info);
    if (buddy !== undefined) drop(DL_EXCLUDE_FREE, buddy);
  }
  const appliedLevel = notApplied.reduce((level, entry) => level & ~entry.dumpLevelBit, dumpLevel);
  const scansStructPages = problem === undefined && ((appliedLevel & STRUCT_PAGE_BITS) !== 0 || wantsHwpoison);
  return { requestedLevel: dumpLevel, appliedLevel, notApplied, scansStructPages };
}

/**
 * The note a dump carries when exclusions were left out, so the dump itself says so: owner
 * KEXEC_TS_NOTE_NAME, type NT_KEXEC_TS_UNAPPLIED, the describeUnapplied() lines as text. Readers
 * skip notes they do not know (crash, makedumpfile, vmcore-dmesg do).
 */
export const KEXEC_TS_NOTE_NAME = 'KEXEC-TS';
export const NT_KEXEC_TS_UNAPPLIED = 1;

/** One line per exclusion left out, for the command's output and the log beside the dump. */
export function describeUnapplied(notApplied: readonly UnappliedExclusion[]): string[] {
  return notApplied.map((entry) => `${entry.rule} were kept, not left out: ${entry.reason}`);
}

/** The kernel release as a comparable number (major << 16 | minor << 8 | patch), like KERNEL_VERSION(). */
export function kernelVersion(osrelease: string | undefined): number | undefined {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(osrelease ?? '');
  if (!match) return undefined;
  return (Number(match[1]) << 16) | (Number(match[2]) << 8) | Math.min(255, Number(match[3] ?? 0));
}
const KERNEL_4_4 = (4 << 16) | (4 << 8);
const KERNEL_4_16 = (4 << 16) | (16 << 8);

/** struct pages read per makedumpfile cache fill: a head at the last slot has its order ignored. */
const PGMM_CACHED = 512;
const NOT_FOUND = undefined;

function toInt32(value: bigint | undefined): number | undefined {
  return value === undefined ? undefined : Number(BigInt.asIntN(32, value));
}

/** What a struct page scan needs, read once from VMCOREINFO. */
interface PageLayout {
  readonly size: number;
  readonly flags: number;
  readonly refcount: number;
  readonly mapping: number;
  readonly mapcount: number | undefined;
  readonly private: number | undefined;
  readonly compoundHead: number | undefined;
  /** Offset of the compound order in the page after the head (0: unknown, order taken as 0). */
  readonly orderOffset: number;
  readonly orderBytes: 1 | 2 | 8;
  readonly dtorOffset: number;
  readonly dtorBytes: 1 | 2 | 8;
  readonly pgLru: number;
  readonly pgPrivate: number;
  readonly pgSwapcache: number;
  readonly pgSwapbacked: number | undefined;
  readonly pgSlab: number | undefined;
  readonly pgHwpoison: number | undefined;
  readonly pgHugetlb: number | undefined;
  readonly headMask: bigint;
  readonly buddyMapcount: number | undefined;
  readonly offlineMapcount: number | undefined;
  readonly slabMapcount: number | undefined;
  readonly hugetlbMapcount: number | undefined;
  readonly unacceptedMapcount: number | undefined;
  readonly hugetlbDtor: bigint | undefined;
  readonly freeHugePage: bigint | undefined;
  readonly freeAreaLength: number | undefined;
}

export interface PageFilterOptions {
  /** What to apply (planExclusions): the filter follows its appliedLevel. */
  readonly plan: ExclusionPlan;
  readonly pageSize: number;
}

/**
 * Classifies the struct pages of one range of page frames at a time and clears, in a keep
 * bitmap, the frames the dump level leaves out. Ranges must come in increasing order: a block
 * that runs past the end of one (a high-order free page) is finished in the next.
 */
export class PageFilter {
  /** Whether this level reads struct pages at all (makedumpfile's create_2nd_bitmap() rule). */
  readonly scansStructPages: boolean;
  readonly counts = emptyCounts();
  private readonly layout: PageLayout | undefined;
  private readonly useBuddy: boolean;
  private pendingFrom = 0;
  private pendingTo = 0;
  private pendingCounter: keyof ExclusionCounts = 'free';

  constructor(
    private readonly memory: VirtualMemory,
    private readonly info: Vmcoreinfo,
    private readonly memMap: MemMap | undefined,
    private readonly options: PageFilterOptions,
  ) {
    const plan = options.plan;
    const numbers = info.numbers;
    // page_is_buddy_v3 needs PAGE_BUDDY_MAPCOUNT_VALUE with page._mapcount and page.private
    // (v2, PG_buddy, is for 2.6.17-2.6.37 and is not read here).
    this.useBuddy = buddyProblem(info) === undefined && numbers.PAGE_BUDDY_MAPCOUNT_VALUE !== undefined;
    this.scansStructPages = plan.scansStructPages && memMap !== undefined;
    this.layout = this.scansStructPages ? readLayout(info) : undefined;
  }

  /**
   * Clears, in `keep` (bit i = frame startPfn + i), the frames of [startPfn, endPfn) this level
   * leaves out because of their struct page. Zero pages are the writer's business.
   */
  async exclude(keep: Uint8Array, startPfn: number, endPfn: number): Promise<void> {
    if (!this.layout || !this.memMap) return;
    let next = startPfn;
    // A block begun in the previous range.
    if (this.pendingTo > startPfn) {
      const to = Math.min(this.pendingTo, endPfn);
      this.clearRange(keep, startPfn, Math.max(startPfn, this.pendingFrom), to, this.pendingCounter);
      next = to;
    }
    for (const section of this.memMap.sections) {
      if (section.endPfn <= next || section.startPfn >= endPfn) continue;
      const from = Math.max(next, section.startPfn);
      const to = Math.min(endPfn, section.endPfn);
      // One struct page past the range when the section has it, for a head's order.
      const readTo = Math.min(section.endPfn, to + 1);
      const structs = await this.memory.readVirtual(section.memMap + BigInt((from - section.startPfn) * this.layout.size), (readTo - from) * this.layout.size);
      next = this.scan(keep, startPfn, endPfn, from, to, readTo, new DataView(structs.buffer, structs.byteOffset, structs.byteLength));
    }
  }

  /** Scans [from, to) of one section; returns where the next section should start. */
  private scan(keep: Uint8Array, startPfn: number, endPfn: number, from: number, to: number, readTo: number, structs: DataView): number {
    const layout = this.layout!;
    const level = this.options.plan.appliedLevel;
    let pfn = from;
    while (pfn < to) {
      const bit = pfn - startPfn;
      // Holes (frames in no PT_LOAD) are not looked at: is_in_segs().
      if ((keep[bit >>> 3]! & (1 << (bit & 7))) === 0) {
        pfn++;
        continue;
      }
      const base = (pfn - from) * layout.size;
      const flagsLo = structs.getUint32(base + layout.flags, true);
      const flagsHi = structs.getUint32(base + layout.flags + 4, true);
      const flag = (nr: number): boolean => (nr < 32 ? (flagsLo >>> nr) & 1 : (flagsHi >>> (nr - 32)) & 1) === 1;
      const mapcount = layout.mapcount === undefined ? 0 : structs.getInt32(base + layout.mapcount, true);
      const mappingLo = structs.getUint32(base + layout.mapping, true);
      const privateValue = layout.private === undefined ? 0 : structs.getUint32(base + layout.private, true) + structs.getUint32(base + layout.private + 4, true) * 2 ** 32;
      const compoundHeadLo = layout.compoundHead === undefined ? 0 : structs.getUint32(base + layout.compoundHead, true);

      let order = 0;
      let hugetlb = false;
      const headMask = (BigInt(flagsHi) << 32n) | BigInt(flagsLo);
      if (pfn % PGMM_CACHED < PGMM_CACHED - 1 && (headMask & layout.headMask) !== 0n && pfn + 1 < readTo) {
        const next = base + layout.size;
        if (layout.hugetlbMapcount !== undefined || layout.pgHugetlb !== undefined) {
          // 6.6 and later: the order is the low byte of folio._flags_1 (the next page's flags).
          const flags1Lo = structs.getUint32(next + layout.flags, true);
          const flags1Hi = structs.getUint32(next + layout.flags + 4, true);
          order = flags1Lo & 0xff;
          if (layout.hugetlbMapcount !== undefined) hugetlb = mapcount === layout.hugetlbMapcount;
          else hugetlb = ((layout.pgHugetlb! < 32 ? flags1Lo >>> layout.pgHugetlb! : flags1Hi >>> (layout.pgHugetlb! - 32)) & 1) === 1;
        } else {
          if (layout.orderOffset) order = readSized(structs, next + layout.orderOffset, layout.orderBytes);
          if (layout.dtorOffset) {
            const dtor = BigInt(readSized(structs, next + layout.dtorOffset, layout.dtorBytes));
            hugetlb = (layout.hugetlbDtor !== undefined && dtor === layout.hugetlbDtor) || (layout.freeHugePage !== undefined && dtor === layout.freeHugePage);
          }
        }
        if (order >= 64 || pfn % 2 ** order !== 0) order = 0;
      }
      let pages = 2 ** order;

      const isSlab = (layout.slabMapcount !== undefined && mapcount === layout.slabMapcount) || (layout.pgSlab !== undefined && flag(layout.pgSlab));
      const isAnon = (mappingLo & 1) === 1 && !isSlab;
      const isCache = flag(layout.pgLru) || ((layout.pgSwapbacked === undefined || flag(layout.pgSwapbacked)) && flag(layout.pgSwapcache));
      const isPrivate = flag(layout.pgPrivate);
      let reason: keyof ExclusionCounts | undefined;

      if ((compoundHeadLo & 1) === 1) {
        // A tail page: excluded (or not) with its head.
        pfn++;
        continue;
      } else if ((level & DL_EXCLUDE_FREE) && this.useBuddy && !isSlab && mapcount === layout.buddyMapcount) {
        if (layout.freeAreaLength !== undefined && privateValue >= layout.freeAreaLength) {
          // makedumpfile warns "Invalid free page order" and keeps the page.
          pfn++;
          continue;
        }
        pages = 2 ** privateValue;
        reason = 'free';
      } else if ((level & DL_EXCLUDE_FREE) && layout.unacceptedMapcount !== undefined && mapcount === layout.unacceptedMapcount) {
        pages = 2 ** Math.max(0, (layout.freeAreaLength ?? 1) - 1);
        reason = 'free';
      } else if ((level & DL_EXCLUDE_CACHE) && isCache && !isPrivate && !isAnon) {
        reason = 'cache';
      } else if ((level & DL_EXCLUDE_CACHE_PRI) && isCache && !isAnon) {
        reason = isPrivate ? 'cachePrivate' : 'cache';
      } else if ((level & DL_EXCLUDE_USER_DATA) && (isAnon || hugetlb)) {
        reason = 'user';
      } else if (layout.pgHwpoison !== undefined && flag(layout.pgHwpoison)) {
        reason = 'hwpoison';
      } else if (layout.offlineMapcount !== undefined && !isSlab && mapcount === layout.offlineMapcount) {
        reason = 'offline';
      }
      if (!reason) {
        pfn++;
        continue;
      }
      if (pages === 1) {
        this.clearRange(keep, startPfn, pfn, pfn + 1, reason);
        pfn++;
        continue;
      }
      const blockEnd = pfn + pages;
      this.clearRange(keep, startPfn, pfn, Math.min(blockEnd, endPfn), reason);
      if (blockEnd > endPfn) {
        this.pendingFrom = endPfn;
        this.pendingTo = blockEnd;
        this.pendingCounter = reason;
      }
      pfn = blockEnd;
    }
    return pfn;
  }

  private clearRange(keep: Uint8Array, startPfn: number, from: number, to: number, reason: keyof ExclusionCounts): void {
    for (let pfn = from; pfn < to; pfn++) {
      const bit = pfn - startPfn;
      const mask = 1 << (bit & 7);
      const index = bit >>> 3;
      if (keep[index]! & mask) {
        keep[index]! &= ~mask;
        this.counts[reason]++;
      }
    }
  }
}

function readSized(view: DataView, offset: number, bytes: 1 | 2 | 8): number {
  if (bytes === 1) return view.getUint8(offset);
  if (bytes === 2) return view.getUint16(offset, true);
  return Number(BigInt.asUintN(53, view.getBigUint64(offset, true)));
}

/**
 * What makedumpfile takes for PG_slab when the kernel does not export it (get_value_for_old_linux).
 * On 6.10+ slab is a page type and bit 7 is PG_waiters: a page someone waits on is then never
 * judged free, offline or anonymous. It only keeps more, and it is what makedumpfile keeps.
 */
const PG_SLAB_WHEN_NOT_EXPORTED = 7;

const CLASSIFYING = 'classifying pages by their struct page (dump levels 2-16)';
/** What readLayout needs and cannot do without. */
const REQUIRED_FOR_LAYOUT = { sizes: ['page'], offsets: ['page.flags', 'page.mapping'], numbers: ['PG_lru', 'PG_private', 'PG_swapcache'] } as const;

/** Why struct pages cannot be classified in this dump at all, or undefined when they can. */
function layoutProblem(info: Vmcoreinfo): string | undefined {
  const missing = [
    ...REQUIRED_FOR_LAYOUT.sizes.filter((name) => info.sizes[name] === undefined).map((name) => `SIZE(${name})`),
    ...REQUIRED_FOR_LAYOUT.offsets.filter((name) => info.offsets[name] === undefined).map((name) => `OFFSET(${name})`),
    ...REQUIRED_FOR_LAYOUT.numbers.filter((name) => info.numbers[name] === undefined).map((name) => `NUMBER(${name})`),
    ...(info.numbers.PG_head_mask === undefined && info.numbers.PG_head === undefined ? ['NUMBER(PG_head_mask)'] : []),
  ];
  if (missing.length > 0) return `${CLASSIFYING} needs ${missing.join(', ')}, which the crashed kernel did not export`;
  try {
    readLayout(info);
  } catch (error) {
    if (error instanceof ParseError) return error.message;
    throw error;
  }
  return undefined;
}

/** Why slab pages cannot be told apart, or undefined when they can (a page flag, or a page type since 6.10). */
function slabProblem(info: Vmcoreinfo): string | undefined {
  if (info.numbers.PG_slab !== undefined || info.numbers.PAGE_SLAB_MAPCOUNT_VALUE !== undefined) return undefined;
  return 'telling slab pages apart needs NUMBER(PG_slab) or NUMBER(PAGE_SLAB_MAPCOUNT_VALUE), and the crashed kernel exported neither';
}

/** Why free (buddy) pages cannot be found, or undefined when they can. */
function buddyProblem(info: Vmcoreinfo): string | undefined {
  const missing = [
    ...(info.numbers.PAGE_BUDDY_MAPCOUNT_VALUE === undefined ? ['NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)'] : []),
    ...(info.offsets['page._mapcount'] === undefined ? ['OFFSET(page._mapcount)'] : []),
    ...(info.offsets['page.private'] === undefined ? ['OFFSET(page.private)'] : []),
  ];
  // makedumpfile then walks the zones' free lists; that older way is not implemented.
  return missing.length === 0 ? undefined : `finding free pages needs ${missing.join(', ')}, which the crashed kernel did not export`;
}

function readLayout(info: Vmcoreinfo): PageLayout {
  const what = CLASSIFYING;
  const offsets = info.offsets;
  const numbers = info.numbers;
  const version = kernelVersion(info.osrelease) ?? 0;
  const size = info.sizes.page;
  if (size === undefined) throw missingVmcoreinfo('SIZE(page)', what);
  // Linux 6.3 moved the order and destructor into struct folio (its second page).
  let orderOffset = 0;
  let dtorOffset = 0;
  if (offsets['folio._folio_order'] !== undefined) orderOffset = offsets['folio._folio_order'] - size;
  else if (offsets['page.compound_order'] !== undefined) orderOffset = offsets['page.compound_order'];
  else if (version < KERNEL_4_4 && offsets['page.lru'] !== undefined) orderOffset = offsets['page.lru'] + (offsets['list_head.prev'] ?? 8);
  if (offsets['folio._folio_dtor'] !== undefined) dtorOffset = offsets['folio._folio_dtor'] - size;
  else if (offsets['page.compound_dtor'] !== undefined) dtorOffset = offsets['page.compound_dtor'];
  else if (version < KERNEL_4_4 && offsets['page.lru'] !== undefined) dtorOffset = offsets['page.lru'] + (offsets['list_head.next'] ?? 0);
  const fieldBytes = version >= KERNEL_4_16 ? 1 : version >= KERNEL_4_4 ? 2 : 8;
  const numberOf = (name: string): number | undefined => toInt32(numbers[name]);
  const pgBit = (name: string): number => {
    const value = Number(requireNumber(info, name, what));
    if (value < 0 || value > 63) throw new ParseError(ErrorCode.FORMAT_INVALID, 'VMCOREINFO', `NUMBER(${name}) is ${value}, not a page flag bit`, { field: `NUMBER(${name})` });
    return value;
  };
  const optionalBit = (name: string): number | undefined => (numbers[name] === undefined ? NOT_FOUND : pgBit(name));
  const headMask = numbers.PG_head_mask ?? (numbers.PG_head !== undefined ? 1n << numbers.PG_head : undefined);
  if (headMask === undefined) throw missingVmcoreinfo('NUMBER(PG_head_mask)', what);
  return {
    size,
    flags: requireOffset(info, 'page.flags', what),
    refcount: offsets['page._refcount'] ?? offsets['page._count'] ?? 0,
    mapping: requireOffset(info, 'page.mapping', what),
    mapcount: offsets['page._mapcount'],
    private: offsets['page.private'],
    // Linux 7.1 renamed page.compound_head to page.compound_info (bit 0 still marks a tail; the
    // rest became a head pointer or a mask). Only the tail bit is read here.
    compoundHead: offsets['page.compound_head'] ?? offsets['page.compound_info'],
    orderOffset,
    orderBytes: fieldBytes,
    dtorOffset,
    dtorBytes: fieldBytes,
    pgLru: pgBit('PG_lru'),
    pgPrivate: pgBit('PG_private'),
    pgSwapcache: pgBit('PG_swapcache'),
    pgSwapbacked: optionalBit('PG_swapbacked'),
    pgSlab: optionalBit('PG_slab') ?? (numbers.PAGE_SLAB_MAPCOUNT_VALUE !== undefined ? PG_SLAB_WHEN_NOT_EXPORTED : undefined),
    pgHwpoison: optionalBit('PG_hwpoison'),
    pgHugetlb: optionalBit('PG_hugetlb'),
    headMask: BigInt.asUintN(64, headMask),
    buddyMapcount: numberOf('PAGE_BUDDY_MAPCOUNT_VALUE'),
    offlineMapcount: numberOf('PAGE_OFFLINE_MAPCOUNT_VALUE'),
    slabMapcount: numberOf('PAGE_SLAB_MAPCOUNT_VALUE'),
    hugetlbMapcount: numberOf('PAGE_HUGETLB_MAPCOUNT_VALUE'),
    unacceptedMapcount: numberOf('PAGE_UNACCEPTED_MAPCOUNT_VALUE'),
    hugetlbDtor: numbers.HUGETLB_PAGE_DTOR,
    freeHugePage: info.symbols.free_huge_page,
    freeAreaLength: info.lengths['zone.free_area'],
  };
}
