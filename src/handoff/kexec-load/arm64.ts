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
import { parseFdt, serializeFdt } from '../../devicetree/fdt.js';
import { deleteProperty, ensureNode, getProperty, setProperty } from '../../devicetree/tree.js';
import type { KexecSegment } from '../../syscall/types.js';
import { ARM64_PURGATORY_LAYOUT, arm64Purgatory } from './purgatory-arm64.js';
import { alignUp, assertSegmentsAcceptable, placeSegments, type PhysicalRange, type SegmentPlacement } from './placement.js';

const MiB = 1024n * 1024n;
/** booting.rst: "The Image must be placed text_offset bytes from a 2MB aligned base address". */
const IMAGE_BASE_ALIGNMENT = 2n * MiB;
/** booting.rst: the device tree blob "must not exceed 2 megabytes in size". */
const DTB_MAX_BYTES = 2 * 1024 * 1024;
/** What drivers/of/kexec.c gives the next kernel for its entropy pool and for KASLR. */
const RNG_SEED_BYTES = 128;
const KASLR_SEED_BYTES = 8;
/** Properties that describe the old boot's crash or IMA state and would mislead the new kernel (drivers/of/kexec.c). */
const STALE_CHOSEN_PROPERTIES = ['linux,elfcorehdr', 'linux,usable-memory-range', 'linux,ima-kexec-buffer'];
/** Room left in the device tree's segment for what /chosen gains. */
const DTB_SLACK_BYTES = 4096;

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

export interface KexecLoadPlan {
  /** Where the CPU starts after the relocation: the purgatory. */
  readonly entry: bigint;
  readonly segments: KexecSegment[];
  readonly placements: SegmentPlacement[];
  /** The device tree given to the new kernel. */
  readonly fdt: Uint8Array;
}

const u64 = (value: bigint): Uint8Array => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value, false);
  return bytes;
};
const cString = (text: string): Uint8Array => new Uint8Array(Buffer.from(`${text}\0`, 'utf8'));

function readCells(value: Uint8Array | undefined): bigint | undefined {
  if (value === undefined || (value.length !== 4 && value.length !== 8)) return undefined;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return value.length === 4 ? BigInt(view.getUint32(0, false)) : view.getBigUint64(0, false);
}

/** The running device tree with /chosen made for the next boot; the old initrd's reservation dropped. */
export function nextBootFdt(firmwareFdt: Uint8Array, options: { cmdline: string; initrd?: PhysicalRange; randomBytes: (count: number) => Uint8Array }): Uint8Array {
  const tree = parseFdt(firmwareFdt);
  const chosen = ensureNode(tree, '/chosen');
  const oldStart = readCells(getProperty(chosen, 'linux,initrd-start'));
  const oldEnd = readCells(getProperty(chosen, 'linux,initrd-end'));
  if (oldStart !== undefined && oldEnd !== undefined) {
    // The old initrd's memory was freed by the running kernel; a reservation of it would waste it.
    tree.memoryReservations = tree.memoryReservations.filter((reservation) => !(reservation.address === oldStart && reservation.address + reservation.size === oldEnd));
  }
  for (const name of STALE_CHOSEN_PROPERTIES) deleteProperty(chosen, name);
  setProperty(chosen, 'bootargs', cString(options.cmdline));
  if (options.initrd !== undefined) {
    setProperty(chosen, 'linux,initrd-start', u64(options.initrd.start));
    setProperty(chosen, 'linux,initrd-end', u64(options.initrd.end));
  } else {
    deleteProperty(chosen, 'linux,initrd-start');
    deleteProperty(chosen, 'linux,initrd-end');
  }
  setProperty(chosen, 'kaslr-seed', options.randomBytes(KASLR_SEED_BYTES));
  setProperty(chosen, 'rng-seed', options.randomBytes(RNG_SEED_BYTES));
  return serializeFdt(tree);
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
  const fdtCeiling = input.firmwareFdt.length + Buffer.byteLength(input.cmdline) + RNG_SEED_BYTES + KASLR_SEED_BYTES + DTB_SLACK_BYTES;
  if (fdtCeiling > DTB_MAX_BYTES) {
    throw new ValidationError(ErrorCode.FORMAT_LIMIT_EXCEEDED, `The device tree for the new kernel would be about ${fdtCeiling} bytes; the boot protocol allows ${DTB_MAX_BYTES}.`, {});
  }
  const imageBytes = image.imageSize > BigInt(input.kernel.length) ? image.imageSize : BigInt(input.kernel.length);
  const placements = placeSegments(input.ram, [
    { name: 'kernel', memoryBytes: imageBytes, alignment: IMAGE_BASE_ALIGNMENT, offset: image.textOffset },
    ...(input.initrd !== undefined ? [{ name: 'initrd', memoryBytes: BigInt(input.initrd.length), alignment: input.pageBytes }] : []),
    { name: 'device tree', memoryBytes: BigInt(fdtCeiling), alignment: input.pageBytes },
    { name: 'purgatory', memoryBytes: BigInt(ARM64_PURGATORY_LAYOUT.sizeBytes), alignment: input.pageBytes },
  ], input.pageBytes);
  const at = (name: string): SegmentPlacement => placements.find((placement) => placement.name === name)!;
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

  const segment = (bytes: Uint8Array, placement: SegmentPlacement): KexecSegment => ({
    bytes,
    physicalAddress: placement.range.start,
    memoryBytes: alignUp(placement.range.end - placement.range.start, input.pageBytes),
  });
  // A segment starts on a page; an address inside the page (text_offset) is reached by leading zeros.
  const lead = (bytes: Uint8Array, placement: SegmentPlacement): Uint8Array => {
    const pad = Number(placement.address - placement.range.start);
    if (pad === 0) return bytes;
    const padded = new Uint8Array(pad + bytes.length);
    padded.set(bytes, pad);
    return padded;
  };
  const segments = [
    segment(lead(input.kernel, kernel), kernel),
    ...(initrd !== undefined ? [segment(input.initrd!, initrd)] : []),
    segment(fdt, dtb),
    segment(arm64Purgatory(dtb.address, kernel.address), purgatory),
  ];
  assertSegmentsAcceptable(segments, input.pageBytes, placements.map((placement) => placement.name));
  return { entry: purgatory.address, segments, placements, fdt };
}
