import { defineLayout } from '../binary/layout.js';

// The flattened devicetree blob, Devicetree Specification v0.4 chapter 5 ("Flattened
// Devicetree (DTB) Format"). Every field is big-endian (5.1); readers pass littleEndian=false.

/** 5.2: the header's magic, "d00dfeed" read big-endian. */
export const FDT_MAGIC = 0xd00dfeed;

/** 5.2: the version this module reads and writes. Version 17 is the one that records size_dt_struct. */
export const FDT_VERSION = 17;
/** 5.2: "the lowest version with which the version used is backwards compatible" for version 17. */
export const FDT_LAST_COMP_VERSION = 16;

/** 5.2 `struct fdt_header`, as the specification spells its fields. */
export const fdtHeaderLayout = defineLayout('fdt_header', 40, {
  magic: { offset: 0, type: 'u32' },
  totalsize: { offset: 4, type: 'u32' },
  off_dt_struct: { offset: 8, type: 'u32' },
  off_dt_strings: { offset: 12, type: 'u32' },
  off_mem_rsvmap: { offset: 16, type: 'u32' },
  version: { offset: 20, type: 'u32' },
  last_comp_version: { offset: 24, type: 'u32' },
  boot_cpuid_phys: { offset: 28, type: 'u32' },
  size_dt_strings: { offset: 32, type: 'u32' },
  size_dt_struct: { offset: 36, type: 'u32' },
});

/** 5.3.2 `struct fdt_reserve_entry`: the list ends with an entry whose address and size are both 0. */
export const fdtReserveEntryLayout = defineLayout('fdt_reserve_entry', 16, {
  address: { offset: 0, type: 'u64' },
  size: { offset: 8, type: 'u64' },
});

/** 5.4.1: what follows an FDT_PROP token, before the value itself. */
export const fdtPropertyHeaderLayout = defineLayout('fdt_property', 8, {
  len: { offset: 0, type: 'u32' },
  nameoff: { offset: 4, type: 'u32' },
});

/** 5.4.1 lexical structure: each token is a big-endian u32 on a 4-byte boundary of the structure block. */
export const FDT_BEGIN_NODE = 0x00000001;
export const FDT_END_NODE = 0x00000002;
export const FDT_PROP = 0x00000003;
export const FDT_NOP = 0x00000004;
export const FDT_END = 0x00000009;

export const FDT_TOKEN_BYTES = 4;
/** 5.3.1: the memory reservation block is 8-byte aligned; 5.4.1: the structure block 4-byte aligned. */
export const FDT_MEM_RSVMAP_ALIGNMENT = 8;
export const FDT_STRUCT_ALIGNMENT = 4;

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}
