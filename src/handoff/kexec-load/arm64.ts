/**
 * An arm64 kernel as kexec_load(2) segments: what arch/arm64/kernel/kexec_image.c and
 * drivers/of/kexec.c do for kexec_file_load, done here because Debian's arm64 kernels have no
 * kexec_file_load. The Image goes text_offset above a 2 MiB aligned base as low in RAM as it
 * fits (booting.rst: memory below the base is not in the linear map unless flags bit 3 says
 * "anywhere"), the initrd above it, then the device tree — the running one from
 * /sys/firmware/fdt with /chosen made for the new kernel — then the purgatory, which is the
 * entry; none over what that device tree reserves. Pure: bytes and the memory map in, segments out; randomness is injected.
 */
import { parseArm64Image } from '../../image/arm64/parse.js';
import { ARM64_PURGATORY_LAYOUT, arm64Purgatory } from './purgatory-arm64.js';
import { nextBootFdtCeiling } from './next-boot-fdt.js';
import { imageMemoryBytes, placedNextBootFdt, placementNamed, ramOutsideDeviceTreeReservations, requirePlaceableImage, segmentAt, type KexecLoadInput, type KexecLoadPlan } from './plan-segments.js';
import { assertSegmentsAcceptable, placeSegments } from './placement.js';

export { nextBootFdt } from './next-boot-fdt.js';
export type { KexecLoadPlan } from './plan-segments.js';

const MiB = 1024n * 1024n;
/** booting.rst: "The Image must be placed text_offset bytes from a 2MB aligned base address". */
const IMAGE_BASE_ALIGNMENT = 2n * MiB;

export type Arm64KexecLoadInput = KexecLoadInput;

export function planArm64KexecLoad(input: Arm64KexecLoadInput): KexecLoadPlan {
  const image = parseArm64Image(input.kernel);
  // image_size 0: a kernel older than 3.17.
  requirePlaceableImage('arm64 Image', image, 'Boot a kernel newer than 3.17, or one with kexec_file_load.');
  const fdtCeiling = nextBootFdtCeiling(input.firmwareFdt, input.cmdline);
  const imageBytes = imageMemoryBytes(image, input.kernel);
  const placements = placeSegments(ramOutsideDeviceTreeReservations(input.ram, input.firmwareFdt), [
    { name: 'kernel', memoryBytes: imageBytes, alignment: IMAGE_BASE_ALIGNMENT, offset: image.textOffset },
    ...(input.initrd !== undefined ? [{ name: 'initrd', memoryBytes: BigInt(input.initrd.length), alignment: input.pageBytes }] : []),
    { name: 'device tree', memoryBytes: BigInt(fdtCeiling), alignment: input.pageBytes },
    { name: 'purgatory', memoryBytes: BigInt(ARM64_PURGATORY_LAYOUT.sizeBytes), alignment: input.pageBytes },
  ], input.pageBytes);
  const at = (name: string) => placementNamed(placements, name);
  const kernel = at('kernel');
  const initrd = input.initrd !== undefined ? at('initrd') : undefined;
  const dtb = at('device tree');
  const purgatory = at('purgatory');

  const fdt = placedNextBootFdt(input, { initrd, dtb, ceiling: fdtCeiling });

  const segments = [
    segmentAt(input.kernel, kernel, input.pageBytes),
    ...(initrd !== undefined ? [segmentAt(input.initrd!, initrd, input.pageBytes)] : []),
    segmentAt(fdt, dtb, input.pageBytes),
    segmentAt(arm64Purgatory(dtb.address, kernel.address), purgatory, input.pageBytes),
  ];
  assertSegmentsAcceptable(segments, input.pageBytes, placements.map((placement) => placement.name));
  return { entry: purgatory.address, segments, placements, fdt };
}
