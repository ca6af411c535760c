import { ErrorCode, ParseError } from '../../errors.js';
import { CRASH_ARM_LIMITS } from '../../limits.js';

/**
 * /proc/iomem: the physical address map as a tree of resources, one per line,
 * "start-end : name" in hex with the end inclusive, two spaces of indent per level
 * (kernel/resource.c r_show()). Read by anyone, but only root sees addresses: for other
 * users every range reads 00000000-00000000 (the kernel hides them since 4.15).
 */
export interface IomemResource {
  readonly startAddress: bigint;
  /** Inclusive, as printed. */
  readonly endAddress: bigint;
  readonly name: string;
  /** 0 for a top-level resource. */
  readonly depth: number;
  /** 1-based line in the text. */
  readonly line: number;
}

export interface Iomem {
  readonly resources: readonly IomemResource[];
  /** Every address read as zero: the reader was not root, and sizes cannot be known from here. */
  readonly addressesHidden: boolean;
}

const FORMAT = '/proc/iomem';
const LINE = /^( *)([0-9a-fA-F]+)-([0-9a-fA-F]+) : (.*)$/;
/** The name kernel/crash_core.c gives crashk_res and crashk_low_res. */
export const CRASH_KERNEL_RESOURCE = 'Crash kernel';
/**
 * The running kernel's own image in the map: x86 lists code, rodata, data and bss
 * (arch/x86/kernel/setup.c); arm64 code and data, its data running to _end (arch/arm64/kernel/setup.c).
 */
const KERNEL_IMAGE_RESOURCES = ['Kernel code', 'Kernel rodata', 'Kernel data', 'Kernel bss'];
const KERNEL_IMAGE_REQUIRED = ['Kernel code', 'Kernel data'];

export function parseIomem(text: string): Iomem {
  const lines = text.split('\n');
  if (lines.length > CRASH_ARM_LIMITS.iomemLines) {
    throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, FORMAT, `${lines.length} lines; at most ${CRASH_ARM_LIMITS.iomemLines} are read`);
  }
  const resources: IomemResource[] = [];
  lines.forEach((raw, index) => {
    if (raw.trim() === '') return;
    const match = LINE.exec(raw);
    if (match === null) {
      throw new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, `line ${index + 1} is not "start-end : name": ${JSON.stringify(raw.slice(0, 80))}`);
    }
    resources.push({
      startAddress: BigInt(`0x${match[2]!}`),
      endAddress: BigInt(`0x${match[3]!}`),
      name: match[4]!,
      depth: Math.floor(match[1]!.length / 2),
      line: index + 1,
    });
  });
  const addressesHidden = resources.length > 0 && resources.every((resource) => resource.startAddress === 0n && resource.endAddress === 0n);
  return { resources, addressesHidden };
}

export function sizeOf(resource: IomemResource): bigint {
  return resource.endAddress - resource.startAddress + 1n;
}

/** The crashkernel= reservation(s): the main region, and on x86/arm64 a low one beside a ,high. */
export function crashKernelRanges(iomem: Iomem): IomemResource[] {
  return iomem.resources.filter((resource) => resource.name === CRASH_KERNEL_RESOURCE);
}

/**
 * RAM as the kernel counts it for crashkernel= ranges: the top-level "System RAM" ranges
 * (the same sum kdump-utils' get_system_size() makes). Undefined when addresses are hidden.
 */
export function systemRamBytes(iomem: Iomem): bigint | undefined {
  if (iomem.addressesHidden) return undefined;
  return iomem.resources.filter((resource) => resource.depth === 0 && resource.name === 'System RAM').reduce((sum, resource) => sum + sizeOf(resource), 0n);
}

/**
 * The running kernel's resident image (code, rodata, data, bss) as the map shows it; its init
 * section is freed after boot and is not listed. Undefined when hidden or not shown (other arches).
 */
export function runningKernelImageBytes(iomem: Iomem): bigint | undefined {
  if (iomem.addressesHidden) return undefined;
  const parts = iomem.resources.filter((resource) => KERNEL_IMAGE_RESOURCES.includes(resource.name));
  if (!KERNEL_IMAGE_REQUIRED.every((name) => parts.some((part) => part.name === name))) return undefined;
  return parts.reduce((sum, part) => sum + sizeOf(part), 0n);
}
