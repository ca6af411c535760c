import type { VirtualMemory } from '../vmcore/x86-64.js';
import type { Vmcoreinfo } from '../vmcore/vmcoreinfo.js';
import { DL_EXCLUDE_CACHE, DL_EXCLUDE_CACHE_PRI, DL_EXCLUDE_FREE, DL_EXCLUDE_USER_DATA, buddyProblem, emptyCounts, type ExclusionCounts, type ExclusionPlan } from './dump-level.js';
import type { MemMap } from './mem-map.js';
import { readLayout, type PageLayout } from './page-layout.js';

// The page filter: each page's struct page judged by the rules of makedumpfile's
// __exclude_unnecessary_pages() (makedumpfile.c), so that for a given vmcore and level we keep
// exactly the pages makedumpfile keeps (dump-level.ts decides which rules apply).

/** struct pages read per makedumpfile cache fill: a head at the last slot has its order ignored. */
const PGMM_CACHED = 512;

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
    info: Vmcoreinfo,
    private readonly memMap: MemMap | undefined,
    private readonly options: PageFilterOptions,
  ) {
    const plan = options.plan;
    // page_is_buddy_v3 needs PAGE_BUDDY_MAPCOUNT_VALUE with page._mapcount and page.private
    // (v2, PG_buddy, is for 2.6.17-2.6.37 and is not read here).
    this.useBuddy = buddyProblem(info) === undefined;
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
