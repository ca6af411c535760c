/**
 * What every architecture's kexec_load planner returns, and how a placed segment becomes the
 * kexec_segment the syscall takes. Pure.
 */
import { ErrorCode, ValidationError } from '../../errors.js';
import type { KexecSegment } from '../../syscall/types.js';
import { deviceTreeReservations, nextBootFdt } from './next-boot-fdt.js';
import { alignUp, withoutRanges, type PhysicalRange, type SegmentPlacement } from './placement.js';

/** What every planner is given: the files' bytes, the command line and the machine as it is. */
export interface KexecLoadInput {
  /** The Image itself (already decompressed; on riscv64 Debian's uncompressed Image with an EFI stub). */
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

export interface KexecLoadPlan {
  /** Where the CPU starts after the relocation: the purgatory, or the kernel where none is needed. */
  readonly entry: bigint;
  readonly segments: KexecSegment[];
  /** In address order, named; the segments may be listed in another order (see each planner). */
  readonly placements: SegmentPlacement[];
  /** The device tree given to the new kernel. */
  readonly fdt: Uint8Array;
}

/** The segment for `bytes` at its placement: the whole page-aligned range is the segment's memory. */
export function segmentAt(bytes: Uint8Array, placement: SegmentPlacement, pageBytes: bigint): KexecSegment {
  const padded = withLeadingZeros(bytes, placement);
  return { bytes: padded, physicalAddress: placement.range.start, memoryBytes: alignUp(placement.range.end - placement.range.start, pageBytes) };
}

/** A segment starts on a page; an address inside the page (arm64's text_offset) is reached by leading zeros. */
function withLeadingZeros(bytes: Uint8Array, placement: SegmentPlacement): Uint8Array {
  const pad = Number(placement.address - placement.range.start);
  if (pad === 0) return bytes;
  const padded = new Uint8Array(pad + bytes.length);
  padded.set(bytes, pad);
  return padded;
}

/** The placement called `name` (the planner asked for it, so it is there). */
export function placementNamed(placements: readonly SegmentPlacement[], name: string): SegmentPlacement {
  const found = placements.find((placement) => placement.name === name);
  if (found === undefined) throw new Error(`no ${name} among the placed segments`);
  return found;
}

/** What a kernel Image header must say before it can be placed: its memory size, little-endian. */
export function requirePlaceableImage(what: string, image: { readonly imageSize: bigint; readonly bigEndian: boolean }, zeroSizeRemedy: string): void {
  if (image.imageSize === 0n) {
    throw new ValidationError(ErrorCode.FORMAT_INVALID, `The ${what} has image_size 0: how much memory it needs beyond the file is unknown.`, { remedy: zeroSizeRemedy });
  }
  if (image.bigEndian) {
    throw new ValidationError(ErrorCode.FORMAT_INVALID, `The ${what} is big-endian; kexec-ts places little-endian kernels only.`, { remedy: 'Use a little-endian kernel.' });
  }
}

/** The Image's memory: image_size (its bss included), or the file where that is longer. */
export function imageMemoryBytes(image: { readonly imageSize: bigint }, kernel: Uint8Array): bigint {
  return image.imageSize > BigInt(kernel.length) ? image.imageSize : BigInt(kernel.length);
}

/** Where segments may go: the RAM given, minus what the running device tree keeps for firmware and devices. */
export function ramOutsideDeviceTreeReservations(ram: readonly PhysicalRange[], firmwareFdt: Uint8Array): PhysicalRange[] {
  return withoutRanges(ram, deviceTreeReservations(firmwareFdt));
}

/** The next boot's device tree for the initrd as placed, checked to fit the room planned for it. */
export function placedNextBootFdt(
  input: { readonly firmwareFdt: Uint8Array; readonly cmdline: string; readonly initrd?: Uint8Array; readonly randomBytes: (count: number) => Uint8Array },
  placed: { readonly initrd: SegmentPlacement | undefined; readonly dtb: SegmentPlacement; readonly ceiling: number },
): Uint8Array {
  const fdt = nextBootFdt(input.firmwareFdt, {
    cmdline: input.cmdline,
    ...(placed.initrd !== undefined && input.initrd !== undefined ? { initrd: { start: placed.initrd.address, end: placed.initrd.address + BigInt(input.initrd.length) } } : {}),
    randomBytes: input.randomBytes,
  });
  if (BigInt(fdt.length) > placed.dtb.range.end - placed.dtb.address) throw new Error(`the device tree grew to ${fdt.length} bytes, past the ${placed.ceiling} planned`);
  return fdt;
}
