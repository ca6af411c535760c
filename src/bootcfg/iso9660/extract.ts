/**
 * A file out of an image in bounded chunks, for the loader to write into a memfd (or any
 * sink): the whole file never has to sit in memory, and the size cap and every extent are
 * checked before the first byte is handed over, so a refused file leaves nothing half written.
 * Pure: the sink does the writing.
 */
import type { Iso, IsoChunkOptions } from './iso.js';

/** Hands the file at `path` to `write` chunk by chunk, in order; returns the bytes written. */
export function extractIsoFile(iso: Iso, path: string, write: (chunk: Uint8Array) => void, options: IsoChunkOptions): number {
  let written = 0;
  for (const chunk of iso.chunks(path, options)) {
    write(chunk);
    written += chunk.length;
  }
  return written;
}
