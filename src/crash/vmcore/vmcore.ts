import type { ElfNote } from '../../image/elf/notes.js';
import type { CpuNote } from './prstatus.js';
import type { Vmcoreinfo } from './vmcoreinfo.js';
import type { PtLoad } from './elf-core.js';
import type { KdumpHeader } from './kdump-file.js';

/** A run of physical memory: [start, end) in bytes. */
export interface PhysicalRange {
  readonly start: number;
  readonly end: number;
}

/**
 * A crashed kernel's memory and notes, whatever file holds them: /proc/vmcore or an ELF dump
 * (format 'elf'), or a kdump-compressed dump (format 'kdump', ours or makedumpfile's).
 */
export interface Vmcore {
  readonly format: 'elf' | 'kdump';
  /** The path it was opened from. */
  readonly name: string;
  readonly sizeBytes: number;
  /** The kernel's name for the machine: x86_64, aarch64, ... */
  readonly machineName: string;
  readonly littleEndian: boolean;
  readonly pageSize: number;
  readonly vmcoreinfo: Vmcoreinfo;
  /** VMCOREINFO's note descriptor, byte for byte (the writers copy it). */
  readonly vmcoreinfoBytes: Uint8Array | undefined;
  /** All ELF notes, byte for byte as the crashed kernel's capture wrote them. */
  readonly noteBytes: Uint8Array;
  readonly notes: readonly ElfNote[];
  /** One per NT_PRSTATUS note. */
  readonly cpus: readonly CpuNote[];
  /** One past the highest page frame (makedumpfile's max_mapnr). */
  readonly maxPfn: number;
  /** The memory the dump describes (for a kdump file: what its 1st bitmap marks), sorted, merged. */
  readonly memoryRanges: readonly PhysicalRange[];
  /** x86_64 phys_base: where the kernel image really is, minus where it was linked for. */
  readonly physBase: bigint | undefined;
  /** ELF dumps: the PT_LOADs, in header order. */
  readonly loads: readonly PtLoad[] | undefined;
  /** kdump-compressed dumps: the headers. */
  readonly kdump: KdumpHeader | undefined;
  /** Whether the page's contents are in the dump (false for holes and excluded pages). */
  hasPage(pfn: number): boolean;
  /** Sets bit i of `bitmap` for each page frame startPfn + i in [startPfn, endPfn) that hasPage(). */
  markPresent(bitmap: Uint8Array, startPfn: number, endPfn: number): void;
  /**
   * `length` bytes of physical memory at `paddr`. Throws PageNotInDumpError for a byte the dump
   * does not hold. With `into`, the bytes land there and a view of it is returned.
   */
  readPhysical(paddr: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}
