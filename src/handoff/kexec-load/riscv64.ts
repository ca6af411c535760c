/**
 * A riscv64 kernel as kexec_load(2) segments, for the kernels that have no kexec_file_load
 * (Debian's riscv64 kernels: CONFIG_KEXEC=y, CONFIG_KEXEC_FILE off). The shape of arm64.ts
 * without a purgatory: the kernel's own relocation code (arch/riscv/kernel/kexec_relocate.S)
 * already enters the image with what the boot protocol asks (boot.rst, "Register state"):
 * a0 = the hart id, a1 = the device tree, satp = 0. machine_kexec_prepare()
 * (arch/riscv/kernel/machine_kexec.c) finds that device tree by scanning the segments, in
 * order, for the first whose bytes start with a valid FDT header, and refuses the load
 * (EINVAL, "Device tree not included in the provided image") when none does.
 *
 * Layout, as kexec-tools' image_riscv_load() and the kernel's kexec_file Image loader
 * (arch/riscv/kernel/kexec_image.c) make it: the Image at a PMD boundary (2 MiB on rv64, boot.rst
 * "Kernel location"; text_offset is the header's hint of 2 MiB from the start of RAM, the
 * alignment kexec_image.c asks for) as low as it fits, with image_size bytes of memory; the
 * initrd and the device tree above it. The entry is the kernel's first byte.
 *
 * The kernel's memory is image_size rounded up to the next PMD: setup_bootmem()
 * (arch/riscv/mm/init.c) reserves the kernel up to there under STRICT_KERNEL_RWX, and then
 * refuses an initrd inside ("INITRD: ... overlaps in-use memory region - disabling initrd").
 * The running device tree's own reservations (/memreserve/ and /reserved-memory) are cut out of
 * the RAM given here as well as /proc/iomem's: the new kernel honours them from the same tree,
 * but only after it has accepted its initrd (reserve_initrd_mem() comes first), so nothing there
 * would catch a segment over firmware memory.
 * Pure: bytes and the memory map in, segments out; randomness is injected.
 */
import { ErrorCode, ValidationError } from '../../errors.js';
import { parseFdt } from '../../devicetree/fdt.js';
import { readReservedMemory } from '../../devicetree/memory.js';
import { findNode, getProperty } from '../../devicetree/tree.js';
import { parseRiscvImage } from '../../image/riscv/parse.js';
import { nextBootFdt, nextBootFdtCeiling, readCells } from './next-boot-fdt.js';
import { placementNamed, segmentAt, type KexecLoadPlan } from './plan-segments.js';
import { alignUp, assertSegmentsAcceptable, placeSegments, withoutRanges, type PhysicalRange } from './placement.js';

/** boot.rst: "placed at a PMD boundary (2MB aligned for rv64 and 4MB aligned for rv32)"; PMD_SIZE. */
const RV64_KERNEL_ALIGNMENT = 2n * 1024n * 1024n;

export interface Riscv64KexecLoadInput {
  /** The Image itself (Debian's vmlinux-* / vmlinuz: uncompressed, with an EFI stub header). */
  readonly kernel: Uint8Array;
  readonly initrd?: Uint8Array;
  readonly cmdline: string;
  /** The running kernel's device tree, /sys/firmware/fdt. */
  readonly firmwareFdt: Uint8Array;
  /** Where the segments may go (usableRam of /proc/iomem). */
  readonly ram: readonly PhysicalRange[];
  readonly pageBytes: bigint;
  readonly randomBytes: (count: number) => Uint8Array;
}

/**
 * What the running device tree keeps for firmware and devices: its /memreserve/ entries (the old
 * initrd's left out: that memory was freed) and every /reserved-memory region with a reg.
 */
export function deviceTreeReservations(firmwareFdt: Uint8Array): PhysicalRange[] {
  const tree = parseFdt(firmwareFdt);
  const chosen = findNode(tree, '/chosen');
  const oldInitrdStart = chosen === undefined ? undefined : readCells(getProperty(chosen, 'linux,initrd-start'));
  const oldInitrdEnd = chosen === undefined ? undefined : readCells(getProperty(chosen, 'linux,initrd-end'));
  const reserved: PhysicalRange[] = tree.memoryReservations
    .filter((entry) => entry.size > 0n && !(entry.address === oldInitrdStart && entry.address + entry.size === oldInitrdEnd))
    .map((entry) => ({ start: entry.address, end: entry.address + entry.size }));
  for (const region of readReservedMemory(tree)) {
    for (const range of region.ranges) if (range.size > 0n) reserved.push({ start: range.address, end: range.address + range.size });
  }
  return reserved;
}

export function planRiscv64KexecLoad(input: Riscv64KexecLoadInput): KexecLoadPlan {
  const image = parseRiscvImage(input.kernel);
  // The checks of image_riscv_load() (kexec-tools) and image_load() (kexec_image.c).
  if (image.imageSize === 0n) {
    throw new ValidationError(ErrorCode.FORMAT_INVALID, 'The RISC-V Image has image_size 0: how much memory it needs beyond the file is unknown.', {
      remedy: 'Use an Image built by a kernel newer than 5.x (its header says image_size), or a kernel with kexec_file_load.',
    });
  }
  if (image.bigEndian) {
    throw new ValidationError(ErrorCode.FORMAT_INVALID, 'The RISC-V Image is big-endian; kexec-ts places little-endian kernels only.', { remedy: 'Use a little-endian kernel.' });
  }
  const fdtCeiling = nextBootFdtCeiling(input.firmwareFdt, input.cmdline);
  const ram = withoutRanges(input.ram, deviceTreeReservations(input.firmwareFdt));
  const imageBytes = alignUp(image.imageSize > BigInt(input.kernel.length) ? image.imageSize : BigInt(input.kernel.length), RV64_KERNEL_ALIGNMENT);
  const placements = placeSegments(ram, [
    { name: 'kernel', memoryBytes: imageBytes, alignment: RV64_KERNEL_ALIGNMENT },
    ...(input.initrd !== undefined ? [{ name: 'initrd', memoryBytes: BigInt(input.initrd.length), alignment: input.pageBytes }] : []),
    { name: 'device tree', memoryBytes: BigInt(fdtCeiling), alignment: input.pageBytes },
  ], input.pageBytes);
  const kernel = placementNamed(placements, 'kernel');
  const initrd = input.initrd !== undefined ? placementNamed(placements, 'initrd') : undefined;
  const dtb = placementNamed(placements, 'device tree');

  const fdt = nextBootFdt(input.firmwareFdt, {
    cmdline: input.cmdline,
    ...(initrd !== undefined ? { initrd: { start: initrd.address, end: initrd.address + BigInt(input.initrd!.length) } } : {}),
    randomBytes: input.randomBytes,
  });
  if (BigInt(fdt.length) > dtb.range.end - dtb.address) throw new Error(`the device tree grew to ${fdt.length} bytes, past the ${fdtCeiling} planned`);

  // The device tree first: machine_kexec_prepare() takes the first segment that starts with an
  // FDT header, and an initrd could (a devicetree blob passed as one) where the tree would not be found.
  const ordered = [dtb, kernel, ...(initrd !== undefined ? [initrd] : [])];
  const bytesOf = (placement: typeof dtb): Uint8Array => (placement === dtb ? fdt : placement === kernel ? input.kernel : input.initrd!);
  const segments = ordered.map((placement) => segmentAt(bytesOf(placement), placement, input.pageBytes));
  assertSegmentsAcceptable(segments, input.pageBytes, ordered.map((placement) => placement.name));
  return { entry: kernel.address, segments, placements, fdt };
}
