import { ErrorCode, ParseError, ValidationError } from '../errors.js';
import { detectInitrdKind } from '../image/cpio.js';
import type { InspectedImage } from '../image/detect.js';
import type { KernelArch } from '../syscall/numbers.js';

/** Room the x86 bzImage64 loader keeps for "elfcorehdr=0x... " (MAX_ELFCOREHDR_STR_LEN). */
const ELFCOREHDR_RESERVE_BYTES = 30;

/**
 * Would this kernel's kexec_file_load take this image on this arch? Answered from the image's
 * own headers, by the rules the kernel's loaders apply, so a refusal comes with its reason
 * before the syscall (which on arm64 would say only EINVAL, and log nothing). With kexec_load
 * the loader is kexec-ts's own (src/handoff/kexec-load/), which places an arm64 or RISC-V Image.
 * Throws a ValidationError when not; returns notes for the user when it would.
 */
export function preflightKernel(image: InspectedImage | ParseError, arch: KernelArch, cmdline: string, path: string, syscall: 'kexec_file_load' | 'kexec_load' = 'kexec_file_load'): string[] {
  if (image instanceof ParseError) {
    throw notLoadable(path, `it is not a kernel image kexec-ts recognises (${image.message})`, remedyFor(arch));
  }
  if (syscall === 'kexec_load' && arch === 'riscv64') {
    if (image.format === 'riscv-image') return [];
    throw notLoadable(path, `it is ${describeFormat(image)}; kexec-ts's kexec_load places a RISC-V Image only`, 'Pass the kernel\'s Image (Debian\'s /boot/vmlinux-VERSION on riscv64 is one).');
  }
  switch (arch) {
    case 'x86_64':
      return preflightX86(image, cmdline, path);
    case 'aarch64':
      if (image.format === 'arm64-image') {
        if (image.image.bigEndian) throw notLoadable(path, 'it is a big-endian arm64 Image; the running kernel is little-endian', remedyFor(arch));
        // arch/arm64/kernel/kexec_image.c image_load(): an image_size of 0 (kernels before 3.17) is EINVAL.
        if (image.image.imageSize === 0n) throw notLoadable(path, 'its header has image_size 0 (a kernel older than 3.17), which the arm64 loader refuses', remedyFor(arch));
        return [];
      }
      break;
    case 'riscv64':
      // arch/riscv/kernel/machine_kexec_file.c: the ELF loader (elf_kexec.c, since 5.19); the
      // Image loader (kexec_image.c) in newer kernels.
      if (image.format === 'elf' && image.elf.machineName === 'riscv' && image.elf.class === 64) return [];
      if (image.format === 'riscv-image') return ['a RISC-V Image needs a kernel with the Image kexec loader (arch/riscv/kernel/kexec_image.c); older ones take only an ELF vmlinux'];
      break;
  }
  throw notLoadable(path, `it is ${describeFormat(image)}, which ${syscall} on ${arch} does not take`, remedyFor(arch));
}

function preflightX86(image: InspectedImage, cmdline: string, path: string): string[] {
  if (image.format !== 'bzImage') {
    throw notLoadable(path, `it is ${describeFormat(image)}, and x86_64 takes only a bzImage`, remedyFor('x86_64'));
  }
  const bz = image.bzImage;
  // The checks of bzImage64_probe() (arch/x86/kernel/kexec-bzimage64.c), in its order.
  if (bz.header.version < 0x020c) throw notLoadable(path, `its boot protocol is ${bz.protocolVersion.text}; the kexec loader needs 2.12 or newer`, remedyFor('x86_64'));
  if (!bz.loadflags.loadedHigh) throw notLoadable(path, 'it is a zImage (LOADED_HIGH not set), not a bzImage', remedyFor('x86_64'));
  if (!bz.xloadflags.kernel64) throw notLoadable(path, 'it has no 64-bit entry point (XLF_KERNEL_64 not set): a 32-bit kernel', remedyFor('x86_64'));
  if (!bz.xloadflags.canBeLoadedAbove4G) throw notLoadable(path, 'it cannot be loaded above 4 GiB (XLF_CAN_BE_LOADED_ABOVE_4G not set)', remedyFor('x86_64'));
  // The loader refuses cmdline_len + 30 > cmdline_size, with cmdline_len counting the NUL.
  const lengthBytes = Buffer.byteLength(cmdline, 'utf8');
  const maxBytes = bz.cmdlineSize - ELFCOREHDR_RESERVE_BYTES - 1;
  if (lengthBytes > maxBytes) {
    throw new ValidationError(
      ErrorCode.CMDLINE_TOO_LONG,
      `The command line is ${lengthBytes} bytes; this kernel takes at most ${maxBytes} (its cmdline_size ${bz.cmdlineSize}, minus ${ELFCOREHDR_RESERVE_BYTES} kept for elfcorehdr=, minus the NUL).`,
      { path, remedy: `Shorten the command line by ${lengthBytes - maxBytes} bytes.` },
    );
  }
  return [];
}

/** Throws unless the first bytes look like something the kernel can unpack or mount as an initrd. */
export function preflightInitrd(head: Uint8Array, path: string, isCompressed: (head: Uint8Array) => boolean): void {
  if (detectInitrdKind(head) !== undefined || isCompressed(head)) return;
  throw new ValidationError(
    ErrorCode.INITRD_NOT_RECOGNIZED,
    `The initrd ${path} is neither a cpio archive, a compressed one, nor a filesystem image the kernel can use as an initrd.`,
    { path, remedy: 'Pass the initramfs itself (e.g. /boot/initrd.img-VERSION); `file` tells what the given file is.' },
  );
}

/** IMAGE_NOT_LOADABLE with its reason kept apart from the sentence, for verdicts built on it. */
export class ImageNotLoadableError extends ValidationError {
  readonly reason: string;

  constructor(path: string, reason: string, remedy: string) {
    super(ErrorCode.IMAGE_NOT_LOADABLE, `The kernel image ${path} cannot be loaded here: ${reason}.`, { path, remedy });
    this.reason = reason;
  }
}

function notLoadable(path: string, why: string, remedy: string): ValidationError {
  return new ImageNotLoadableError(path, why, remedy);
}

function remedyFor(arch: KernelArch): string {
  switch (arch) {
    case 'x86_64':
      return 'Pass a 64-bit x86 bzImage, such as /boot/vmlinuz-VERSION of an amd64 distribution kernel.';
    case 'aarch64':
      return 'Pass an arm64 Image (/boot/vmlinuz-VERSION of an arm64 distribution kernel); a compressed Image or an EFI zboot image must be decompressed first.';
    case 'riscv64':
      return 'Pass a riscv64 ELF vmlinux, or an Image on kernels with the Image loader.';
  }
}

function describeFormat(image: InspectedImage): string {
  switch (image.format) {
    case 'bzImage':
      return 'an x86 bzImage';
    case 'arm64-image':
      return 'an arm64 Image';
    case 'riscv-image':
      return 'a RISC-V Image';
    case 'zboot':
      return `an EFI zboot image (${image.zboot.compressionType}-compressed)`;
    case 'elf':
      return `an ELF ${image.elf.typeName} for ${image.elf.machineName}`;
    case 'initrd':
      return `an initrd (${image.kind}), not a kernel`;
    case 'uki':
      return 'a Unified Kernel Image (kexec-ts unpacks its .linux, .initrd and .cmdline when preflight is on)';
    case 'pe':
      return `a PE/COFF ${image.pe.subsystemName ?? 'image'} without a Linux kernel header`;
    case 'compressed':
      return `${image.codec}-compressed data that does not decompress to a kernel`;
  }
}
