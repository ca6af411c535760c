import { ErrorCode, ParseError } from '../../errors.js';
import type { Vmcoreinfo } from '../vmcore/vmcoreinfo.js';
import { readLayout } from './page-layout.js';

// Dump levels: which pages to leave out (the bits of makedumpfile -d), and which of those rules a
// dump can apply for the kernel that crashed (planExclusions); page-filter.ts applies them to
// each page's struct page. Bits of the level:

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

/** Why struct pages cannot be classified in this dump at all (readLayout's own refusal), or undefined when they can. */
export function layoutProblem(info: Vmcoreinfo): string | undefined {
  try {
    readLayout(info);
    return undefined;
  } catch (error) {
    if (error instanceof ParseError) return error.message;
    throw error;
  }
}

/** Why slab pages cannot be told apart, or undefined when they can (a page flag, or a page type since 6.10). */
export function slabProblem(info: Vmcoreinfo): string | undefined {
  if (info.numbers.PG_slab !== undefined || info.numbers.PAGE_SLAB_MAPCOUNT_VALUE !== undefined) return undefined;
  return 'telling slab pages apart needs NUMBER(PG_slab) or NUMBER(PAGE_SLAB_MAPCOUNT_VALUE), and the crashed kernel exported neither';
}

/** Why free (buddy) pages cannot be found, or undefined when they can. */
export function buddyProblem(info: Vmcoreinfo): string | undefined {
  const missing = [
    ...(info.numbers.PAGE_BUDDY_MAPCOUNT_VALUE === undefined ? ['NUMBER(PAGE_BUDDY_MAPCOUNT_VALUE)'] : []),
    ...(info.offsets['page._mapcount'] === undefined ? ['OFFSET(page._mapcount)'] : []),
    ...(info.offsets['page.private'] === undefined ? ['OFFSET(page.private)'] : []),
  ];
  // makedumpfile then walks the zones' free lists; that older way is not implemented.
  return missing.length === 0 ? undefined : `finding free pages needs ${missing.join(', ')}, which the crashed kernel did not export`;
}
