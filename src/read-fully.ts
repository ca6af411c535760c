import { readSync } from 'node:fs';

/**
 * Reads up to `length` bytes of an open file from `position` (the start by default) with
 * positional reads (the descriptor's offset is left alone), looping until the file ends or
 * `length` is reached. Returns what was read: shorter when the file is shorter (or shrank).
 */
export function readFully(fd: number, length: number, position = 0): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const read = readSync(fd, bytes, filled, length - filled, position + filled);
    if (read === 0) break;
    filled += read;
  }
  return bytes.subarray(0, filled);
}
