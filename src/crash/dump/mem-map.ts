import { ErrorCode, ParseError } from '../../errors.js';
import type { VirtualMemory } from '../vmcore/x86-64.js';
import { requireOffset, requireSize, requireSymbol, type Vmcoreinfo } from '../vmcore/vmcoreinfo.js';

// Where each page frame's struct page is: SPARSEMEM (include/linux/mmzone.h), the only memory
// model of x86_64. mem_section[] holds, per section of 2^(SECTION_SIZE_BITS - PAGE_SHIFT)
// pages, section_mem_map: the address of the section's first struct page minus the section's
// first pfn times sizeof(struct page) (sparse_encode_mem_map()), with flags in the low bits.
// With SPARSEMEM_EXTREME mem_section is an array of pointers to pages of mem_section structs.

const FORMAT = 'mem_section';
const WHAT = 'finding the struct pages (dump levels 2-16)';
const SECTION_MARKED_PRESENT = 1n;
/** The flag bits below the encoded mem_map (SECTION_MAP_LAST_BIT is 1 << 5 since 4.13; makedumpfile masks these for every kernel). */
const SECTION_MAP_MASK = ~((1n << 5n) - 1n);
/** x86_64 defaults where VMCOREINFO lacks them (arch/x86/include/asm/sparsemem.h). */
const X86_64_SECTION_SIZE_BITS = 27;
const X86_64_MAX_PHYSMEM_BITS = 46;
const KERNEL_SPACE_START = 0xffff800000000000n;

export interface MemMapSection {
  readonly startPfn: number;
  readonly endPfn: number;
  /** Virtual address of the struct page of startPfn. */
  readonly memMap: bigint;
}

export interface MemMap {
  readonly pageStructSize: number;
  readonly pagesPerSection: number;
  /** Present sections only, in pfn order, clipped to maxPfn. */
  readonly sections: readonly MemMapSection[];
  /** makedumpfile's max_mapnr after get_mem_map(): no larger than the last present section. */
  readonly maxPfn: number;
}

function readU64(bytes: Uint8Array, offset: number): bigint {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(offset, true);
}

/** Whether VMCOREINFO says enough to find struct pages. */
export function canFindStructPages(info: Vmcoreinfo): boolean {
  return info.symbols.mem_section !== undefined && info.sizes.page !== undefined && info.sizes.mem_section !== undefined;
}

export async function readMemMap(memory: VirtualMemory, info: Vmcoreinfo, pageSize: number, maxPfn: number): Promise<MemMap> {
  const pageStructSize = requireSize(info, 'page', WHAT);
  const sectionSize = requireSize(info, 'mem_section', WHAT);
  const mapOffset = requireOffset(info, 'mem_section.section_mem_map', WHAT);
  const pageShift = Math.log2(pageSize);
  const sectionSizeBits = Number(info.numbers.SECTION_SIZE_BITS ?? BigInt(X86_64_SECTION_SIZE_BITS));
  const maxPhysmemBits = Number(info.numbers.MAX_PHYSMEM_BITS ?? BigInt(X86_64_MAX_PHYSMEM_BITS));
  if (sectionSizeBits <= pageShift || sectionSizeBits > 40 || maxPhysmemBits < sectionSizeBits || maxPhysmemBits > 64) {
    throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, `SECTION_SIZE_BITS ${sectionSizeBits} with MAX_PHYSMEM_BITS ${maxPhysmemBits}`, { field: 'SECTION_SIZE_BITS' });
  }
  const pagesPerSection = 2 ** (sectionSizeBits - pageShift);
  const sectionCount = Math.ceil(maxPfn / pagesPerSection);
  const totalSections = 2 ** (maxPhysmemBits - sectionSizeBits);
  const sectionsPerRoot = Math.floor(pageSize / sectionSize);
  // makedumpfile's is_sparsemem_extreme(): LENGTH(mem_section) is the number of roots.
  const extreme = info.lengths.mem_section === undefined || info.lengths.mem_section === Math.ceil(totalSections / sectionsPerRoot);
  const symbol = requireSymbol(info, 'mem_section', WHAT);

  const decode = async (rootsAddress: bigint): Promise<(bigint | undefined)[] | undefined> => {
    const maps: (bigint | undefined)[] = [];
    let anyPresent = false;
    let roots: Uint8Array | undefined;
    if (extreme) roots = await memory.readVirtual(rootsAddress, Math.ceil(sectionCount / sectionsPerRoot) * 8);
    let rootBytes: Uint8Array | undefined;
    let rootIndex = -1;
    for (let section = 0; section < sectionCount; section++) {
      if (roots) {
        const root = Math.floor(section / sectionsPerRoot);
        const pointer = readU64(roots, root * 8);
        if (pointer === 0n) {
          maps.push(undefined);
          continue;
        }
        if (pointer < KERNEL_SPACE_START) return undefined;
        if (root !== rootIndex) {
          rootBytes = await memory.readVirtual(pointer, sectionsPerRoot * sectionSize);
          rootIndex = root;
        }
        const encoded = readU64(rootBytes!, (section % sectionsPerRoot) * sectionSize + mapOffset);
        const decoded = decodeEntry(encoded, section);
        if (decoded === null) return undefined;
        if (decoded !== undefined) anyPresent = true;
        maps.push(decoded);
        continue;
      }
      const entryAddress = rootsAddress + BigInt(section * sectionSize + mapOffset);
      const decoded = decodeEntry(readU64(await memory.readVirtual(entryAddress, 8), 0), section);
      if (decoded === null) return undefined;
      if (decoded !== undefined) anyPresent = true;
      maps.push(decoded);
    }
    return anyPresent ? maps : undefined;
  };
  /** undefined: no memory there; null: not a struct page address (wrong guess at the root). */
  const decodeEntry = (encoded: bigint, section: number): bigint | undefined | null => {
    if ((encoded & SECTION_MARKED_PRESENT) === 0n) return undefined;
    const memMap = BigInt.asUintN(64, (encoded & SECTION_MAP_MASK) + BigInt(section * pagesPerSection) * BigInt(pageStructSize));
    return memMap >= KERNEL_SPACE_START ? memMap : null;
  };

  // VMCOREINFO has the root array's address; older ways of reading a vmlinux give the pointer
  // to it. makedumpfile tries the first, then the second: so do we.
  let maps = await decode(symbol);
  if (!maps && extreme) maps = await decode(readU64(await memory.readVirtual(symbol, 8), 0));
  if (!maps) throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, `no present section with a struct page address under SYMBOL(mem_section) 0x${symbol.toString(16)}`, { field: 'SYMBOL(mem_section)' });

  const sections: MemMapSection[] = [];
  let lastEnd = 0;
  maps.forEach((memMap, section) => {
    if (memMap === undefined) return;
    const startPfn = section * pagesPerSection;
    const endPfn = Math.min(startPfn + pagesPerSection, maxPfn);
    sections.push({ startPfn, endPfn, memMap });
    lastEnd = Math.max(lastEnd, endPfn);
  });
  return { pageStructSize, pagesPerSection, sections, maxPfn: sections.length > 0 ? Math.min(maxPfn, lastEnd) : maxPfn };
}
