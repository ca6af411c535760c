import { PageNotInDumpError } from './errors.js';
import { readElfCore, type PtLoad } from './elf-core.js';
import { readCpuNotes } from './prstatus.js';
import type { RandomAccessSource } from './source.js';
import { parseVmcoreinfo, type Vmcoreinfo } from './vmcoreinfo.js';
import type { PhysicalRange, Vmcore } from './vmcore.js';
import { ErrorCode, ParseError } from '../../errors.js';
import { CRASH_LIMITS } from '../../limits.js';

const FORMAT = 'ELF vmcore';
const DEFAULT_PAGE_SIZE = 4096;

/** A piece of physical memory backed by one PT_LOAD: [start, end) with its file offset. */
interface Piece {
  readonly start: number;
  readonly end: number;
  /** File offset of `start`; bytes past `fileEnd` read as zeros (p_filesz < p_memsz). */
  readonly offset: number;
  readonly fileEnd: number;
}

/**
 * Non-overlapping pieces in address order. Where PT_LOADs overlap (the kernel-text load sits
 * inside the direct map's), the first in header order wins, as makedumpfile's paddr_to_offset.
 */
function buildPieces(loads: readonly PtLoad[]): Piece[] {
  let pieces: Piece[] = [];
  for (const load of loads) {
    let candidates: Piece[] = [{ start: load.p_paddr, end: load.p_paddr + load.p_memsz, offset: load.p_offset, fileEnd: load.p_paddr + load.p_filesz }];
    for (const taken of pieces) {
      candidates = candidates.flatMap((piece) => {
        if (piece.end <= taken.start || piece.start >= taken.end) return [piece];
        const parts: Piece[] = [];
        if (piece.start < taken.start) parts.push({ ...piece, end: taken.start });
        if (piece.end > taken.end) parts.push({ start: taken.end, end: piece.end, offset: piece.offset + (taken.end - piece.start), fileEnd: piece.fileEnd });
        return parts;
      });
    }
    pieces = [...pieces, ...candidates.filter((piece) => piece.end > piece.start)].sort((a, b) => a.start - b.start);
  }
  return pieces;
}

/** Sets bits [from, to) of a little-endian bitmap. */
export function setBits(bitmap: Uint8Array, from: number, to: number): void {
  let bit = from;
  while (bit < to && (bit & 7) !== 0) {
    bitmap[bit >>> 3]! |= 1 << (bit & 7);
    bit++;
  }
  if (to - bit >= 8) {
    bitmap.fill(0xff, bit >>> 3, (to >>> 3));
    bit = to & ~7;
  }
  while (bit < to) {
    bitmap[bit >>> 3]! |= 1 << (bit & 7);
    bit++;
  }
}

export function mergeRanges(ranges: readonly PhysicalRange[]): PhysicalRange[] {
  const sorted = [...ranges].filter((range) => range.end > range.start).sort((a, b) => a.start - b.start);
  const merged: PhysicalRange[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last && range.start <= last.end) merged[merged.length - 1] = { start: last.start, end: Math.max(last.end, range.end) };
    else merged.push(range);
  }
  return merged;
}

export function vmcoreinfoFromNotes(notes: readonly { name: string; desc: Uint8Array }[]): { info: Vmcoreinfo; bytes: Uint8Array | undefined } {
  const note = notes.find((candidate) => candidate.name === 'VMCOREINFO');
  if (!note) return { info: parseVmcoreinfo(''), bytes: undefined };
  return { info: parseVmcoreinfo(Buffer.from(note.desc).toString('latin1')), bytes: note.desc };
}

export function checkedPageSize(info: Vmcoreinfo, format: string): number {
  const pageSize = info.pageSize ?? DEFAULT_PAGE_SIZE;
  if (pageSize < 512 || pageSize > CRASH_LIMITS.pageSizeBytes) {
    throw new ParseError(ErrorCode.FORMAT_INVALID, format, `PAGESIZE ${pageSize} is not a page size`, { field: 'PAGESIZE' });
  }
  return pageSize;
}

/** Opens an ELF64 vmcore (the kernel's /proc/vmcore, or an ELF dump written by us or makedumpfile). */
export async function openElfVmcore(source: RandomAccessSource): Promise<Vmcore> {
  const core = await readElfCore(source);
  const { info: vmcoreinfo, bytes: vmcoreinfoBytes } = vmcoreinfoFromNotes(core.notes);
  const pageSize = checkedPageSize(vmcoreinfo, FORMAT);
  const pieces = buildPieces(core.loads);
  const memoryRanges = mergeRanges(core.loads.map((load) => ({ start: load.p_paddr, end: load.p_paddr + load.p_memsz })));
  const maxPaddr = memoryRanges.reduce((max, range) => Math.max(max, range.end), 0);
  const physBase = vmcoreinfo.numbers.phys_base !== undefined ? BigInt.asUintN(64, vmcoreinfo.numbers.phys_base) : undefined;

  let lastPiece = 0;
  const findPiece = (paddr: number): Piece | undefined => {
    const cached = pieces[lastPiece];
    if (cached && paddr >= cached.start && paddr < cached.end) return cached;
    let low = 0;
    let high = pieces.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const piece = pieces[middle]!;
      if (paddr < piece.start) high = middle - 1;
      else if (paddr >= piece.end) low = middle + 1;
      else {
        lastPiece = middle;
        return piece;
      }
    }
    return undefined;
  };

  return {
    format: 'elf',
    name: source.name,
    sizeBytes: source.sizeBytes,
    machineName: core.machineName,
    littleEndian: core.littleEndian,
    pageSize,
    vmcoreinfo,
    vmcoreinfoBytes,
    noteBytes: core.noteBytes,
    notes: core.notes,
    cpus: readCpuNotes(core.notes, core.machineName, core.littleEndian),
    maxPfn: Math.ceil(maxPaddr / pageSize),
    memoryRanges,
    physBase,
    loads: core.loads,
    kdump: undefined,
    hasPage(pfn) {
      const piece = findPiece(pfn * pageSize);
      return piece !== undefined && pfn * pageSize < piece.fileEnd;
    },
    markPresent(bitmap, startPfn, endPfn) {
      for (const piece of pieces) {
        // Whole pages only: a page partly in the file is not dumpable (makedumpfile's rounding).
        const from = Math.max(startPfn, Math.ceil(piece.start / pageSize));
        const to = Math.min(endPfn, Math.floor(Math.min(piece.end, piece.fileEnd) / pageSize));
        setBits(bitmap, from - startPfn, to - startPfn);
      }
    },
    async readPhysical(paddr, length, into) {
      const target = into ? into.subarray(0, length) : new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const at = paddr + done;
        const piece = findPiece(at);
        if (!piece) throw new PageNotInDumpError(FORMAT, at, `reading ${length} bytes at 0x${paddr.toString(16)}`);
        const count = Math.min(length - done, piece.end - at);
        const inFile = Math.max(0, Math.min(count, piece.fileEnd - at));
        if (inFile > 0) await source.readAt(piece.offset + (at - piece.start), inFile, 'PT_LOAD data', target.subarray(done, done + inFile));
        if (inFile < count) target.fill(0, done + inFile, done + count);
        done += count;
      }
      return target;
    },
    close: () => source.close(),
  };
}
