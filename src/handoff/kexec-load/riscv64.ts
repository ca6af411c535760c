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
 * the RAM, as on arm64 (plan-segments.ts): here the new kernel honours them only after it has
 * accepted its initrd (reserve_initrd_mem() comes first), so nothing would catch a segment over
 * firmware memory such as OpenSBI's.
 * Pure: bytes and the memory map in, segments out; randomness is injected.
 */
import { parseRiscvImage } from '../../image/riscv/parse.js';
import { nextBootFdtCeiling } from './next-boot-fdt.js';

export { deviceTreeReservations } from './next-boot-fdt.js';
import { imageMemoryBytes, placedNextBootFdt, placementNamed, ramOutsideDeviceTreeReservations, requirePlaceableImage, segmentAt, type KexecLoadInput, type KexecLoadPlan } from './plan-segments.js';
import { alignUp, assertSegmentsAcceptable, placeSegments } from './placement.js';

/** boot.rst: "placed at a PMD boundary (2MB aligned for rv64 and 4MB aligned for rv32)"; PMD_SIZE. */
const RV64_KERNEL_ALIGNMENT = 2n * 1024n * 1024n;

export type Riscv64KexecLoadInput = KexecLoadInput;

export function planRiscv64KexecLoad(input: Riscv64KexecLoadInput): KexecLoadPlan {
  const image = parseRiscvImage(input.kernel);
  // The checks of image_riscv_load() (kexec-tools) and image_load() (kexec_image.c).
  requirePlaceableImage('RISC-V Image', image, 'Use an Image built by a kernel newer than 5.x (its header says image_size), or a kernel with kexec_file_load.');
  const fdtCeiling = nextBootFdtCeiling(input.firmwareFdt, input.cmdline);
  const ram = ramOutsideDeviceTreeReservations(input.ram, input.firmwareFdt);
  const imageBytes = alignUp(imageMemoryBytes(image, input.kernel), RV64_KERNEL_ALIGNMENT);
  const placements = placeSegments(ram, [
    { name: 'kernel', memoryBytes: imageBytes, alignment: RV64_KERNEL_ALIGNMENT },
    ...(input.initrd !== undefined ? [{ name: 'initrd', memoryBytes: BigInt(input.initrd.length), alignment: input.pageBytes }] : []),
    { name: 'device tree', memoryBytes: BigInt(fdtCeiling), alignment: input.pageBytes },
  ], input.pageBytes);
  const kernel = placementNamed(placements, 'kernel');
  const initrd = input.initrd !== undefined ? placementNamed(placements, 'initrd') : undefined;
  const dtb = placementNamed(placements, 'device tree');

  const fdt = placedNextBootFdt(input, { initrd, dtb, ceiling: fdtCeiling });

  // The device tree first: machine_kexec_prepare() takes the first segment that starts with an
  // FDT header, and an initrd could (a devicetree blob passed as one) where the tree would not be found.
  const ordered = [dtb, kernel, ...(initrd !== undefined ? [initrd] : [])];
  const bytesOf = (placement: typeof dtb): Uint8Array => (placement === dtb ? fdt : placement === kernel ? input.kernel : input.initrd!);
  const segments = ordered.map((placement) => segmentAt(bytesOf(placement), placement, input.pageBytes));
  assertSegmentsAcceptable(segments, input.pageBytes, ordered.map((placement) => placement.name));
  return { entry: kernel.address, segments, placements, fdt };
}
