import { readSync } from 'node:fs';

/**
 * Reads up to `length` bytes from the start of an open file with positional reads (the
 * descriptor's offset is left alone), looping until the file ends or `length` is reached.
 * Returns what was read: shorter when the file is shorter (or shrank meanwhile).
 */
export function readFully(fd: number, length: number): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const read = readSync(fd, bytes, filled, length - filled, filled);
    if (read === 0) break;
    filled += read;
  }
  return bytes.subarray(0, filled);
}
