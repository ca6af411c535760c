import { readSync } from 'node:fs';

/** One read(2) at most: Node refuses a length above 2^31-1, and Linux reads at most 0x7ffff000 bytes a call. */
const MAX_READ_BYTES = 1 << 30;

/**
 * Reads up to `length` bytes of an open file from `position` (the start by default) with
 * positional reads (the descriptor's offset is left alone), looping until the file ends or
 * `length` is reached. Returns what was read: shorter when the file is shorter (or shrank).
 */
export function readFully(fd: number, length: number, position = 0): Buffer {
  const bytes = Buffer.allocUnsafe(length);
  let filled = 0;
  while (filled < length) {
    const read = readSync(fd, bytes, filled, Math.min(length - filled, MAX_READ_BYTES), position + filled);
    if (read === 0) break;
    filled += read;
  }
  return bytes.subarray(0, filled);
}
