import { defineLayout } from '../../binary/layout.js';

// The kdump-compressed format as makedumpfile writes it (diskdump_mod.h and IMPLEMENTATION in
// makedumpfile's source; crash's diskdump.c reads it). Offsets are those of the 64-bit C
// structs: `long`, `off_t` and pointers are 8 bytes, struct timeval is two longs, aligned to 8.
// Every number is in the dumped machine's byte order.
//
//   block 0                   disk_dump_header
//   block 1                   kdump_sub_header, then the ELF notes (VMCOREINFO among them)
//   1 + sub_hdr_size          1st bitmap: bit set = the pfn is memory (not a hole)
//   + bitmap_blocks / 2       2nd bitmap: bit set = the pfn is in the dump
//   + bitmap_blocks           page_desc for every pfn set in the 2nd bitmap, in pfn order
//   then                      page data, where each page_desc.offset points

export const KDUMP_SIGNATURE = 'KDUMP   ';
export const DISKDUMP_SIGNATURE = 'DISKDUMP';
export const KDUMP_HEADER_VERSION = 6;
export const DISKDUMP_HEADER_BLOCKS = 1;
export const NEW_UTSNAME_LENGTH = 65;

export const diskDumpHeaderLayout = defineLayout('disk_dump_header', 464, {
  signature: { offset: 0, type: { string: 8 } },
  header_version: { offset: 8, type: 'i32' },
  'utsname.sysname': { offset: 12, type: { string: NEW_UTSNAME_LENGTH } },
  'utsname.nodename': { offset: 77, type: { string: NEW_UTSNAME_LENGTH } },
  'utsname.release': { offset: 142, type: { string: NEW_UTSNAME_LENGTH } },
  'utsname.version': { offset: 207, type: { string: NEW_UTSNAME_LENGTH } },
  'utsname.machine': { offset: 272, type: { string: NEW_UTSNAME_LENGTH } },
  'utsname.domainname': { offset: 337, type: { string: NEW_UTSNAME_LENGTH } },
  'timestamp.tv_sec': { offset: 408, type: 'u64' },
  'timestamp.tv_usec': { offset: 416, type: 'u64' },
  status: { offset: 424, type: 'u32' },
  block_size: { offset: 428, type: 'i32' },
  sub_hdr_size: { offset: 432, type: 'i32' },
  bitmap_blocks: { offset: 436, type: 'u32' },
  max_mapnr: { offset: 440, type: 'u32' },
  total_ram_blocks: { offset: 444, type: 'u32' },
  device_blocks: { offset: 448, type: 'u32' },
  written_blocks: { offset: 452, type: 'u32' },
  current_cpu: { offset: 456, type: 'u32' },
  nr_cpus: { offset: 460, type: 'i32' },
});

/** The utsname as one block, for copying it from the crashed kernel's memory (struct new_utsname). */
export const NEW_UTSNAME_OFFSET = 12;
export const NEW_UTSNAME_BYTES = 6 * NEW_UTSNAME_LENGTH;

export const kdumpSubHeaderLayout = defineLayout('kdump_sub_header', 104, {
  phys_base: { offset: 0, type: 'u64' },
  dump_level: { offset: 8, type: 'i32' },
  split: { offset: 12, type: 'i32' },
  start_pfn: { offset: 16, type: 'u64' },
  end_pfn: { offset: 24, type: 'u64' },
  offset_vmcoreinfo: { offset: 32, type: 'u64' },
  size_vmcoreinfo: { offset: 40, type: 'u64' },
  offset_note: { offset: 48, type: 'u64' },
  size_note: { offset: 56, type: 'u64' },
  offset_eraseinfo: { offset: 64, type: 'u64' },
  size_eraseinfo: { offset: 72, type: 'u64' },
  start_pfn_64: { offset: 80, type: 'u64' },
  end_pfn_64: { offset: 88, type: 'u64' },
  max_mapnr_64: { offset: 96, type: 'u64' },
});

export const pageDescLayout = defineLayout('page_desc', 24, {
  offset: { offset: 0, type: 'u64' },
  size: { offset: 8, type: 'u32' },
  flags: { offset: 12, type: 'u32' },
  page_flags: { offset: 16, type: 'u64' },
});

/** disk_dump_header.status and page_desc.flags bits (diskdump_mod.h). */
export const DUMP_DH_COMPRESSED_ZLIB = 0x1;
export const DUMP_DH_COMPRESSED_LZO = 0x2;
export const DUMP_DH_COMPRESSED_SNAPPY = 0x4;
/** Set in status when writing stopped early (ENOSPC): the dump is incomplete. */
export const DUMP_DH_COMPRESSED_INCOMPLETE = 0x8;
export const DUMP_DH_EXCLUDED_VMEMMAP = 0x10;
export const DUMP_DH_COMPRESSED_ZSTD = 0x20;

/** The codecs a page can be stored with, by their flag. */
export type PageCodec = 'zlib' | 'lzo' | 'snappy' | 'zstd';
export const PAGE_CODEC_FLAGS: Readonly<Record<PageCodec, number>> = {
  zlib: DUMP_DH_COMPRESSED_ZLIB,
  lzo: DUMP_DH_COMPRESSED_LZO,
  snappy: DUMP_DH_COMPRESSED_SNAPPY,
  zstd: DUMP_DH_COMPRESSED_ZSTD,
};

/** ELF dumps mark an incomplete file in e_flags (makedumpfile's DUMP_ELF_INCOMPLETE). */
export const DUMP_ELF_INCOMPLETE = 0x1;

// The flattened format (makedumpfile -F): a 4096-byte header, then (offset, size) records in
// big endian, each followed by its bytes; offset = size = -1 ends the stream.
export const MAKEDUMPFILE_SIGNATURE = 'makedumpfile';
export const MAX_SIZE_MDF_HEADER = 4096;
export const TYPE_FLAT_HEADER = 1n;
export const VERSION_FLAT_HEADER = 1n;
export const END_FLAG_FLAT_HEADER = -1n;

export const makedumpfileHeaderLayout = defineLayout('makedumpfile_header', 32, {
  signature: { offset: 0, type: { string: 16 } },
  type: { offset: 16, type: 'u64' },
  version: { offset: 24, type: 'u64' },
});

export const makedumpfileDataHeaderLayout = defineLayout('makedumpfile_data_header', 16, {
  offset: { offset: 0, type: 'u64' },
  buf_size: { offset: 8, type: 'u64' },
});
