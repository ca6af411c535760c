/**
 * The device tree a kexec_load'ed kernel boots with, on every architecture that boots from one
 * (arm64, riscv64): the running one from /sys/firmware/fdt with /chosen made for the next boot,
 * as drivers/of/kexec.c (of_kexec_alloc_and_setup_fdt) does for kexec_file_load. Pure.
 */
import { ErrorCode, ValidationError } from '../../errors.js';
import { parseFdt, serializeFdt } from '../../devicetree/fdt.js';
import { readReservedMemory } from '../../devicetree/memory.js';
import { deleteProperty, ensureNode, findNode, getProperty, setProperty, type DeviceTree } from '../../devicetree/tree.js';
import { decodeU32, decodeU64, encodeString, encodeU64 } from '../../devicetree/values.js';
import type { PhysicalRange } from './placement.js';

/**
 * arm64's booting.rst: the blob "must not exceed 2 megabytes in size"; riscv64 maps it through
 * a fixmap of MAX_FDT_SIZE = PMD_SIZE, 2 MiB too (arch/riscv/include/asm/pgtable.h).
 */
export const DTB_MAX_BYTES = 2 * 1024 * 1024;
/** What drivers/of/kexec.c gives the next kernel for its entropy pool and for KASLR. */
const RNG_SEED_BYTES = 128;
const KASLR_SEED_BYTES = 8;
/** Properties that describe the old boot's crash or IMA state and would mislead the new kernel (drivers/of/kexec.c). */
const STALE_CHOSEN_PROPERTIES = ['linux,elfcorehdr', 'linux,usable-memory-range', 'linux,ima-kexec-buffer'];
/** Room left in the device tree's segment for what /chosen gains. */
const DTB_SLACK_BYTES = 4096;

/** A /chosen address property: one or two cells, as firmware and kexec loaders write them. */
export function readCells(value: Uint8Array | undefined): bigint | undefined {
  if (value?.length === 4) return BigInt(decodeU32(value));
  return value?.length === 8 ? decodeU64(value) : undefined;
}

/** The running kernel's initrd as its /chosen names it (its memory is free once that kernel is up). */
function oldInitrd(tree: DeviceTree): { start: bigint; end: bigint } | undefined {
  const chosen = findNode(tree, '/chosen');
  const start = chosen === undefined ? undefined : readCells(getProperty(chosen, 'linux,initrd-start'));
  const end = chosen === undefined ? undefined : readCells(getProperty(chosen, 'linux,initrd-end'));
  return start !== undefined && end !== undefined ? { start, end } : undefined;
}

const isOldInitrd = (reservation: { address: bigint; size: bigint }, initrd: { start: bigint; end: bigint } | undefined): boolean =>
  initrd !== undefined && reservation.address === initrd.start && reservation.address + reservation.size === initrd.end;

/**
 * What the running device tree keeps for firmware and devices: its /memreserve/ entries (the old
 * initrd's left out: that memory was freed) and every /reserved-memory region with a reg. No
 * segment goes there on any architecture: /proc/iomem does not always mark them, and the new
 * kernel honours them only once it is running, too late to protect what a segment overwrote.
 */
export function deviceTreeReservations(firmwareFdt: Uint8Array): PhysicalRange[] {
  const tree = parseFdt(firmwareFdt);
  const initrd = oldInitrd(tree);
  const reserved: PhysicalRange[] = tree.memoryReservations
    .filter((entry) => entry.size > 0n && !isOldInitrd(entry, initrd))
    .map((entry) => ({ start: entry.address, end: entry.address + entry.size }));
  for (const region of readReservedMemory(tree)) {
    for (const range of region.ranges) if (range.size > 0n) reserved.push({ start: range.address, end: range.address + range.size });
  }
  return reserved;
}

/**
 * How many bytes the device tree's segment needs before it is made (its address goes into the
 * other segments' plan first): the running tree plus what /chosen gains, with room to spare.
 * Throws when that passes the boot protocol's 2 MiB.
 */
export function nextBootFdtCeiling(firmwareFdt: Uint8Array, cmdline: string): number {
  const ceiling = firmwareFdt.length + Buffer.byteLength(cmdline) + RNG_SEED_BYTES + KASLR_SEED_BYTES + DTB_SLACK_BYTES;
  if (ceiling > DTB_MAX_BYTES) {
    throw new ValidationError(ErrorCode.FORMAT_LIMIT_EXCEEDED, `The device tree for the new kernel would be about ${ceiling} bytes; the boot protocol allows ${DTB_MAX_BYTES}.`, {});
  }
  return ceiling;
}

/** The running device tree with /chosen made for the next boot; the old initrd's reservation dropped. */
export function nextBootFdt(firmwareFdt: Uint8Array, options: { cmdline: string; initrd?: PhysicalRange; randomBytes: (count: number) => Uint8Array }): Uint8Array {
  const tree = parseFdt(firmwareFdt);
  // The old initrd's memory was freed by the running kernel; a reservation of it would waste it.
  const initrd = oldInitrd(tree);
  tree.memoryReservations = tree.memoryReservations.filter((reservation) => !isOldInitrd(reservation, initrd));
  const chosen = ensureNode(tree, '/chosen');
  for (const name of STALE_CHOSEN_PROPERTIES) deleteProperty(chosen, name);
  setProperty(chosen, 'bootargs', encodeString(options.cmdline));
  if (options.initrd !== undefined) {
    setProperty(chosen, 'linux,initrd-start', encodeU64(options.initrd.start));
    setProperty(chosen, 'linux,initrd-end', encodeU64(options.initrd.end));
  } else {
    deleteProperty(chosen, 'linux,initrd-start');
    deleteProperty(chosen, 'linux,initrd-end');
  }
  setProperty(chosen, 'kaslr-seed', options.randomBytes(KASLR_SEED_BYTES));
  setProperty(chosen, 'rng-seed', options.randomBytes(RNG_SEED_BYTES));
  return serializeFdt(tree);
}
