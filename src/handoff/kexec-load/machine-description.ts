/**
 * What kexec_load needs of the running machine, read where the kernel publishes it: the
 * physical memory map (/proc/iomem, addresses visible to root only), the device tree the
 * firmware handed over (/sys/firmware/fdt, root only) and the page size segments align to.
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

/** "KernelPageSize:        4 kB" of this process's first mapping: the kernel's page size. */
export function pageBytesFromSmaps(text: string): bigint | undefined {
  const kib = /^KernelPageSize:\s+(\d+) kB$/m.exec(text)?.[1];
  return kib === undefined ? undefined : BigInt(kib) * 1024n;
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
    const smaps = readFileSync(`${root}/proc/self/smaps`, 'utf8').slice(0, 4096);
    pageBytes = pageBytesFromSmaps(smaps) ?? pageBytes;
  } catch {
    // Without smaps (a restricted /proc), 4 KiB pages: what Debian's arm64 kernels use.
  }
  return { ram: usableRam(iomem.resources), firmwareFdt, pageBytes };
}
