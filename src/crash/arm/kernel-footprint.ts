import type { InspectedImage } from '../../image/detect.js';
import { MIB, roundUp } from './memory-size.js';

/**
 * What a capture kernel takes of the reservation, read from its own header:
 *  - loaded: the segment kexec places in the reservation. x86: the bzImage loader reserves
 *    init_size, the "linear memory required during initialization" (boot.rst), aligned to
 *    kernel_alignment (arch/x86/kernel/kexec-bzimage64.c: kbuf.memsz = init_size); arm64:
 *    image_size, the effective size including bss (booting.rst; kexec_image.c); an ELF:
 *    its PT_LOAD segments' memory sizes.
 *  - resident: what stays in memory after boot. The header only bounds it from above (init_size
 *    also covers the decompressor's room), so when the capture kernel is the running kernel the
 *    caller passes the image size /proc/iomem shows for it ("Kernel code" ... "Kernel bss").
 */
export interface KernelFootprint {
  readonly format: InspectedImage['format'];
  readonly loadBytes: number;
  readonly alignmentBytes: number;
  readonly residentBytes: number;
  /** Where residentBytes comes from, for the report. */
  readonly residentSource: 'running kernel (/proc/iomem)' | 'init_size (an upper bound)' | 'image_size' | 'ELF PT_LOAD sizes';
  /** The release the image names (a bzImage's kernel_version), to tell whether it is the running kernel. */
  readonly release: string | undefined;
}

const PAGE_BYTES = 4096;
/** The x86 loader's fallback and the arm64 loader's MIN_KIMG_ALIGN. */
const DEFAULT_ALIGNMENT_BYTES = 2 * MIB;
const PT_LOAD = 1;

/**
 * The footprint of a loadable kernel image; undefined for a format that is not a kernel the
 * loaders take (preflight refuses those with its own message).
 */
export function kernelFootprint(image: InspectedImage, runningKernel?: { readonly release: string; readonly imageBytes: number }): KernelFootprint | undefined {
  const resident = (release: string | undefined, fromHeader: number, source: KernelFootprint['residentSource']) =>
    runningKernel !== undefined && release !== undefined && release === runningKernel.release
      ? { residentBytes: runningKernel.imageBytes, residentSource: 'running kernel (/proc/iomem)' as const }
      : { residentBytes: fromHeader, residentSource: source };
  switch (image.format) {
    case 'bzImage': {
      const header = image.bzImage.header;
      const loadBytes = roundUp(header.init_size, PAGE_BYTES);
      const release = image.bzImage.kernelVersion?.split(' ')[0];
      return {
        format: image.format,
        loadBytes,
        alignmentBytes: header.kernel_alignment > 0 ? header.kernel_alignment : DEFAULT_ALIGNMENT_BYTES,
        ...resident(release, loadBytes, 'init_size (an upper bound)'),
        release,
      };
    }
    case 'arm64-image':
    case 'riscv-image': {
      const loadBytes = roundUp(Number(image.image.imageSize), PAGE_BYTES);
      return { format: image.format, loadBytes, alignmentBytes: DEFAULT_ALIGNMENT_BYTES, ...resident(undefined, loadBytes, 'image_size'), release: undefined };
    }
    case 'elf': {
      const loads = image.elf.programHeaders.filter((header) => header.p_type === PT_LOAD);
      if (loads.length === 0) return undefined;
      const loadBytes = roundUp(Number(loads.reduce((sum, header) => sum + header.p_memsz, 0n)), PAGE_BYTES);
      return { format: image.format, loadBytes, alignmentBytes: DEFAULT_ALIGNMENT_BYTES, ...resident(undefined, loadBytes, 'ELF PT_LOAD sizes'), release: undefined };
    }
    default:
      return undefined;
  }
}
