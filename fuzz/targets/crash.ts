// Fuzz targets for the crash-dump readers (src/crash/vmcore/, src/crash/dmesg/): the ELF
// vmcore, VMCOREINFO, the kdump-compressed and flattened readers over a memory source, and the
// kernel log readers (lockless printk ring buffer, struct printk_log log_buf, plain log_buf).
// Seeds come from the cached real vmcore (scripts/fixtures/vmcore.mjs): a compact copy with
// its real headers and notes and a little of each memory range, that
// copy written again as kdump-compressed and flattened dumps (and makedumpfile's own, cut short),
// and the kernel memory the log reader reads, recorded from the real dump.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { saveDump } from '../../src/crash/dump/save.js';
import type { Compression } from '../../src/crash/dump/page-compress.js';
import { ParseError } from '../../src/errors.js';
import { kernelLogLines, readKernelLogFrom } from '../../src/crash/dmesg/index.js';
import { openVmcore, readVmcore } from '../../src/crash/vmcore/open.js';
import { memorySource } from '../../src/crash/vmcore/source.js';
import { parseVmcoreinfo } from '../../src/crash/vmcore/vmcoreinfo.js';
import { x86_64Memory, type VirtualMemory } from '../../src/crash/vmcore/x86-64.js';
import { elf64ProgramHeaderLayout } from '../../src/image/elf/layout.js';
import { cachePath, derivedSeed, readRange } from '../artefacts.js';
import type { LyingField, Seed } from '../mutate.js';
import { latin1, present, type FuzzTarget } from './target.js';

const SMALL_VMCORE = ['vmcore', 'vmcore-small'];
/** Bytes kept of each memory range in the compact vmcore. */
const KEPT_PER_LOAD = 16 << 10;
const LOADS_KEPT = 4;

/**
 * The real vmcore's ELF header, program headers and PT_NOTE (NT_PRSTATUS per CPU, VMCOREINFO)
 * as they are, with its first PT_LOADs cut to 16 KiB each and moved to follow the notes.
 */
function compactElfVmcore(file: string): Uint8Array | undefined {
  if (!fs.existsSync(file)) return undefined;
  const head = Buffer.from(readRange(file, 0, 1 << 20));
  const phoff = Number(head.readBigUInt64LE(32));
  const phnum = head.readUInt16LE(56);
  const entry = elf64ProgramHeaderLayout.sizeBytes;
  const kept: Buffer[] = [];
  let loads = 0;
  for (let index = 0; index < phnum; index++) {
    const phdr = head.subarray(phoff + index * entry, phoff + (index + 1) * entry);
    const type = phdr.readUInt32LE(0);
    if (type === 4 || (type === 1 && loads++ < LOADS_KEPT)) kept.push(Buffer.from(phdr));
  }
  const headerBytes = 64 + kept.length * entry;
  const data: Buffer[] = [];
  let at = headerBytes;
  for (const phdr of kept) {
    const offset = Number(phdr.readBigUInt64LE(8));
    const size = phdr.readUInt32LE(0) === 4 ? Number(phdr.readBigUInt64LE(32)) : Math.min(KEPT_PER_LOAD, Number(phdr.readBigUInt64LE(32)));
    data.push(Buffer.from(readRange(file, offset, size)));
    phdr.writeBigUInt64LE(BigInt(at), 8);
    phdr.writeBigUInt64LE(BigInt(size), 32);
    if (phdr.readUInt32LE(0) === 1) phdr.writeBigUInt64LE(BigInt(size), 40);
    at += size;
  }
  const ehdr = Buffer.from(head.subarray(0, 64));
  ehdr.writeBigUInt64LE(64n, 32);
  ehdr.writeUInt16LE(kept.length, 56);
  ehdr.writeBigUInt64LE(0n, 40); // e_shoff: no section headers are kept
  ehdr.writeUInt16LE(0, 60);
  return new Uint8Array(Buffer.concat([ehdr, ...kept, ...data]));
}

function elfVmcoreFields(bytes: Uint8Array): LyingField[] {
  const fields: LyingField[] = [32, 40].map((offset) => ({ offset, width: 8 as const }));
  fields.push({ offset: 16, width: 2 }, { offset: 54, width: 2 }, { offset: 56, width: 2 });
  const phnum = new DataView(bytes.buffer, bytes.byteOffset).getUint16(56, true);
  for (let index = 0; index < phnum; index++) {
    const base = 64 + index * 56;
    fields.push({ offset: base, width: 4 });
    for (const field of [8, 16, 24, 32, 40, 48]) fields.push({ offset: base + field, width: 8 });
  }
  return fields;
}

async function compactVmcore(): Promise<Uint8Array | undefined> {
  return derivedSeed('vmcore-elf-compact', () => compactElfVmcore(cachePath(...SMALL_VMCORE)));
}

/**
 * The compact vmcore written again as a kdump-compressed or flattened dump by the project's own
 * writer (src/crash/dump, the code `crash save` runs): makedumpfile cannot write one from the
 * compact copy, as it reads system_utsname from memory the copy no longer holds.
 */
async function writtenDump(name: string, format: 'kdump' | 'flat', compress: Compression): Promise<Uint8Array | undefined> {
  return derivedSeed(name, async () => {
    const compact = await compactVmcore();
    if (compact === undefined) return undefined;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexec-ts-fuzz-'));
    try {
      const vmcore = await readVmcore(memorySource(compact));
      const result = await saveDump(vmcore, { out: path.join(dir, 'dump'), format, compress, dumpLevel: 0 });
      return new Uint8Array(fs.readFileSync(result.path));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

/**
 * makedumpfile's own kdump-compressed (or flattened) dump of the whole small vmcore, cut to its
 * first 256 KiB: its headers, notes and bitmaps are makedumpfile's, the page data mostly cut off.
 */
async function makedumpfileHead(name: string, args: string[], flattened: boolean): Promise<Uint8Array | undefined> {
  return derivedSeed(name, async () => {
    const vmcore = cachePath(...SMALL_VMCORE);
    if (!fs.existsSync(vmcore)) return undefined;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexec-ts-fuzz-'));
    try {
      const output = path.join(dir, 'dump');
      const run = flattened
        ? spawnSync('/bin/sh', ['-c', `makedumpfile -F ${args.join(' ')} '${vmcore}' > '${output}'`], { timeout: 120_000 })
        : spawnSync('makedumpfile', [...args, vmcore, output], { timeout: 120_000 });
      if (run.error !== undefined || run.status !== 0 || !fs.existsSync(output)) return undefined;
      return readRange(output, 0, 256 << 10);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

/** The header fields of a kdump-compressed file (makedumpfile's diskdump.h) worth lying in. */
function kdumpFields(): LyingField[] {
  const fields: LyingField[] = [];
  // struct disk_dump_header after its 8-byte signature: header_version, utsname (skipped),
  // then status, block_size, sub_hdr_size, bitmap_blocks, max_mapnr, total_ram_blocks,
  // device_blocks, written_blocks, current_cpu, nr_cpus.
  fields.push({ offset: 8, width: 4 });
  for (let at = 8 + 4 + 390 + 2 + 16; at < 8 + 4 + 390 + 2 + 16 + 44; at += 4) fields.push({ offset: at, width: 4 });
  // The sub header (block 1, at 4096): phys_base, dump_level, split, offsets and sizes.
  for (let at = 4096; at < 4096 + 128; at += 8) fields.push({ offset: at, width: 8 });
  return fields;
}

function flatFields(bytes: Uint8Array): LyingField[] {
  const fields: LyingField[] = [];
  // Records after the 4 KiB flat header: a big-endian offset and size, then the data.
  let at = 4096;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let record = 0; record < 64 && at + 16 <= bytes.length; record++) {
    fields.push({ offset: at, width: 8, bigEndian: true }, { offset: at + 8, width: 8, bigEndian: true });
    const size = Number(view.getBigInt64(at + 8, false));
    if (size < 0 || size > bytes.length) break;
    at += 16 + size;
  }
  return fields;
}

async function exerciseVmcore(bytes: Uint8Array): Promise<void> {
  const vmcore = await readVmcore(memorySource(bytes));
  for (const range of vmcore.memoryRanges.slice(0, 3)) {
    vmcore.hasPage(Math.floor(range.start / vmcore.pageSize));
    await vmcore.readPhysical(range.start, Math.min(8192, range.end - range.start));
  }
}

/**
 * Kernel memory for the log readers, as one input: VMCOREINFO, then the regions the reader
 * reads. Layout (little-endian): u32 VMCOREINFO length, its text, then records of u64 virtual
 * address, u32 length, bytes. Mutations lie in the text and in the memory alike.
 */
export function encodeKernelMemory(vmcoreinfo: Uint8Array, regions: ReadonlyMap<bigint, Uint8Array>): Uint8Array {
  const parts: Buffer[] = [];
  const length = Buffer.alloc(4);
  length.writeUInt32LE(vmcoreinfo.length);
  parts.push(length, Buffer.from(vmcoreinfo));
  for (const [vaddr, bytes] of regions) {
    const header = Buffer.alloc(12);
    header.writeBigUInt64LE(vaddr);
    header.writeUInt32LE(bytes.length, 8);
    parts.push(header, Buffer.from(bytes));
  }
  return new Uint8Array(Buffer.concat(parts));
}

function decodeKernelMemory(bytes: Uint8Array): { vmcoreinfo: string; memory: VirtualMemory } | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4) return undefined;
  const infoLength = Math.min(view.getUint32(0, true), bytes.length - 4);
  const vmcoreinfo = latin1(bytes.subarray(4, 4 + infoLength));
  const regions: { start: bigint; bytes: Uint8Array }[] = [];
  for (let at = 4 + infoLength; at + 12 <= bytes.length; ) {
    const start = view.getBigUint64(at, true);
    const length = Math.min(view.getUint32(at + 8, true), bytes.length - at - 12);
    regions.push({ start, bytes: bytes.subarray(at + 12, at + 12 + length) });
    at += 12 + length;
  }
  const find = (vaddr: bigint, length: number): Uint8Array => {
    for (const region of regions) {
      if (vaddr >= region.start && vaddr + BigInt(length) <= region.start + BigInt(region.bytes.length)) {
        const from = Number(vaddr - region.start);
        return region.bytes.subarray(from, from + length);
      }
    }
    throw new ParseError('FORMAT_INVALID', 'kernel memory', `0x${vaddr.toString(16)} (+${length}) is not in the dump`);
  };
  return {
    vmcoreinfo,
    memory: {
      toPhysical: async (vaddr) => Number(vaddr & 0xffffffffn),
      async readVirtual(vaddr, length, into) {
        const found = find(vaddr, length);
        if (into) {
          into.set(found);
          return into.subarray(0, length);
        }
        return found.slice();
      },
    },
  };
}

/** The regions the log reader reads from the real vmcore, recorded read by read and merged. */
async function recordedKernelMemory(): Promise<Uint8Array | undefined> {
  const file = cachePath(...SMALL_VMCORE);
  if (!fs.existsSync(file)) return undefined;
  const vmcore = await openVmcore(file);
  try {
    const real = x86_64Memory(vmcore);
    const reads: { vaddr: bigint; bytes: Uint8Array }[] = [];
    const recording: VirtualMemory = {
      toPhysical: real.toPhysical,
      async readVirtual(vaddr, length) {
        const bytes = (await real.readVirtual(vaddr, length)).slice();
        reads.push({ vaddr, bytes });
        return bytes.slice();
      },
    };
    await readKernelLogFrom(recording, vmcore.vmcoreinfo);
    reads.sort((a, b) => (a.vaddr < b.vaddr ? -1 : a.vaddr > b.vaddr ? 1 : 0));
    const merged = new Map<bigint, Uint8Array>();
    let current: { start: bigint; bytes: Uint8Array } | undefined;
    for (const read of reads) {
      if (current && read.vaddr <= current.start + BigInt(current.bytes.length)) {
        const end = read.vaddr + BigInt(read.bytes.length);
        const currentEnd = current.start + BigInt(current.bytes.length);
        if (end > currentEnd) {
          const grown = new Uint8Array(Number(end - current.start));
          grown.set(current.bytes);
          grown.set(read.bytes, Number(read.vaddr - current.start));
          current.bytes = grown;
        }
        continue;
      }
      if (current) merged.set(current.start, current.bytes);
      current = { start: read.vaddr, bytes: read.bytes };
    }
    if (current) merged.set(current.start, current.bytes);
    return encodeKernelMemory(vmcore.vmcoreinfoBytes ?? new Uint8Array(0), merged);
  } finally {
    await vmcore.close();
  }
}

const LOG_BUF = 0xffff888000100000n;
const SYMBOLS = { log_buf: 0xffffffff82000000n, log_buf_len: 0xffffffff82000008n, log_first_idx: 0xffffffff82000010n, log_next_idx: 0xffffffff82000014n, log_end: 0xffffffff82000018n };

function u64le(value: bigint): Buffer {
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(value);
  return bytes;
}
function u32le(value: number): Buffer {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value);
  return bytes;
}

/** A 3.5-5.9 log_buf of struct printk_log records, and a pre-3.5 plain one (as test/crash/dmesg.test.ts builds them). */
function legacyKernelMemory(structured: boolean): Uint8Array {
  const lines = ['OSRELEASE=5.4.0-legacy', 'PAGESIZE=4096', `SYMBOL(log_buf)=${SYMBOLS.log_buf.toString(16)}`, `SYMBOL(log_buf_len)=${SYMBOLS.log_buf_len.toString(16)}`];
  const bufferLength = 4096;
  const buffer = Buffer.alloc(bufferLength);
  let next = 0;
  if (structured) {
    lines.push(`SYMBOL(log_first_idx)=${SYMBOLS.log_first_idx.toString(16)}`, `SYMBOL(log_next_idx)=${SYMBOLS.log_next_idx.toString(16)}`);
    lines.push('SIZE(printk_log)=16', 'OFFSET(printk_log.ts_nsec)=0', 'OFFSET(printk_log.len)=8', 'OFFSET(printk_log.text_len)=10');
    for (let record = 0; record < 40; record++) {
      const text = Buffer.from(`record ${record}: the quick brown fox`);
      const size = Math.ceil((16 + text.length) / 8) * 8;
      if (next + size + 16 > bufferLength) break;
      buffer.writeBigUInt64LE(BigInt(record) * 1_000_000n, next);
      buffer.writeUInt16LE(size, next + 8);
      buffer.writeUInt16LE(text.length, next + 10);
      text.copy(buffer, next + 16);
      next += size;
    }
  } else {
    lines.push(`SYMBOL(log_end)=${SYMBOLS.log_end.toString(16)}`);
    const text = Buffer.from(Array.from({ length: 200 }, (_, line) => `<6>[    0.${line}] line ${line}\n`).join(''));
    for (let index = 0; index < text.length; index++) buffer[index % bufferLength] = text[index]!;
    next = text.length;
  }
  const globals = structured
    ? Buffer.concat([u64le(LOG_BUF), u32le(bufferLength), Buffer.alloc(4), u32le(0), u32le(next), Buffer.alloc(4)])
    : Buffer.concat([u64le(LOG_BUF), u32le(bufferLength), Buffer.alloc(12), u32le(next)]);
  return encodeKernelMemory(new Uint8Array(Buffer.from(lines.join('\n'))), new Map([[SYMBOLS.log_buf, globals], [LOG_BUF, buffer]]));
}

export const CRASH_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'vmcore-elf',
    description: 'readVmcore on an ELF64 vmcore in memory, then hasPage and readPhysical of its first ranges',
    quickInputs: 1000,
    seeds: async () => {
      const bytes = await compactVmcore();
      return present([{ name: 'vmcore-small, compact (headers, notes, 16 KiB per range)', bytes, fields: bytes ? elfVmcoreFields(bytes) : [] }]);
    },
    dictionary: ['\x7fELF', 'VMCOREINFO\0', 'CORE\0', 'OSRELEASE=', 'PAGESIZE=', 'NUMBER(phys_base)='],
    run: exerciseVmcore,
  },
  {
    name: 'vmcore-kdump',
    description: 'readVmcore on a kdump-compressed dump (zlib, lzo, snappy, zstd pages)',
    quickInputs: 300,
    seeds: async () => {
      const fields = kdumpFields();
      return present([
        { name: 'the compact vmcore as kdump-compressed, zlib pages', bytes: await writtenDump('vmcore-kdump-zlib', 'kdump', 'zlib'), fields },
        { name: 'the compact vmcore as kdump-compressed, lzo pages', bytes: await writtenDump('vmcore-kdump-lzo', 'kdump', 'lzo'), fields },
        { name: 'the compact vmcore as kdump-compressed, zstd pages', bytes: await writtenDump('vmcore-kdump-zstd', 'kdump', 'zstd'), fields },
        { name: 'the compact vmcore as kdump-compressed, snappy pages', bytes: await writtenDump('vmcore-kdump-snappy', 'kdump', 'snappy'), fields },
        { name: 'makedumpfile -c -d 31 of vmcore-small, first 256 KiB', bytes: await makedumpfileHead('vmcore-kdump-makedumpfile-head', ['-c', '-d', '31'], false), fields },
      ]);
    },
    dictionary: ['KDUMP   ', 'VMCOREINFO\0'],
    run: exerciseVmcore,
  },
  {
    name: 'vmcore-flattened',
    description: 'readVmcore on a flattened dump (makedumpfile -F), reassembled in place',
    quickInputs: 800,
    seeds: async () => {
      const zlib = await writtenDump('vmcore-flat-zlib', 'flat', 'zlib');
      const lzo = await writtenDump('vmcore-flat-lzo', 'flat', 'lzo');
      const makedumpfile = await makedumpfileHead('vmcore-flat-makedumpfile-head', ['-l', '-d', '31'], true);
      return present([
        { name: 'the compact vmcore flattened, zlib pages', bytes: zlib, fields: zlib ? flatFields(zlib) : [] },
        { name: 'the compact vmcore flattened, lzo pages', bytes: lzo, fields: lzo ? flatFields(lzo) : [] },
        { name: 'makedumpfile -F -l -d 31 of vmcore-small, first 256 KiB', bytes: makedumpfile, fields: makedumpfile ? flatFields(makedumpfile) : [] },
      ]);
    },
    dictionary: ['makedumpfile\0', 'KDUMP   '],
    run: exerciseVmcore,
  },
  {
    name: 'vmcoreinfo',
    description: 'parseVmcoreinfo',
    text: true,
    seeds: async () => {
      const recorded = await derivedSeed('dmesg-lockless', recordedKernelMemory);
      if (!recorded) return [];
      const length = new DataView(recorded.buffer, recorded.byteOffset).getUint32(0, true);
      return [{ name: 'VMCOREINFO of vmcore-small', bytes: recorded.slice(4, 4 + length) }];
    },
    dictionary: ['SYMBOL(', 'SIZE(', 'OFFSET(', 'NUMBER(', 'LENGTH(', 'CONFIG_', ')=', '=', 'ffffffff', '-', '0x', 'KERNELOFFSET=', 'CRASHTIME=', 'PAGESIZE=', '\0'],
    run(bytes) {
      parseVmcoreinfo(latin1(bytes));
    },
  },
  {
    name: 'dmesg',
    description: 'readKernelLogFrom (lockless printk ring buffer, printk_log log_buf, plain log_buf), then kernelLogLines',
    maxBytes: 1 << 20,
    quickInputs: 400,
    seeds: async () =>
      present([
        { name: 'printk ring buffer of vmcore-small, as read', bytes: await derivedSeed('dmesg-lockless', recordedKernelMemory) },
        { name: 'synthetic struct printk_log log_buf', bytes: legacyKernelMemory(true) },
        { name: 'synthetic plain log_buf', bytes: legacyKernelMemory(false) },
      ]),
    dictionary: ['SYMBOL(prb)=', 'OFFSET(', 'SIZE(', '\n'],
    async run(bytes) {
      const decoded = decodeKernelMemory(bytes);
      if (decoded === undefined) return;
      kernelLogLines(await readKernelLogFrom(decoded.memory, parseVmcoreinfo(decoded.vmcoreinfo)));
    },
  },
];


