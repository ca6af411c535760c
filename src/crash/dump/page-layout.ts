import { ErrorCode, ParseError } from '../../errors.js';
import { missingVmcoreinfo, requireNumber, requireOffset, type Vmcoreinfo } from '../vmcore/vmcoreinfo.js';

// The struct page fields and flag bits a dump level reads, from VMCOREINFO, for the kernel that
// crashed: where each lived in each era (6.3 moved the order into struct folio, 6.6 into
// folio._flags_1, 7.1 renamed compound_head), read once per dump.

/** The kernel release as a comparable number (major << 16 | minor << 8 | patch), like KERNEL_VERSION(). */
export function kernelVersion(osrelease: string | undefined): number | undefined {
  const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(osrelease ?? '');
  if (!match) return undefined;
  return (Number(match[1]) << 16) | (Number(match[2]) << 8) | Math.min(255, Number(match[3] ?? 0));
}
const KERNEL_4_4 = (4 << 16) | (4 << 8);
const KERNEL_4_16 = (4 << 16) | (16 << 8);

const NOT_FOUND = undefined;

function toInt32(value: bigint | undefined): number | undefined {
  return value === undefined ? undefined : Number(BigInt.asIntN(32, value));
}

/** What a struct page scan needs, read once from VMCOREINFO. */
export interface PageLayout {
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

/**
 * What makedumpfile takes for PG_slab when the kernel does not export it (get_value_for_old_linux).
 * On 6.10+ slab is a page type and bit 7 is PG_waiters: a page someone waits on is then never
 * judged free, offline or anonymous. It only keeps more, and it is what makedumpfile keeps.
 */
const PG_SLAB_WHEN_NOT_EXPORTED = 7;

const CLASSIFYING = 'classifying pages by their struct page (dump levels 2-16)';

export function readLayout(info: Vmcoreinfo): PageLayout {
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
