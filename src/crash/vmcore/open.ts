import { ErrorCode, ParseError } from '../../errors.js';
import { openElfVmcore } from './elf-vmcore.js';
import { probeElfCore } from './elf-core.js';
import { openKdumpVmcore, probeKdump } from './kdump-file.js';
import { openFlattenedSource, probeFlattened } from './flattened.js';
import { openFileSource, type RandomAccessSource } from './source.js';
import type { Vmcore } from './vmcore.js';

export const DEFAULT_VMCORE_PATH = '/proc/vmcore';
const PROBE_BYTES = 16;

/**
 * Reads a dump from any random-access source: an ELF64 core, a kdump-compressed dump, or
 * either of them flattened (read in place through an index of its records).
 */
export async function readVmcore(source: RandomAccessSource): Promise<Vmcore> {
  const head = await source.readAt(0, Math.min(PROBE_BYTES, source.sizeBytes), 'signature');
  if (probeElfCore(head)) return openElfVmcore(source);
  if (probeKdump(head)) return openKdumpVmcore(source);
  if (probeFlattened(head)) {
    const inner = await openFlattenedSource(source);
    const innerHead = await inner.readAt(0, Math.min(PROBE_BYTES, inner.sizeBytes), 'signature');
    if (probeElfCore(innerHead)) return openElfVmcore(inner);
    if (probeKdump(innerHead)) return openKdumpVmcore(inner);
    throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, 'flattened dump', 'the reassembled data is neither an ELF core nor a kdump-compressed dump', { offset: 0 });
  }
  throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, 'vmcore', `${source.name} is not an ELF core, a kdump-compressed dump or a flattened dump`, { offset: 0 });
}

/** Opens /proc/vmcore (the default) or a dump file; close() it when done. */
export async function openVmcore(path: string = DEFAULT_VMCORE_PATH): Promise<Vmcore> {
  const source = await openFileSource(path);
  try {
    return await readVmcore(source);
  } catch (error) {
    await source.close();
    throw error;
  }
}
