/**
 * Whether an image can be loaded, for people: by the loader of the syscall a load would use
 * (preflight.ts), and, judged for this machine, whether the running kernel can load at all
 * (kexec-load/choose.ts). The one verdict `inspect` prints. Pure: image and facts in.
 */
import { ParseError } from '../errors.js';
import type { InspectedImage } from '../image/detect.js';
import type { KernelArch } from '../syscall/numbers.js';
import { loadPathHere, type KexecLoadFacts } from './kexec-load/choose.js';
import type { MachineFacts } from './machine-facts.js';
import { ImageNotLoadableError, preflightKernel } from './preflight.js';

export interface Loadability {
  readonly loadable: boolean;
  readonly because: string;
  readonly notes: string[];
}

const KIND: Readonly<Record<InspectedImage['format'], string>> = {
  bzImage: 'a 64-bit bzImage',
  'arm64-image': 'an arm64 Image',
  'riscv-image': 'a RISC-V Image',
  elf: 'an ELF vmlinux',
  zboot: 'an EFI zboot image',
  initrd: 'an initrd',
  uki: 'a Unified Kernel Image',
  pe: 'a PE image',
  compressed: 'compressed data',
};

/**
 * `here`: the running machine's facts when the verdict is for it (the syscall it would use, and
 * whether it can load at all); undefined for a verdict on `arch` in general (kexec_file_load).
 */
export function imageLoadability(image: InspectedImage | ParseError, arch: KernelArch | undefined, path: string, here?: KexecLoadFacts & Pick<MachineFacts, 'kexecLoaded' | 'kernelRelease'>): Loadability {
  if (arch === undefined) return { loadable: false, because: `kexec-ts has no kexec support for ${process.arch}`, notes: [] };
  if (image instanceof ParseError) return { loadable: false, because: 'kexec-ts does not recognise it as a kernel image', notes: [] };
  const loadPath = here === undefined ? undefined : loadPathHere(here);
  const syscall = loadPath !== undefined && 'syscall' in loadPath ? loadPath.syscall : 'kexec_file_load';
  let notes: string[];
  try {
    // The command line is judged at load time; here only the image.
    notes = preflightKernel(image, arch, '', path, syscall);
  } catch (error) {
    if (!(error instanceof ImageNotLoadableError)) throw error;
    return { loadable: false, because: error.reason, notes: error.remedy !== undefined ? [error.remedy] : [] };
  }
  const because = `it is ${KIND[image.format]} that ${syscall === 'kexec_load' ? "kexec-ts's kexec_load" : 'kexec_file_load'} on ${arch} takes`;
  if (loadPath === undefined) return { loadable: true, because, notes };
  if ('cannot' in loadPath) return { loadable: false, because: `${because}, but ${loadPath.cannot}`, notes };
  return { loadable: true, because: syscall === 'kexec_load' ? `${because}; loaded here with kexec_load (${loadPath.reason})` : because, notes };
}
