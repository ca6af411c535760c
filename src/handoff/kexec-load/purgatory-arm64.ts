/**
 * The arm64 purgatory for kexec_load(2): the code the CPU runs between the old kernel and the
 * new one. The kernel's relocation code (arch/arm64/kernel/relocate_kernel.S) copies the
 * segments into place, turns the MMU and caches off and jumps to the image's entry with x0 =
 * kimage->arch.dtb_mem, which only kexec_file_load sets (it is 0 here). The boot protocol
 * (Documentation/arch/arm64/booting.rst) wants x0 = the device tree's physical address and
 * x1-x3 = 0 at the kernel's first instruction: this sets them and branches to the kernel.
 *
 * Six instructions and two 64-bit literals, each word written with its assembly; the unit test
 * decodes the words back with binutils' aarch64 objdump and compares with these lines.
 */

/** One instruction: its encoding (A64, little-endian in memory) and its assembly. */
export interface PurgatoryInstruction {
  readonly word: number;
  readonly assembly: string;
  readonly why: string;
}

/** Byte offsets of the two literals the code loads with `ldr xN, <label>` (PC-relative). */
export const ARM64_PURGATORY_LAYOUT = {
  dtbAddressOffset: 0x18,
  kernelEntryOffset: 0x20,
  sizeBytes: 0x28,
} as const;

/**
 * LDR (literal), 64-bit: 0x58000000 | imm19 << 5 | Rt, imm19 = (literal - pc) / 4. At 0x00 the
 * DTB literal (0x18) is 6 words ahead; at 0x10 the entry literal (0x20) is 4 words ahead.
 * MOV xN, xzr is ORR xN, xzr, xzr: 0xaa1f03e0 | N. BR x4: 0xd61f0000 | 4 << 5.
 */
export const ARM64_PURGATORY_CODE: readonly PurgatoryInstruction[] = [
  { word: 0x580000c0, assembly: 'ldr x0, 0x18', why: 'x0 = the device tree blob, as the boot protocol asks' },
  { word: 0xaa1f03e1, assembly: 'mov x1, xzr', why: 'x1-x3 must be zero (reserved for future use)' },
  { word: 0xaa1f03e2, assembly: 'mov x2, xzr', why: '' },
  { word: 0xaa1f03e3, assembly: 'mov x3, xzr', why: '' },
  { word: 0x58000084, assembly: 'ldr x4, 0x20', why: "the new kernel's first instruction: text_offset into its 2 MiB aligned base" },
  { word: 0xd61f0080, assembly: 'br x4', why: 'enter the kernel; nothing returns here' },
];

/** The purgatory's bytes with its two literals filled in. */
export function arm64Purgatory(dtbAddress: bigint, kernelEntry: bigint): Uint8Array {
  const bytes = new Uint8Array(ARM64_PURGATORY_LAYOUT.sizeBytes);
  const view = new DataView(bytes.buffer);
  ARM64_PURGATORY_CODE.forEach((instruction, index) => view.setUint32(index * 4, instruction.word, true));
  view.setBigUint64(ARM64_PURGATORY_LAYOUT.dtbAddressOffset, dtbAddress, true);
  view.setBigUint64(ARM64_PURGATORY_LAYOUT.kernelEntryOffset, kernelEntry, true);
  return bytes;
}
