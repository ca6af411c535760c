/**
 * An arm64 kernel as kexec_load(2) segments: what arch/arm64/kernel/kexec_image.c and
 * drivers/of/kexec.c do for kexec_file_load, done here because Debian's arm64 kernels have no
 * kexec_file_load. The Image goes text_offset above a 2 MiB aligned base as low in RAM as it
 * fits (booting.rst: memory below the base is not in the linear map unless flags bit 3 says
 * "anywhere"), the initrd above it, then the device tree — the running one from
 * /sys/firmware/fdt with /chosen made for the new kernel — then the purgatory, which is the
 * entry. Pure: bytes and the memory map in, segments out; randomness is injected.
 */
import { ErrorCode, ValidationError } from '../../errors.js';
import { parseArm64Image } from '../../image/arm64/parse.js';
import { ARM64_PURGATORY_LAYOUT, arm64Purgatory } from './purgatory-arm64.js';
import { nextBootFdt, nextBootFdtCeiling } from './next-boot-fdt.js';
import { placementNamed, segmentAt, type KexecLoadPlan } from './plan-segments.js';
import { assertSegmentsAcceptable, placeSegments, type PhysicalRange } from './placement.js';

export { nextBootFdt } from './next-boot-fdt.js';
export type { KexecLoadPlan } from './plan-segments.js';

const MiB = 1024n * 1024n;
/** booting.rst: "The Image must be placed text_offset bytes from a 2MB aligned base address". */
const IMAGE_BASE_ALIGNMENT = 2n * MiB;

export interface Arm64KexecLoadInput {
  /** The Image itself (already decompressed). */
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

export function planArm64KexecLoad(input: Arm64KexecLoadInput): KexecLoadPlan {
  const image = parseArm64Image(input.kernel);
  if (image.imageSize === 0n) {
    throw new ValidationError(ErrorCode.FORMAT_INVALID, 'The arm64 Image has image_size 0 (a kernel older than 3.17): how much memory it needs beyond the file is unknown.', {
      remedy: 'Boot a kernel newer than 3.17, or one with kexec_file_load.',
    });
  }
  if (image.bigEndian) {
    throw new ValidationError(ErrorCode.FORMAT_INVALID, 'The arm64 Image is big-endian; kexec-ts places little-endian kernels only.', { remedy: 'Use a little-endian kernel.' });
  }
  const fdtCeiling = nextBootFdtCeiling(input.firmwareFdt, input.cmdline);
  const imageBytes = image.imageSize > BigInt(input.kernel.length) ? image.imageSize : BigInt(input.kernel.length);
  const placements = placeSegments(input.ram, [
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

  const fdt = nextBootFdt(input.firmwareFdt, {
    cmdline: input.cmdline,
    ...(initrd !== undefined ? { initrd: { start: initrd.address, end: initrd.address + BigInt(input.initrd!.length) } } : {}),
    randomBytes: input.randomBytes,
  });
  if (BigInt(fdt.length) > dtb.range.end - dtb.address) throw new Error(`the device tree grew to ${fdt.length} bytes, past the ${fdtCeiling} planned`);

  const segments = [
    segmentAt(input.kernel, kernel, input.pageBytes),
    ...(initrd !== undefined ? [segmentAt(input.initrd!, initrd, input.pageBytes)] : []),
    segmentAt(fdt, dtb, input.pageBytes),
    segmentAt(arm64Purgatory(dtb.address, kernel.address), purgatory, input.pageBytes),
  ];
  assertSegmentsAcceptable(segments, input.pageBytes, placements.map((placement) => placement.name));
  return { entry: purgatory.address, segments, placements, fdt };
}
