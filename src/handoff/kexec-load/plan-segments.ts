/**
 * What every architecture's kexec_load planner returns, and how a placed segment becomes the
 * kexec_segment the syscall takes. Pure.
 */
import type { KexecSegment } from '../../syscall/types.js';
import { alignUp, type SegmentPlacement } from './placement.js';

export interface KexecLoadPlan {
  /** Where the CPU starts after the relocation: the purgatory, or the kernel where none is needed. */
  readonly entry: bigint;
  readonly segments: KexecSegment[];
  /** In address order, named; the segments may be listed in another order (see each planner). */
  readonly placements: SegmentPlacement[];
  /** The device tree given to the new kernel. */
  readonly fdt: Uint8Array;
}

/** The segment for `bytes` at its placement: the whole page-aligned range is the segment's memory. */
export function segmentAt(bytes: Uint8Array, placement: SegmentPlacement, pageBytes: bigint): KexecSegment {
  const padded = withLeadingZeros(bytes, placement);
  return { bytes: padded, physicalAddress: placement.range.start, memoryBytes: alignUp(placement.range.end - placement.range.start, pageBytes) };
}

/** A segment starts on a page; an address inside the page (arm64's text_offset) is reached by leading zeros. */
function withLeadingZeros(bytes: Uint8Array, placement: SegmentPlacement): Uint8Array {
  const pad = Number(placement.address - placement.range.start);
  if (pad === 0) return bytes;
  const padded = new Uint8Array(pad + bytes.length);
  padded.set(bytes, pad);
  return padded;
}

/** The placement called `name` (the planner asked for it, so it is there). */
export function placementNamed(placements: readonly SegmentPlacement[], name: string): SegmentPlacement {
  const found = placements.find((placement) => placement.name === name);
  if (found === undefined) throw new Error(`no ${name} among the placed segments`);
  return found;
}
