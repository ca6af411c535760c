import { UnsupportedError } from '../../errors.js';
import { PageNotInDumpError } from './errors.js';
import type { Vmcore } from './vmcore.js';

// x86_64 kernel virtual addresses to physical ones, three ways, cheapest first
// (Documentation/arch/x86/x86_64/mm.rst for the layout):
//   1. the kernel image: __START_KERNEL_map + x  ->  x + phys_base;
//   2. the direct map, where a PT_LOAD says which virtual range it covers (/proc/vmcore does);
//   3. otherwise a walk of the kernel's page tables from init_top_pgt (vmemmap, vmalloc,
//      modules, and the direct map of a kdump-compressed dump, which has no PT_LOADs).

const FORMAT = 'x86_64 memory';
export const START_KERNEL_MAP = 0xffffffff80000000n;
/** Default KERNEL_IMAGE_SIZE with KASLR (arch/x86/include/asm/page_64_types.h). */
const DEFAULT_KERNEL_IMAGE_SIZE = 1024n * 1024n * 1024n;
const PAGE_SIZE = 4096;
const PTE_PRESENT = 1n;
const PTE_PSE = 1n << 7n;
/** Physical address bits 12..51 of a page-table entry (bit 63 is NX, 52..62 ignored/PKE). */
const PTE_PFN_MASK = 0x000ffffffffff000n;
/** Page-table pages kept: one walk touches up to five, and neighbouring addresses share them. */
const TABLE_CACHE_ENTRIES = 512;

export interface VirtualMemory {
  /** The physical address of a kernel virtual address; PageNotInDumpError when unmapped. */
  toPhysical(vaddr: bigint): Promise<number>;
  /** `length` bytes at a kernel virtual address, page by page. */
  readVirtual(vaddr: bigint, length: number, into?: Uint8Array): Promise<Uint8Array>;
}

interface DirectWindow {
  readonly vstart: bigint;
  readonly vend: bigint;
  readonly pstart: number;
}

export interface X86_64MemoryOptions {
  /** Translate the direct map through the PT_LOADs' virtual addresses (default true); false
   * forces the page-table walk, as for a dump without them. */
  directMapFromLoads?: boolean;
}

/** The translator for an x86_64 vmcore; UnsupportedError for other machines. */
export function x86_64Memory(vmcore: Vmcore, options: X86_64MemoryOptions = {}): VirtualMemory {
  if (vmcore.machineName !== 'x86_64') {
    throw new UnsupportedError(`reading kernel memory of a ${vmcore.machineName} dump: only x86_64 translation is implemented`, { platform: 'linux', arch: vmcore.machineName });
  }
  const info = vmcore.vmcoreinfo;
  const physBase = BigInt.asIntN(64, vmcore.physBase ?? 0n);
  const imageSize = info.numbers.KERNEL_IMAGE_SIZE !== undefined && info.numbers.KERNEL_IMAGE_SIZE > 0n ? info.numbers.KERNEL_IMAGE_SIZE : DEFAULT_KERNEL_IMAGE_SIZE;
  const levels = info.numbers.pgtable_l5_enabled === 1n ? 5 : 4;
  // AMD SME: the encryption bit sits among the address bits of every entry.
  const entryMask = PTE_PFN_MASK & ~BigInt.asUintN(64, info.numbers.sme_mask ?? 0n);
  const windows: DirectWindow[] = (options.directMapFromLoads === false ? [] : vmcore.loads ?? [])
    .filter((load) => load.p_vaddr !== 0n && load.p_vaddr < START_KERNEL_MAP)
    .map((load) => ({ vstart: load.p_vaddr, vend: load.p_vaddr + BigInt(load.p_memsz), pstart: load.p_paddr }));

  const imagePhysical = (vaddr: bigint): number | undefined => {
    if (vaddr < START_KERNEL_MAP || vaddr >= START_KERNEL_MAP + imageSize) return undefined;
    const paddr = vaddr - START_KERNEL_MAP + physBase;
    return paddr >= 0n ? Number(paddr) : undefined;
  };

  const tables = new Map<number, DataView>();
  const readTable = async (paddr: number): Promise<DataView> => {
    const cached = tables.get(paddr);
    if (cached) return cached;
    const bytes = await vmcore.readPhysical(paddr, PAGE_SIZE);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (tables.size >= TABLE_CACHE_ENTRIES) tables.delete(tables.keys().next().value!);
    tables.set(paddr, view);
    return view;
  };

  let topTable: number | undefined;
  const walk = async (vaddr: bigint): Promise<number> => {
    if (topTable === undefined) {
      const symbol = info.symbols.init_top_pgt ?? info.symbols.init_level4_pgt;
      const top = symbol === undefined ? undefined : imagePhysical(symbol);
      if (top === undefined) throw new PageNotInDumpError(FORMAT, 0, `translating 0x${vaddr.toString(16)} needs SYMBOL(init_top_pgt) in the kernel image`);
      topTable = top;
    }
    let table = topTable;
    // Shifts of PGD (5-level: P4D below it), PUD, PMD, PTE indexes.
    const shifts = levels === 5 ? [48n, 39n, 30n, 21n, 12n] : [39n, 30n, 21n, 12n];
    for (let level = 0; level < shifts.length; level++) {
      const shift = shifts[level]!;
      const index = Number((vaddr >> shift) & 511n);
      const entry = (await readTable(table)).getBigUint64(index * 8, true);
      if ((entry & PTE_PRESENT) === 0n) throw new PageNotInDumpError(FORMAT, table + index * 8, `0x${vaddr.toString(16)} is not mapped (level ${level} entry ${index})`);
      const isLeaf = shift === 12n || ((shift === 30n || shift === 21n) && (entry & PTE_PSE) !== 0n);
      if (isLeaf) {
        const pageMask = (1n << shift) - 1n;
        return Number((entry & entryMask & ~pageMask) | (vaddr & pageMask));
      }
      table = Number(entry & entryMask);
    }
    throw new PageNotInDumpError(FORMAT, table, `0x${vaddr.toString(16)}: page walk ended without a leaf`);
  };

  const toPhysical = async (vaddr: bigint): Promise<number> => {
    const image = imagePhysical(vaddr);
    if (image !== undefined) return image;
    for (const window of windows) {
      if (vaddr >= window.vstart && vaddr < window.vend) return window.pstart + Number(vaddr - window.vstart);
    }
    return walk(vaddr);
  };

  return {
    toPhysical,
    async readVirtual(vaddr, length, into) {
      const target = into ? into.subarray(0, length) : new Uint8Array(length);
      // Pages that are physically contiguous are read in one go (vmemmap sits in 2 MiB pages).
      let runStart = 0;
      let runPaddr = -1;
      let runLength = 0;
      let done = 0;
      while (done < length) {
        const at = vaddr + BigInt(done);
        const within = Number(at & BigInt(PAGE_SIZE - 1));
        const count = Math.min(length - done, PAGE_SIZE - within);
        const paddr = await toPhysical(at);
        if (runLength > 0 && paddr === runPaddr + runLength) runLength += count;
        else {
          if (runLength > 0) await vmcore.readPhysical(runPaddr, runLength, target.subarray(runStart, runStart + runLength));
          runStart = done;
          runPaddr = paddr;
          runLength = count;
        }
        done += count;
      }
      if (runLength > 0) await vmcore.readPhysical(runPaddr, runLength, target.subarray(runStart, runStart + runLength));
      return target;
    },
  };
}
