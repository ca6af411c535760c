/**
 * The device tree a kexec_load'ed kernel boots with, on every architecture that boots from one
 * (arm64, riscv64): the running one from /sys/firmware/fdt with /chosen made for the next boot,
 * as drivers/of/kexec.c (of_kexec_alloc_and_setup_fdt) does for kexec_file_load. Pure.
 */
import { ErrorCode, ValidationError } from '../../errors.js';
import { parseFdt, serializeFdt } from '../../devicetree/fdt.js';
import { deleteProperty, ensureNode, getProperty, setProperty } from '../../devicetree/tree.js';
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

const u64 = (value: bigint): Uint8Array => {
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, value, false);
  return bytes;
};
const cString = (text: string): Uint8Array => new Uint8Array(Buffer.from(`${text}\0`, 'utf8'));

/** A /chosen address property: one or two cells, as firmware and kexec loaders write them. */
export function readCells(value: Uint8Array | undefined): bigint | undefined {
  if (value === undefined || (value.length !== 4 && value.length !== 8)) return undefined;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  return value.length === 4 ? BigInt(view.getUint32(0, false)) : view.getBigUint64(0, false);
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
