import { readFully } from '../read-fully.js';
import { LIMITS } from '../limits.js';
import { ErrorCode, ValidationError } from '../errors.js';
import { closeInputFile, openInputFile, type InputFile } from '../input-file.js';

export type ImageRole = 'kernel' | 'initrd';

/** A file opened once for the kernel to read: this fd is what kexec_file_load gets. */
export interface OpenedImage extends InputFile {
  readonly role: ImageRole;
}

/**
 * Opens a kernel or initrd for kexec_file_load after checking it is a non-empty regular file
 * (the one input path, src/input-file.ts: the checks that matter are made on the opened fd).
 */
export function openImage(path: string, role: ImageRole): OpenedImage {
  return { role, ...openInputFile(path, { what: role === 'kernel' ? 'kernel image' : 'initrd' }) };
}

export function closeImage(image: OpenedImage | undefined): void {
  closeInputFile(image);
}

/**
 * The whole file, read through the already-open descriptor (positional reads: the kernel reads
 * from offset 0 itself, so the file position does not matter), refused before any allocation
 * when larger than any kernel image.
 */
export function readWholeImage(image: OpenedImage): Uint8Array {
  if (image.sizeBytes > LIMITS.wholeImageReadBytes) {
    throw new ValidationError(
      ErrorCode.INPUT_TOO_LARGE,
      `The ${image.role === 'kernel' ? 'kernel image' : 'initrd'} ${image.path} is ${image.sizeBytes} bytes, more than kexec-ts reads whole to check one (${LIMITS.wholeImageReadBytes}); no real kernel image is near that size.`,
      { path: image.path, remedy: 'Check that this is the kernel you meant; --no-preflight hands it to the kernel unchecked.' },
    );
  }
  return readFully(image.fd, image.sizeBytes);
}

/** The first `length` bytes (fewer if the file is shorter), through the open descriptor. */
export function readHead(image: OpenedImage, length: number): Uint8Array {
  return readFully(image.fd, Math.min(length, image.sizeBytes));
}
