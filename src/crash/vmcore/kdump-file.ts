import { ByteView, safeNumber } from '../../binary/byte-view.js';
import { ErrorCode, ParseError } from '../../errors.js';
import { parseElfNotes } from '../../image/elf/notes.js';
import { CRASH_LIMITS } from '../../limits.js';
import { PageNotInDumpError } from './errors.js';
import { checkedPageSize, mergeRanges, vmcoreinfoFromNotes } from './elf-vmcore.js';
import {
  DISKDUMP_HEADER_BLOCKS,
  DUMP_DH_COMPRESSED_INCOMPLETE,
  KDUMP_SIGNATURE,
  PAGE_CODEC_FLAGS,
  diskDumpHeaderLayout,
  kdumpSubHeaderLayout,
  pageDescLayout,
  type PageCodec,
} from './kdump-layout.js';
import { decompressPage } from './page-codecs.js';
import { readCpuNotes } from './prstatus.js';
import type { RandomAccessSource } from './source.js';
import type { PhysicalRange, Vmcore } from './vmcore.js';

const FORMAT = 'kdump-compressed dump';
/** Decoded pages kept, so walking a structure across one page does not decode it again. */
const PAGE_CACHE_ENTRIES = 64;
/** pfns per entry of the rank table (how many dumped pages come before a pfn). */
const RANK_BLOCK_PFNS = 4096;

export interface KdumpHeader {
  readonly header_version: number;
  readonly utsname: { sysname: string; nodename: string; release: string; version: string; machine: string; domainname: string };
  readonly timestamp: { tv_sec: bigint; tv_usec: bigint };
  readonly status: number;
  readonly incomplete: boolean;
  readonly block_size: number;
  readonly sub_hdr_size: number;
  readonly bitmap_blocks: number;
  readonly nr_cpus: number;
  readonly phys_base: bigint;
  readonly dump_level: number;
  readonly split: boolean;
  readonly max_mapnr: number;
  readonly offset_note: number;
  readonly size_note: number;
  readonly offset_vmcoreinfo: number;
  readonly size_vmcoreinfo: number;
  /** Where the 1st bitmap starts; the 2nd follows after bitmapBytes. */
  readonly bitmapOffset: number;
  readonly bitmapBytes: number;
  /** Where the page_desc table starts. */
  readonly pageDescOffset: number;
  /** Pages with a page_desc (bits set in the 2nd bitmap). */
  readonly dumpedPages: number;
}

export function probeKdump(head: Uint8Array): boolean {
  return new ByteView(head, FORMAT).matches(0, KDUMP_SIGNATURE);
}

function bitSet(bitmap: Uint8Array, pfn: number): boolean {
  const byte = bitmap[pfn >>> 3];
  return byte !== undefined && (byte & (1 << (pfn & 7))) !== 0;
}

function popcount8(value: number): number {
  let count = 0;
  for (let bits = value; bits !== 0; bits &= bits - 1) count++;
  return count;
}
const POPCOUNT = Uint8Array.from({ length: 256 }, (_, value) => popcount8(value));

function codecOf(flags: number): PageCodec | undefined {
  for (const [codec, flag] of Object.entries(PAGE_CODEC_FLAGS) as [PageCodec, number][]) if (flags & flag) return codec;
  return undefined;
}

/** Opens a kdump-compressed dump (makedumpfile's default format, and ours). */
export async function openKdumpVmcore(source: RandomAccessSource): Promise<Vmcore> {
  const headView = new ByteView(await source.readAt(0, diskDumpHeaderLayout.sizeBytes, 'disk_dump_header'), FORMAT);
  if (!headView.matches(0, KDUMP_SIGNATURE)) {
    throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, FORMAT, `no "${KDUMP_SIGNATURE}" signature`, { offset: 0, field: 'signature' });
  }
  // The header is in the dumped machine's byte order: header_version (1..6) tells which.
  const versionLe = headView.u32(8, 'header_version', true);
  const littleEndian = versionLe >= 1 && versionLe < 0x10000;
  const header = diskDumpHeaderLayout.read(headView, 0, littleEndian);
  if (header.header_version < 1 || header.header_version > 100) throw headView.invalid(`header_version ${header.header_version}`, { offset: 8, field: 'header_version' });
  const blockSize = header.block_size;
  if (blockSize < 512 || blockSize > CRASH_LIMITS.pageSizeBytes || (blockSize & (blockSize - 1)) !== 0) {
    throw headView.invalid(`block_size ${blockSize} is not a page size`, { offset: 428, field: 'block_size' });
  }
  if (header.sub_hdr_size < 1 || header.sub_hdr_size > 1 + Math.ceil(CRASH_LIMITS.noteSegmentBytes / blockSize)) {
    throw headView.invalid(`sub_hdr_size ${header.sub_hdr_size} blocks`, { offset: 432, field: 'sub_hdr_size' });
  }

  const subView = new ByteView(await source.readAt(blockSize, kdumpSubHeaderLayout.sizeBytes, 'kdump_sub_header'), FORMAT);
  const sub = kdumpSubHeaderLayout.read(subView, 0, littleEndian);
  const version = header.header_version;
  const maxMapnr = version >= 6 ? safeNumber(sub.max_mapnr_64, FORMAT, 'max_mapnr_64') : header.max_mapnr;
  if (maxMapnr > 2 ** (CRASH_LIMITS.physicalAddressBits - 9)) throw subView.invalid(`max_mapnr ${maxMapnr} is past any machine`, { field: 'max_mapnr_64' });

  let noteBytes: Uint8Array = new Uint8Array(0);
  let offsetNote = 0;
  let sizeNote = 0;
  if (version >= 4 && sub.size_note > 0n) {
    offsetNote = safeNumber(sub.offset_note, FORMAT, 'offset_note');
    sizeNote = safeNumber(sub.size_note, FORMAT, 'size_note');
    if (sizeNote > CRASH_LIMITS.noteSegmentBytes) throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, FORMAT, `size_note ${sizeNote} is past the ${CRASH_LIMITS.noteSegmentBytes} read`, { field: 'size_note' });
    noteBytes = await source.readAt(offsetNote, sizeNote, 'ELF notes');
  }
  const notes = parseElfNotes(noteBytes, littleEndian, `${FORMAT} note`);
  let { info: vmcoreinfo, bytes: vmcoreinfoBytes } = vmcoreinfoFromNotes(notes);
  const offsetVmcoreinfo = version >= 3 ? safeNumber(sub.offset_vmcoreinfo, FORMAT, 'offset_vmcoreinfo') : 0;
  const sizeVmcoreinfo = version >= 3 ? safeNumber(sub.size_vmcoreinfo, FORMAT, 'size_vmcoreinfo') : 0;
  if (!vmcoreinfoBytes && sizeVmcoreinfo > 0) {
    if (sizeVmcoreinfo > CRASH_LIMITS.vmcoreinfoBytes) throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, FORMAT, `size_vmcoreinfo ${sizeVmcoreinfo}`, { field: 'size_vmcoreinfo' });
    const found = vmcoreinfoFromNotes([{ name: 'VMCOREINFO', desc: await source.readAt(offsetVmcoreinfo, sizeVmcoreinfo, 'VMCOREINFO') }]);
    vmcoreinfo = found.info;
    vmcoreinfoBytes = found.bytes;
  }
  const pageSize = vmcoreinfo.pageSize === undefined ? blockSize : checkedPageSize(vmcoreinfo, FORMAT);
  if (pageSize !== blockSize) throw subView.invalid(`PAGESIZE ${pageSize} differs from block_size ${blockSize}`, { field: 'block_size' });

  const bitmapOffset = (DISKDUMP_HEADER_BLOCKS + header.sub_hdr_size) * blockSize;
  const bitmapBytes = (header.bitmap_blocks * blockSize) / 2;
  if (!Number.isInteger(bitmapBytes) || bitmapBytes * 8 < maxMapnr) {
    throw headView.invalid(`bitmap_blocks ${header.bitmap_blocks} cannot hold ${maxMapnr} page frames`, { offset: 436, field: 'bitmap_blocks' });
  }
  const bitmapLength = Math.ceil(maxMapnr / 8);
  const bitmap1 = await source.readAt(bitmapOffset, bitmapLength, '1st bitmap');
  const bitmap2 = await source.readAt(bitmapOffset + bitmapBytes, bitmapLength, '2nd bitmap');
  // Bits past max_mapnr in the last byte are not pages.
  if (maxMapnr % 8 !== 0) {
    const mask = (1 << (maxMapnr % 8)) - 1;
    bitmap1[bitmapLength - 1]! &= mask;
    bitmap2[bitmapLength - 1]! &= mask;
  }
  const rankBlocks = Math.ceil(maxMapnr / RANK_BLOCK_PFNS);
  const rank = new Float64Array(rankBlocks + 1);
  for (let block = 0; block < rankBlocks; block++) {
    let count = 0;
    const end = Math.min(bitmapLength, (block + 1) * (RANK_BLOCK_PFNS / 8));
    for (let index = block * (RANK_BLOCK_PFNS / 8); index < end; index++) count += POPCOUNT[bitmap2[index]!]!;
    rank[block + 1] = rank[block]! + count;
  }
  const dumpedPages = rank[rankBlocks]!;
  const pageDescOffset = (DISKDUMP_HEADER_BLOCKS + header.sub_hdr_size + header.bitmap_blocks) * blockSize;
  if (pageDescOffset > source.sizeBytes) {
    throw new ParseError(ErrorCode.FORMAT_TRUNCATED, FORMAT, `the page_desc table would start at ${pageDescOffset}, past the end (${source.sizeBytes})`, { field: 'bitmap_blocks' });
  }

  const memoryRanges: PhysicalRange[] = [];
  let runStart = -1;
  for (let pfn = 0; pfn <= maxMapnr; pfn++) {
    const present = pfn < maxMapnr && bitSet(bitmap1, pfn);
    if (present && runStart < 0) runStart = pfn;
    else if (!present && runStart >= 0) {
      memoryRanges.push({ start: runStart * pageSize, end: pfn * pageSize });
      runStart = -1;
    }
  }

  const kdump: KdumpHeader = {
    header_version: version,
    utsname: {
      sysname: header['utsname.sysname'],
      nodename: header['utsname.nodename'],
      release: header['utsname.release'],
      version: header['utsname.version'],
      machine: header['utsname.machine'],
      domainname: header['utsname.domainname'],
    },
    timestamp: { tv_sec: header['timestamp.tv_sec'], tv_usec: header['timestamp.tv_usec'] },
    status: header.status,
    incomplete: (header.status & DUMP_DH_COMPRESSED_INCOMPLETE) !== 0,
    block_size: blockSize,
    sub_hdr_size: header.sub_hdr_size,
    bitmap_blocks: header.bitmap_blocks,
    nr_cpus: header.nr_cpus,
    phys_base: sub.phys_base,
    dump_level: sub.dump_level,
    split: sub.split !== 0,
    max_mapnr: maxMapnr,
    offset_note: offsetNote,
    size_note: sizeNote,
    offset_vmcoreinfo: offsetVmcoreinfo,
    size_vmcoreinfo: sizeVmcoreinfo,
    bitmapOffset,
    bitmapBytes,
    pageDescOffset,
    dumpedPages,
  };

  const cache = new Map<number, Uint8Array>();
  const descBuffer = new Uint8Array(pageDescLayout.sizeBytes);
  const readPage = async (pfn: number): Promise<Uint8Array> => {
    const cached = cache.get(pfn);
    if (cached) return cached;
    const index = rank[Math.floor(pfn / RANK_BLOCK_PFNS)]! + countBitsBefore(bitmap2, Math.floor(pfn / RANK_BLOCK_PFNS) * RANK_BLOCK_PFNS, pfn);
    const desc = pageDescLayout.read(new ByteView(await source.readAt(pageDescOffset + index * pageDescLayout.sizeBytes, pageDescLayout.sizeBytes, 'page_desc', descBuffer), FORMAT), 0, littleEndian);
    // An incomplete dump (ENOSPC) leaves zeroed descriptors for the pages it lost.
    if (desc.offset === 0n) throw new PageNotInDumpError(FORMAT, pfn * pageSize, `page frame ${pfn} was lost when the dump was cut short`);
    const offset = safeNumber(desc.offset, FORMAT, 'page_desc.offset');
    if (desc.size === 0 || desc.size > pageSize) throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, `page frame ${pfn}: page_desc.size ${desc.size}`, { field: 'page_desc.size' });
    const data = await source.readAt(offset, desc.size, `page data of pfn ${pfn}`);
    const codec = codecOf(desc.flags);
    let page: Uint8Array;
    if (codec) page = decompressPage(codec, data, pageSize, FORMAT, pfn);
    else if (desc.size === pageSize) page = data;
    else throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, `page frame ${pfn} is stored raw in ${desc.size} bytes, not ${pageSize}`, { field: 'page_desc.size' });
    if (cache.size >= PAGE_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    cache.set(pfn, page);
    return page;
  };

  return {
    format: 'kdump',
    name: source.name,
    sizeBytes: source.sizeBytes,
    machineName: kdump.utsname.machine || 'unknown',
    littleEndian,
    pageSize,
    vmcoreinfo,
    vmcoreinfoBytes,
    noteBytes,
    notes,
    cpus: readCpuNotes(notes, kdump.utsname.machine, littleEndian),
    maxPfn: maxMapnr,
    memoryRanges: mergeRanges(memoryRanges),
    physBase: sub.phys_base,
    loads: undefined,
    kdump,
    hasPage: (pfn) => pfn >= 0 && pfn < maxMapnr && bitSet(bitmap2, pfn),
    markPresent(bitmap, startPfn, endPfn) {
      const to = Math.min(endPfn, maxMapnr);
      if (startPfn % 8 === 0) {
        // Byte-aligned: copy the 2nd bitmap's bytes, masking the last partial one.
        const bytes = Math.ceil((to - startPfn) / 8);
        bitmap.set(bitmap2.subarray(startPfn / 8, startPfn / 8 + bytes), 0);
        if ((to - startPfn) % 8 !== 0) bitmap[bytes - 1]! &= (1 << ((to - startPfn) % 8)) - 1;
        return;
      }
      for (let pfn = startPfn; pfn < to; pfn++) if (bitSet(bitmap2, pfn)) bitmap[(pfn - startPfn) >>> 3]! |= 1 << ((pfn - startPfn) & 7);
    },
    async readPhysical(paddr, length, into) {
      const target = into ? into.subarray(0, length) : new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const at = paddr + done;
        const pfn = Math.floor(at / pageSize);
        if (pfn >= maxMapnr || !bitSet(bitmap2, pfn)) throw new PageNotInDumpError(FORMAT, at, `reading ${length} bytes at 0x${paddr.toString(16)}`);
        const page = await readPage(pfn);
        const within = at - pfn * pageSize;
        const count = Math.min(length - done, pageSize - within);
        target.set(page.subarray(within, within + count), done);
        done += count;
      }
      return target;
    },
    close: () => source.close(),
  };
}

function countBitsBefore(bitmap: Uint8Array, fromPfn: number, toPfn: number): number {
  let count = 0;
  let pfn = fromPfn;
  while (pfn < toPfn && (pfn & 7) !== 0) {
    if (bitSet(bitmap, pfn)) count++;
    pfn++;
  }
  while (pfn + 8 <= toPfn) {
    count += POPCOUNT[bitmap[pfn >>> 3]!]!;
    pfn += 8;
  }
  while (pfn < toPfn) {
    if (bitSet(bitmap, pfn)) count++;
    pfn++;
  }
  return count;
}
