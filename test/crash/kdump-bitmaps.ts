// The page sets of a kdump-compressed file, read with our reader: which frames exist (1st
// bitmap) and which were kept (2nd bitmap), for comparing two dumps of one vmcore.
import { openVmcore } from '../../src/crash/vmcore/open.js';
import { readFileRange } from './vmcore-fixtures.js';

export interface KdumpBitmaps {
  maxPfn: number;
  dumpLevel: number;
  dumpedPages: number;
  memory: Buffer;
  kept: Buffer;
}

export async function openKdumpBitmaps(path: string): Promise<KdumpBitmaps> {
  const dump = await openVmcore(path);
  try {
    const header = dump.kdump!;
    const bytes = Math.ceil(header.max_mapnr / 8);
    return {
      maxPfn: header.max_mapnr,
      dumpLevel: header.dump_level,
      dumpedPages: header.dumpedPages,
      memory: readFileRange(path, header.bitmapOffset, bytes),
      kept: readFileRange(path, header.bitmapOffset + header.bitmapBytes, bytes),
    };
  } finally {
    await dump.close();
  }
}

/** The first `limit` frames whose kept bit differs between two dumps. */
export function differingPfns(a: KdumpBitmaps, b: KdumpBitmaps, limit = 10): number[] {
  const differing: number[] = [];
  for (let pfn = 0; pfn < Math.min(a.maxPfn, b.maxPfn) && differing.length < limit; pfn++) {
    if (((a.kept[pfn >> 3]! ^ b.kept[pfn >> 3]!) >> (pfn & 7)) & 1) differing.push(pfn);
  }
  return differing;
}
