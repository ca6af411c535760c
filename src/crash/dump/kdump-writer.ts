import {
  DISKDUMP_HEADER_BLOCKS,
  KDUMP_HEADER_VERSION,
  KDUMP_SIGNATURE,
  NEW_UTSNAME_BYTES,
  NEW_UTSNAME_LENGTH,
  diskDumpHeaderLayout,
  kdumpSubHeaderLayout,
  pageDescLayout,
} from '../vmcore/kdump-layout.js';
import { setBits } from '../vmcore/elf-vmcore.js';
import type { DumpSink } from './output.js';
import { RegionWriter } from './output.js';
import type { CompressedBatch, PageCompressor } from './page-compress.js';
import { emptyCounts, type ExclusionCounts } from './dump-level.js';
import type { ProgressMeter } from './progress.js';
import { CycleCache, READ_RUN_PAGES, countKept, createFilter, cycles, excludesZeroPages, forEachKeptRun, isZeroPage, type DumpContext } from './scan.js';

// A kdump-compressed dump laid out as makedumpfile's write_kdump_header() and
// write_kdump_pages_and_bitmap_cyclic() lay it out (see ../vmcore/kdump-layout.ts): the same
// headers, bitmaps and page order, so the same tools read it and the bitmaps compare bit for
// bit. Zero pages (dump level bit 1) stay in the 2nd bitmap and share one stored zero page.

const REGION_BUFFER_BYTES = 1024 * 1024;
const UINT_MAX = 0xffffffff;

export interface KdumpWriteStats {
  /** Pages with a page_desc (bits of the 2nd bitmap). */
  dumpedPages: number;
  /** Pages stored: dumpedPages minus the zero pages that share the one stored zero page. */
  storedPages: number;
  compressedPages: number;
  excluded: ExclusionCounts;
}

interface Utsname {
  sysname: string;
  nodename: string;
  release: string;
  version: string;
  machine: string;
  domainname: string;
}

/** The crashed kernel's struct new_utsname: from a kdump input's header, else from init_uts_ns. */
async function readUtsname(context: DumpContext): Promise<Utsname> {
  const { vmcore, memory } = context;
  if (vmcore.kdump) return vmcore.kdump.utsname;
  const info = vmcore.vmcoreinfo;
  const fallback: Utsname = { sysname: 'Linux', nodename: '', release: info.osrelease ?? '', version: '', machine: vmcore.machineName, domainname: '' };
  const symbol = info.symbols.system_utsname ?? (info.symbols.init_uts_ns !== undefined ? info.symbols.init_uts_ns + BigInt(info.offsets['uts_namespace.name'] ?? 4) : undefined);
  if (!memory || symbol === undefined) return fallback;
  try {
    const bytes = await memory.readVirtual(symbol, NEW_UTSNAME_BYTES);
    const field = (index: number): string => {
      const raw = bytes.subarray(index * NEW_UTSNAME_LENGTH, (index + 1) * NEW_UTSNAME_LENGTH);
      const nul = raw.indexOf(0);
      return Buffer.from(raw.subarray(0, nul === -1 ? raw.length : nul)).toString('latin1');
    };
    return { sysname: field(0), nodename: field(1), release: field(2), version: field(3), machine: field(4), domainname: field(5) };
  } catch {
    // Memory that does not hold it: the header then carries what VMCOREINFO says.
    return fallback;
  }
}

/** A page_desc without allocating: offset as two 32-bit halves, page_flags 0. */
function writeDesc(target: Uint8Array, offset: number, size: number, flags: number): void {
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  view.setUint32(0, offset % 2 ** 32, true);
  view.setUint32(4, Math.floor(offset / 2 ** 32), true);
  view.setUint32(8, size, true);
  view.setUint32(12, flags, true);
  view.setUint32(16, 0, true);
  view.setUint32(20, 0, true);
}

export async function writeKdumpDump(context: DumpContext, sink: DumpSink, compressor: PageCompressor, meter: ProgressMeter): Promise<KdumpWriteStats> {
  const { vmcore, pageSize, maxPfn } = context;
  const blockSize = pageSize;

  // Pass 1: how many pages get a page_desc, which fixes where the page data starts.
  meter.startPhase('scan');
  let dumpedPages = 0;
  const countFilter = createFilter(context);
  const cache = new CycleCache();
  for await (const cycle of cycles(context, countFilter)) {
    dumpedPages += countKept(cycle.keep, cycle.endPfn - cycle.startPfn);
    cache.keep(cycle);
    meter.advance((cycle.endPfn - cycle.startPfn) * pageSize, 0);
  }
  meter.finishPhase();

  // The headers: disk_dump_header in block 0, kdump_sub_header and the notes from block 1.
  const noteBytes = context.noteBytes;
  const subHeaderBlocks = Math.ceil((kdumpSubHeaderLayout.sizeBytes + noteBytes.length) / blockSize);
  const bitmapBytes = Math.ceil(Math.ceil(maxPfn / 8) / blockSize) * blockSize;
  const bitmapBlocks = (2 * bitmapBytes) / blockSize;
  const bitmapOffset = (DISKDUMP_HEADER_BLOCKS + subHeaderBlocks) * blockSize;
  const descOffset = bitmapOffset + 2 * bitmapBytes;
  const dataOffset = descOffset + dumpedPages * pageDescLayout.sizeBytes;
  const utsname = await readUtsname(context);
  const crashTime = vmcore.kdump?.timestamp.tv_sec ?? BigInt(vmcore.vmcoreinfo.crashTime ?? 0);

  const header = new Uint8Array(blockSize * (DISKDUMP_HEADER_BLOCKS + subHeaderBlocks));
  diskDumpHeaderLayout.write(header, {
    signature: KDUMP_SIGNATURE,
    header_version: KDUMP_HEADER_VERSION,
    'utsname.sysname': utsname.sysname,
    'utsname.nodename': utsname.nodename,
    'utsname.release': utsname.release,
    'utsname.version': utsname.version,
    'utsname.machine': utsname.machine,
    'utsname.domainname': utsname.domainname,
    'timestamp.tv_sec': crashTime,
    'timestamp.tv_usec': 0n,
    status: compressor.flag,
    block_size: blockSize,
    sub_hdr_size: subHeaderBlocks,
    bitmap_blocks: bitmapBlocks,
    max_mapnr: Math.min(maxPfn, UINT_MAX),
    total_ram_blocks: 0,
    device_blocks: 0,
    written_blocks: 0,
    current_cpu: 0,
    nr_cpus: vmcore.cpus.length,
  });
  const noteOffset = blockSize + kdumpSubHeaderLayout.sizeBytes;
  const vmcoreinfoNote = vmcore.notes.find((note) => note.name === 'VMCOREINFO');
  kdumpSubHeaderLayout.write(
    header,
    {
      phys_base: BigInt.asUintN(64, vmcore.physBase ?? 0n),
      dump_level: context.exclusions.appliedLevel,
      split: 0,
      start_pfn: 0n,
      end_pfn: 0n,
      offset_vmcoreinfo: vmcoreinfoNote ? BigInt(noteOffset + vmcoreinfoNote.descOffset) : 0n,
      size_vmcoreinfo: vmcoreinfoNote ? BigInt(vmcoreinfoNote.desc.length) : 0n,
      offset_note: noteBytes.length > 0 ? BigInt(noteOffset) : 0n,
      size_note: BigInt(noteBytes.length),
      offset_eraseinfo: 0n,
      size_eraseinfo: 0n,
      start_pfn_64: 0n,
      end_pfn_64: 0n,
      max_mapnr_64: BigInt(maxPfn),
    },
    blockSize,
  );
  header.set(noteBytes, noteOffset);
  await sink.write(0, header);

  // The 1st bitmap: every page frame of the memory the source describes.
  const cycleBitmap = new Uint8Array(context.cyclePages / 8);
  for (let start = 0; start < maxPfn; start += context.cyclePages) {
    const end = Math.min(maxPfn, start + context.cyclePages);
    const bits = cycleBitmap.subarray(0, Math.ceil((end - start) / 8));
    bits.fill(0);
    for (const range of vmcore.memoryRanges) {
      // A range ending inside a page still makes that page memory (create_1st_bitmap_file()).
      const from = Math.max(start, Math.floor(range.start / pageSize));
      const to = Math.min(end, Math.ceil(range.end / pageSize));
      if (to > from) setBits(bits, from - start, to - start);
    }
    await sink.write(bitmapOffset + start / 8, bits);
  }

  // Pass 2: the 2nd bitmap, then each kept page's page_desc and data, in pfn order.
  meter.startPhase('write');
  const descs = new RegionWriter(sink, descOffset, REGION_BUFFER_BYTES);
  const data = new RegionWriter(sink, dataOffset, REGION_BUFFER_BYTES);
  const zeroPage = new Uint8Array(pageSize);
  const excludeZero = excludesZeroPages(context);
  const desc = new Uint8Array(pageDescLayout.sizeBytes);
  let zeroDesc: Uint8Array | undefined;
  if (excludeZero) {
    zeroDesc = new Uint8Array(pageDescLayout.sizeBytes);
    pageDescLayout.write(zeroDesc, { offset: BigInt(data.position), size: pageSize, flags: 0, page_flags: 0n });
    await data.append(zeroPage);
  }
  const stats: KdumpWriteStats = { dumpedPages, storedPages: 0, compressedPages: 0, excluded: emptyCounts() };
  const readBuffer = new Uint8Array(READ_RUN_PAGES * pageSize);
  const cached = cache.complete;
  const writeFilter = cached ? countFilter : createFilter(context);
  // Batches compressing while the next runs are read; written strictly in order.
  const inFlight: { batch: Promise<CompressedBatch>; isZero: boolean[] }[] = [];
  const writeOldest = async (): Promise<void> => {
    const { batch, isZero } = inFlight.shift()!;
    const { pages, compressed } = await batch;
    let next = 0;
    for (const zero of isZero) {
      if (zero) {
        stats.excluded.zero++;
        await descs.append(zeroDesc!);
        continue;
      }
      const packed = compressed[next];
      const stored = packed ?? pages[next]!;
      next++;
      writeDesc(desc, data.position, stored.length, packed ? compressor.flag : 0);
      await descs.append(desc);
      await data.append(stored);
      stats.storedPages++;
      if (packed) stats.compressedPages++;
    }
  };
  for await (const cycle of cached ?? cycles(context, writeFilter)) {
    await sink.write(bitmapOffset + bitmapBytes + cycle.startPfn / 8, cycle.keep);
    await forEachKeptRun(context, cycle, readBuffer, async (_pfns, pages, bytesRead) => {
      const isZero = pages.map((page) => excludeZero && isZeroPage(page, zeroPage));
      inFlight.push({ batch: compressor.compress(pages.filter((_, index) => !isZero[index])), isZero });
      while (inFlight.length >= compressor.depth) await writeOldest();
      meter.advance(0, bytesRead);
    });
    meter.advance((cycle.endPfn - cycle.startPfn) * pageSize, 0);
  }
  while (inFlight.length > 0) await writeOldest();
  await descs.flush();
  await data.flush();
  meter.finishPhase();
  Object.assign(stats.excluded, { ...writeFilter.counts, zero: stats.excluded.zero });
  return stats;
}
