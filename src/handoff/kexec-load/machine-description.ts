/**
 * What kexec_load needs of the running machine, read where the kernel publishes it: the
 * physical memory map (/proc/iomem, addresses visible to root only), the device tree the
 * firmware handed over (/sys/firmware/fdt, root only) and the page size segments align to
 * (AT_PAGESZ of this process's auxiliary vector: what the kernel itself says).
 */
import { readFileSync } from 'node:fs';
import { ErrorCode, KexecError } from '../../errors.js';
import { parseIomem } from '../../crash/arm/iomem.js';
import { usableRam, type PhysicalRange } from './placement.js';

export interface MachineDescription {
  readonly ram: readonly PhysicalRange[];
  readonly firmwareFdt: Uint8Array | undefined;
  readonly pageBytes: bigint;
}

const unreadable = (what: string, path: string, cause: unknown): KexecError =>
  new KexecError(ErrorCode.MACHINE_DESCRIPTION_UNREADABLE, `kexec_load needs ${what}, and ${path} cannot be read (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}).`, {
    cause,
    remedy: 'Run as root (the kernel shows both only to root), with /proc and /sys mounted.',
  });

/** AT_PAGESZ in include/uapi/linux/auxvec.h. */
const AT_PAGESZ = 6n;

/** The page size from /proc/self/auxv: (type, value) pairs of native-endian u64, ended by type 0. */
export function pageBytesFromAuxv(auxv: Uint8Array): bigint | undefined {
  const view = new DataView(auxv.buffer, auxv.byteOffset, auxv.byteLength);
  for (let offset = 0; offset + 16 <= auxv.length; offset += 16) {
    const type = view.getBigUint64(offset, true);
    if (type === 0n) return undefined;
    if (type === AT_PAGESZ) return view.getBigUint64(offset + 8, true);
  }
  return undefined;
}

export function readMachineDescription(root = ''): MachineDescription {
  let iomemText: string;
  try {
    iomemText = readFileSync(`${root}/proc/iomem`, 'utf8');
  } catch (cause) {
    throw unreadable('the physical memory map', '/proc/iomem', cause);
  }
  const iomem = parseIomem(iomemText);
  if (iomem.addressesHidden) throw unreadable('the physical memory map', '/proc/iomem', new Error('every address reads as 0: not root'));
  let firmwareFdt: Uint8Array | undefined;
  try {
    firmwareFdt = new Uint8Array(readFileSync(`${root}/sys/firmware/fdt`));
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw unreadable("the firmware's device tree", '/sys/firmware/fdt', cause);
  }
  let pageBytes = 4096n;
  try {
    pageBytes = pageBytesFromAuxv(new Uint8Array(readFileSync(`${root}/proc/self/auxv`))) ?? pageBytes;
  } catch {
    // Without auxv (a restricted /proc), 4 KiB pages: what Debian's arm64 kernels use.
  }
  return { ram: usableRam(iomem.resources), firmwareFdt, pageBytes };
}
