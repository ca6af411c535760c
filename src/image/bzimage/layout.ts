import { defineLayout } from '../../binary/layout.js';

/**
 * struct setup_header, Documentation/arch/x86/boot.rst ("The real-mode kernel header"). Offsets
 * here are relative to its start at 0x1f1 in the file; the spec's absolute offset is 0x1f1 plus
 * this. 123 bytes through kernel_info_offset (protocol 2.15), as arch/x86/include/uapi/asm/bootparam.h
 * declares it.
 */
export const SETUP_HEADER_OFFSET = 0x1f1;

export const setupHeaderLayout = defineLayout('setup_header', 123, {
  setup_sects: { offset: 0x1f1 - SETUP_HEADER_OFFSET, type: 'u8' },
  root_flags: { offset: 0x1f2 - SETUP_HEADER_OFFSET, type: 'u16' },
  syssize: { offset: 0x1f4 - SETUP_HEADER_OFFSET, type: 'u32' },
  ram_size: { offset: 0x1f8 - SETUP_HEADER_OFFSET, type: 'u16' },
  vid_mode: { offset: 0x1fa - SETUP_HEADER_OFFSET, type: 'u16' },
  root_dev: { offset: 0x1fc - SETUP_HEADER_OFFSET, type: 'u16' },
  boot_flag: { offset: 0x1fe - SETUP_HEADER_OFFSET, type: 'u16' },
  jump: { offset: 0x200 - SETUP_HEADER_OFFSET, type: 'u16' },
  header: { offset: 0x202 - SETUP_HEADER_OFFSET, type: 'u32' },
  version: { offset: 0x206 - SETUP_HEADER_OFFSET, type: 'u16' },
  realmode_swtch: { offset: 0x208 - SETUP_HEADER_OFFSET, type: 'u32' },
  start_sys_seg: { offset: 0x20c - SETUP_HEADER_OFFSET, type: 'u16' },
  kernel_version: { offset: 0x20e - SETUP_HEADER_OFFSET, type: 'u16' },
  type_of_loader: { offset: 0x210 - SETUP_HEADER_OFFSET, type: 'u8' },
  loadflags: { offset: 0x211 - SETUP_HEADER_OFFSET, type: 'u8' },
  setup_move_size: { offset: 0x212 - SETUP_HEADER_OFFSET, type: 'u16' },
  code32_start: { offset: 0x214 - SETUP_HEADER_OFFSET, type: 'u32' },
  ramdisk_image: { offset: 0x218 - SETUP_HEADER_OFFSET, type: 'u32' },
  ramdisk_size: { offset: 0x21c - SETUP_HEADER_OFFSET, type: 'u32' },
  bootsect_kludge: { offset: 0x220 - SETUP_HEADER_OFFSET, type: 'u32' },
  heap_end_ptr: { offset: 0x224 - SETUP_HEADER_OFFSET, type: 'u16' },
  ext_loader_ver: { offset: 0x226 - SETUP_HEADER_OFFSET, type: 'u8' },
  ext_loader_type: { offset: 0x227 - SETUP_HEADER_OFFSET, type: 'u8' },
  cmd_line_ptr: { offset: 0x228 - SETUP_HEADER_OFFSET, type: 'u32' },
  initrd_addr_max: { offset: 0x22c - SETUP_HEADER_OFFSET, type: 'u32' },
  kernel_alignment: { offset: 0x230 - SETUP_HEADER_OFFSET, type: 'u32' },
  relocatable_kernel: { offset: 0x234 - SETUP_HEADER_OFFSET, type: 'u8' },
  min_alignment: { offset: 0x235 - SETUP_HEADER_OFFSET, type: 'u8' },
  xloadflags: { offset: 0x236 - SETUP_HEADER_OFFSET, type: 'u16' },
  cmdline_size: { offset: 0x238 - SETUP_HEADER_OFFSET, type: 'u32' },
  hardware_subarch: { offset: 0x23c - SETUP_HEADER_OFFSET, type: 'u32' },
  hardware_subarch_data: { offset: 0x240 - SETUP_HEADER_OFFSET, type: 'u64' },
  payload_offset: { offset: 0x248 - SETUP_HEADER_OFFSET, type: 'u32' },
  payload_length: { offset: 0x24c - SETUP_HEADER_OFFSET, type: 'u32' },
  setup_data: { offset: 0x250 - SETUP_HEADER_OFFSET, type: 'u64' },
  pref_address: { offset: 0x258 - SETUP_HEADER_OFFSET, type: 'u64' },
  init_size: { offset: 0x260 - SETUP_HEADER_OFFSET, type: 'u32' },
  handover_offset: { offset: 0x264 - SETUP_HEADER_OFFSET, type: 'u32' },
  kernel_info_offset: { offset: 0x268 - SETUP_HEADER_OFFSET, type: 'u32' },
});

/** "HdrS", little-endian u32 (boot.rst: header). */
export const SETUP_HEADER_MAGIC = 0x53726448;
export const BOOT_FLAG = 0xaa55;

/** loadflags bits (boot.rst, "Details of header fields": loadflags). */
export const LOADFLAGS = { LOADED_HIGH: 1 << 0, KASLR_FLAG: 1 << 1, QUIET_FLAG: 1 << 5, KEEP_SEGMENTS: 1 << 6, CAN_USE_HEAP: 1 << 7 } as const;

/** xloadflags bits (boot.rst: xloadflags; arch/x86/include/uapi/asm/bootparam.h). */
export const XLOADFLAGS = {
  XLF_KERNEL_64: 1 << 0,
  XLF_CAN_BE_LOADED_ABOVE_4G: 1 << 1,
  XLF_EFI_HANDOVER_32: 1 << 2,
  XLF_EFI_HANDOVER_64: 1 << 3,
  XLF_EFI_KEXEC: 1 << 4,
  XLF_5LEVEL: 1 << 5,
  XLF_5LEVEL_ENABLED: 1 << 6,
  XLF_MEM_ENCRYPTION: 1 << 7,
} as const;

/** struct kernel_info header (Documentation/arch/x86/boot.rst, "The kernel_info"), protocol 2.15. */
export const kernelInfoLayout = defineLayout('kernel_info', 16, {
  header: { offset: 0, type: 'u32' },
  size: { offset: 4, type: 'u32' },
  size_total: { offset: 8, type: 'u32' },
  setup_type_max: { offset: 12, type: 'u32' },
});

/** "LToP" */
export const KERNEL_INFO_MAGIC = 0x506f544c;
