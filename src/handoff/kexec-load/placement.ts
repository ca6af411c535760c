/**
 * Where kexec_load(2)'s segments go in physical memory, decided as the kernel's own file loader
 * would (kexec_file_load places them itself): inside System RAM as the running kernel sees it,
 * never over a range it marks reserved (firmware, no-map carve-outs), page aligned, apart. The
 * running kernel's own image may be covered: the segments are copied into place only at the
 * hand-off, after it stopped. Pure: /proc/iomem's resources in, addresses out.
 */
import { ErrorCode, ValidationError } from '../../errors.js';
import { KEXEC_SEGMENT_MAX } from '../../syscall/numbers.js';
import type { IomemResource } from '../../crash/arm/iomem.js';

/** A physical address range, end exclusive. */
export interface PhysicalRange {
  readonly start: bigint;
  readonly end: bigint;
}

/** Names under System RAM in /proc/iomem that the next kernel must not find overwritten. */
const KEEP_OUT = /^(reserved|Crash kernel)$/i;

/**
 * System RAM minus what is reserved inside it: top-level "System RAM" resources, with every
 * resource nested in them that names reserved memory cut out. Sorted, merged.
 */
export function usableRam(resources: readonly IomemResource[]): PhysicalRange[] {
  const ram: PhysicalRange[] = [];
  const holes: PhysicalRange[] = [];
  let inRam = false;
  for (const resource of resources) {
    const range = { start: resource.startAddress, end: resource.endAddress + 1n };
    if (resource.depth === 0) {
      inRam = resource.name === 'System RAM';
      if (inRam) ram.push(range);
    } else if (inRam && KEEP_OUT.test(resource.name)) {
      holes.push(range);
    }
  }
  return subtract(merge(ram), merge(holes));
}

/** `ram` without `holes`: what is left of the ranges once every hole is cut out. Sorted, merged. */
export function withoutRanges(ram: readonly PhysicalRange[], holes: readonly PhysicalRange[]): PhysicalRange[] {
  return subtract(merge(ram), merge(holes));
}

function merge(ranges: readonly PhysicalRange[]): PhysicalRange[] {
  const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const merged: PhysicalRange[] = [];
  for (const range of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && range.start <= last.end) merged[merged.length - 1] = { start: last.start, end: range.end > last.end ? range.end : last.end };
    else merged.push(range);
  }
  return merged;
}

function subtract(ranges: readonly PhysicalRange[], holes: readonly PhysicalRange[]): PhysicalRange[] {
  let pieces = [...ranges];
  for (const hole of holes) {
    pieces = pieces.flatMap((piece) => {
      if (hole.end <= piece.start || hole.start >= piece.end) return [piece];
      const kept: PhysicalRange[] = [];
      if (hole.start > piece.start) kept.push({ start: piece.start, end: hole.start });
      if (hole.end < piece.end) kept.push({ start: hole.end, end: piece.end });
      return kept;
    });
  }
  return pieces;
}

export const alignUp = (value: bigint, alignment: bigint): bigint => ((value + alignment - 1n) / alignment) * alignment;

/** What one segment needs: its size in memory, its alignment, and the lowest address it may take. */
export interface SegmentRequest {
  readonly name: string;
  readonly memoryBytes: bigint;
  readonly alignment: bigint;
  /** Added to the aligned start: the arm64 Image sits text_offset bytes above its 2 MiB base. */
  readonly offset?: bigint;
  /** Placed at or above this address (after the segment before it). */
  readonly notBelow?: bigint;
  /** Must end at or below this address (a limit of the boot protocol). */
  readonly notAbove?: bigint;
}

export interface SegmentPlacement {
  readonly name: string;
  /** Where the segment's bytes start. */
  readonly address: bigint;
  /** The page-aligned range reserved for it. */
  readonly range: PhysicalRange;
}

/**
 * First fit, in request order, each placed above the one before it: the layout the kernel's
 * file loaders produce (kernel low, then initrd, device tree and purgatory after it), so a
 * kernel that expects its initrd and device tree above it finds them there.
 */
export function placeSegments(ram: readonly PhysicalRange[], requests: readonly SegmentRequest[], pageBytes: bigint): SegmentPlacement[] {
  const placements: SegmentPlacement[] = [];
  let floor = 0n;
  for (const request of requests) {
    const notBelow = request.notBelow !== undefined && request.notBelow > floor ? request.notBelow : floor;
    const offset = request.offset ?? 0n;
    const alignment = request.alignment > pageBytes ? request.alignment : pageBytes;
    let placed: SegmentPlacement | undefined;
    for (const range of ram) {
      const base = alignUp(range.start > notBelow ? range.start : notBelow, alignment);
      const address = base + offset;
      const end = alignUp(address + request.memoryBytes, pageBytes);
      const rangeStart = address - (address % pageBytes);
      if (end <= range.end && (request.notAbove === undefined || end <= request.notAbove)) {
        placed = { name: request.name, address, range: { start: rangeStart, end } };
        break;
      }
    }
    if (placed === undefined) {
      const total = ram.reduce((sum, range) => sum + (range.end - range.start), 0n);
      throw new ValidationError(
        ErrorCode.NO_ROOM_FOR_SEGMENTS,
        `No room in System RAM for the ${request.name} (${request.memoryBytes} bytes, ${alignment}-byte aligned${request.notAbove !== undefined ? `, below 0x${request.notAbove.toString(16)}` : ''}) above 0x${notBelow.toString(16)}: ${ram.length} usable ranges, ${total} bytes in all.`,
        { remedy: 'A smaller initrd, or a machine with more memory; /proc/iomem shows what is System RAM and what is reserved.' },
      );
    }
    placements.push(placed);
    floor = placed.range.end;
  }
  return placements;
}

/**
 * What the kernel's sanity_check_segment_list() (kernel/kexec_core.c) refuses, checked before the
 * call: at most KEXEC_SEGMENT_MAX segments, each page aligned in start and size, no more bytes
 * than memory, none overlapping. The planner never makes such segments; this turns a planner
 * bug into a message that says which, rather than the kernel's bare EINVAL or EADDRNOTAVAIL.
 */
export function assertSegmentsAcceptable(segments: readonly { bytes: Uint8Array; physicalAddress: bigint; memoryBytes: bigint }[], pageBytes: bigint, names: readonly string[]): void {
  const name = (index: number): string => names[index] ?? `segment ${index}`;
  if (segments.length > KEXEC_SEGMENT_MAX) throw new Error(`kexec-ts made ${segments.length} kexec_load segments; the kernel takes ${KEXEC_SEGMENT_MAX}`);
  segments.forEach((segment, index) => {
    if (segment.physicalAddress % pageBytes !== 0n || segment.memoryBytes % pageBytes !== 0n) throw new Error(`kexec-ts placed the ${name(index)} off a page boundary`);
    if (BigInt(segment.bytes.length) > segment.memoryBytes) throw new Error(`the ${name(index)} has more bytes than the memory kexec-ts gave it`);
    segments.forEach((other, otherIndex) => {
      if (otherIndex > index && segment.physicalAddress < other.physicalAddress + other.memoryBytes && other.physicalAddress < segment.physicalAddress + segment.memoryBytes) {
        throw new Error(`kexec-ts placed the ${name(index)} over the ${name(otherIndex)}`);
      }
    });
  });
}
