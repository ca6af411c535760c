import { ByteView } from '../binary/byte-view.js';
import { ErrorCode, ParseError } from '../errors.js';
import { DEVICETREE_LIMITS } from '../limits.js';
import {
  alignUp,
  FDT_BEGIN_NODE,
  FDT_END,
  FDT_END_NODE,
  FDT_LAST_COMP_VERSION,
  FDT_MAGIC,
  FDT_MEM_RSVMAP_ALIGNMENT,
  FDT_NOP,
  FDT_PROP,
  FDT_STRUCT_ALIGNMENT,
  FDT_TOKEN_BYTES,
  FDT_VERSION,
  fdtHeaderLayout,
  fdtPropertyHeaderLayout,
  fdtReserveEntryLayout,
} from './layout.js';
import type { DeviceTree, DeviceTreeNode, MemoryReservation } from './tree.js';

export const DEVICETREE_FORMAT = 'devicetree';

const BIG_ENDIAN = false;
const HEADER = fdtHeaderLayout.fields;

export function probeFdt(head: Uint8Array): boolean {
  const view = new ByteView(head, DEVICETREE_FORMAT);
  return view.has(HEADER.magic.offset, 4) && view.u32(HEADER.magic.offset, 'magic', BIG_ENDIAN) === FDT_MAGIC;
}

/** One block of the blob, absolute offsets: [start, end). */
interface Block {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/**
 * Reads a flattened devicetree blob (Devicetree Specification v0.4 chapter 5) into a tree. The
 * header is checked as libfdt's fdt_check_header does, and the structure block walked as its
 * fdt_check_full does, so what libfdt refuses is refused here too; bytes past totalsize are
 * ignored (a blob may sit in a larger buffer). Values are copied: the tree does not hold `bytes`.
 */
export function parseFdt(bytes: Uint8Array): DeviceTree {
  const view = new ByteView(bytes, DEVICETREE_FORMAT);
  view.require(HEADER.magic.offset, 4, 'fdt_header.magic');
  if (view.u32(HEADER.magic.offset, 'fdt_header.magic', BIG_ENDIAN) !== FDT_MAGIC) {
    throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, DEVICETREE_FORMAT, 'no 0xd00dfeed magic', { offset: HEADER.magic.offset, field: 'fdt_header.magic' });
  }
  const header = fdtHeaderLayout.read(view, 0, BIG_ENDIAN);
  checkVersion(header.version, header.last_comp_version);

  if (header.totalsize < fdtHeaderLayout.sizeBytes) {
    throw invalid(`totalsize ${header.totalsize} is smaller than the ${fdtHeaderLayout.sizeBytes}-byte header`, HEADER.totalsize.offset, 'fdt_header.totalsize');
  }
  if (header.totalsize > bytes.length) {
    throw new ParseError(ErrorCode.FORMAT_TRUNCATED, DEVICETREE_FORMAT, `totalsize is ${header.totalsize} bytes, but the input has ${bytes.length}`, {
      offset: HEADER.totalsize.offset,
      field: 'fdt_header.totalsize',
    });
  }
  // 5.3.1 and 5.4.1; libfdt refuses either with FDT_ERR_ALIGNMENT.
  if (header.off_mem_rsvmap % FDT_MEM_RSVMAP_ALIGNMENT !== 0) {
    throw invalid(`off_mem_rsvmap ${header.off_mem_rsvmap} is not ${FDT_MEM_RSVMAP_ALIGNMENT}-byte aligned`, HEADER.off_mem_rsvmap.offset, 'fdt_header.off_mem_rsvmap');
  }
  if (header.off_dt_struct % FDT_STRUCT_ALIGNMENT !== 0) {
    throw invalid(`off_dt_struct ${header.off_dt_struct} is not ${FDT_STRUCT_ALIGNMENT}-byte aligned`, HEADER.off_dt_struct.offset, 'fdt_header.off_dt_struct');
  }
  const structure = checkedBlock('structure block', header.off_dt_struct, header.size_dt_struct, header.totalsize, 'off_dt_struct');
  const strings = checkedBlock('strings block', header.off_dt_strings, header.size_dt_strings, header.totalsize, 'off_dt_strings');
  const reservations = readMemoryReservations(view, header.off_mem_rsvmap, header.totalsize);
  checkDisjoint([reservations.block, structure, strings]);

  const root = readStructure(view, structure, new StringsBlock(view, strings));
  return { root, memoryReservations: reservations.entries, bootCpuidPhys: header.boot_cpuid_phys };
}

function invalid(message: string, offset: number, field?: string): ParseError {
  return new ParseError(ErrorCode.FORMAT_INVALID, DEVICETREE_FORMAT, message, field === undefined ? { offset } : { offset, field });
}

function truncated(message: string, offset: number, field?: string): ParseError {
  return new ParseError(ErrorCode.FORMAT_TRUNCATED, DEVICETREE_FORMAT, message, field === undefined ? { offset } : { offset, field });
}

function nameTooLong(offset: number, field: string): ParseError {
  return new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, DEVICETREE_FORMAT, `a name longer than ${DEVICETREE_LIMITS.nameBytes} bytes`, { offset, field });
}

function checkVersion(version: number, lastCompVersion: number): void {
  // Version 16 and older lack size_dt_struct (and before 16, names were full paths): the
  // kernel, dtc and qemu have written 17 for years, and it is the only one the spec describes.
  if (lastCompVersion > FDT_VERSION) {
    throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, DEVICETREE_FORMAT, `last_comp_version ${lastCompVersion}: only readers of that version or later can read this blob, this one reads ${FDT_VERSION}`, {
      offset: HEADER.last_comp_version.offset,
      field: 'fdt_header.last_comp_version',
    });
  }
  if (version < FDT_VERSION) {
    throw new ParseError(ErrorCode.FORMAT_UNRECOGNIZED, DEVICETREE_FORMAT, `version ${version}: only version ${FDT_VERSION} (last_comp_version ${FDT_LAST_COMP_VERSION}) is read`, {
      offset: HEADER.version.offset,
      field: 'fdt_header.version',
    });
  }
}

/** A block inside [header end, totalsize], as libfdt's check_block_. */
function checkedBlock(name: string, start: number, sizeBytes: number, totalsize: number, offsetField: 'off_dt_struct' | 'off_dt_strings'): Block {
  const field = `fdt_header.${offsetField}`;
  if (start < fdtHeaderLayout.sizeBytes) throw invalid(`the ${name} starts at ${start}, inside the header`, HEADER[offsetField].offset, field);
  if (start + sizeBytes > totalsize) {
    throw truncated(`the ${name} (${sizeBytes} bytes at ${start}) ends past totalsize ${totalsize}`, HEADER[offsetField].offset, field);
  }
  return { name, start, end: start + sizeBytes };
}

function readMemoryReservations(view: ByteView, start: number, totalsize: number): { entries: MemoryReservation[]; block: Block } {
  if (start < fdtHeaderLayout.sizeBytes) {
    throw invalid(`the memory reservation block starts at ${start}, inside the header`, HEADER.off_mem_rsvmap.offset, 'fdt_header.off_mem_rsvmap');
  }
  const entries: MemoryReservation[] = [];
  for (let at = start; ; at += fdtReserveEntryLayout.sizeBytes) {
    if (at + fdtReserveEntryLayout.sizeBytes > totalsize) throw truncated('the memory reservation block has no terminating entry before totalsize', at, 'fdt_reserve_entry');
    const entry = fdtReserveEntryLayout.read(view, at, BIG_ENDIAN);
    if (entry.address === 0n && entry.size === 0n) return { entries, block: { name: 'memory reservation block', start, end: at + fdtReserveEntryLayout.sizeBytes } };
    if (entries.length === DEVICETREE_LIMITS.memoryReservations) {
      throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, DEVICETREE_FORMAT, `more than ${DEVICETREE_LIMITS.memoryReservations} memory reservations`, { offset: at, field: 'fdt_reserve_entry' });
    }
    entries.push({ address: entry.address, size: entry.size });
  }
}

function checkDisjoint(blocks: readonly Block[]): void {
  for (const [index, first] of blocks.entries()) {
    for (const second of blocks.slice(index + 1)) {
      const empty = first.start === first.end || second.start === second.end;
      if (!empty && first.start < second.end && second.start < first.end) {
        throw invalid(`the ${first.name} [${first.start}, ${first.end}) overlaps the ${second.name} [${second.start}, ${second.end})`, Math.max(first.start, second.start));
      }
    }
  }
}

/**
 * The strings block, read by offset (5.5). Property names may share bytes (dtc points "type" into
 * "device_type"), and a lying nameoff may point anywhere: the NUL positions are found once, so a
 * hostile blob of many properties naming one long unterminated string costs a search each, not a scan.
 */
class StringsBlock {
  private nulOffsets: number[] | undefined;
  private readonly names = new Map<number, string>();

  constructor(
    private readonly view: ByteView,
    private readonly block: Block,
  ) {}

  nameAt(nameoff: number, fieldOffset: number): string {
    const known = this.names.get(nameoff);
    if (known !== undefined) return known;
    if (nameoff >= this.block.end - this.block.start) {
      throw invalid(`nameoff ${nameoff} is outside the ${this.block.end - this.block.start}-byte strings block`, fieldOffset, 'fdt_property.nameoff');
    }
    const start = this.block.start + nameoff;
    const end = this.nextNul(start);
    if (end === undefined) throw invalid(`the property name at strings offset ${nameoff} is not NUL-terminated inside the strings block`, start, 'fdt_property.nameoff');
    if (end - start > DEVICETREE_LIMITS.nameBytes) throw nameTooLong(start, 'fdt_property.nameoff');
    // 2.2.4.1: a property name has 1 to 31 characters; an empty one names nothing a reader could ask for.
    if (end === start) throw invalid(`the property name at strings offset ${nameoff} is empty`, fieldOffset, 'fdt_property.nameoff');
    const name = latin1(this.view.bytes.subarray(start, end));
    this.names.set(nameoff, name);
    return name;
  }

  private nextNul(from: number): number | undefined {
    this.nulOffsets ??= this.findNuls();
    const nuls = this.nulOffsets;
    let low = 0;
    let high = nuls.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((nuls[middle] as number) < from) low = middle + 1;
      else high = middle;
    }
    return nuls[low];
  }

  private findNuls(): number[] {
    const nuls: number[] = [];
    const bytes = this.view.bytes;
    for (let at = bytes.indexOf(0, this.block.start); at !== -1 && at < this.block.end; at = bytes.indexOf(0, at + 1)) nuls.push(at);
    return nuls;
  }
}

/** Walks the structure block's tokens (5.4) without recursion; the depth is the open nodes. */
function readStructure(view: ByteView, structure: Block, strings: StringsBlock): DeviceTreeNode {
  const open: DeviceTreeNode[] = [];
  let root: DeviceTreeNode | undefined;
  let nodes = 0;
  let properties = 0;
  let at = structure.start;
  for (;;) {
    if (at + FDT_TOKEN_BYTES > structure.end) throw truncated(`the structure block ends at ${structure.end} before FDT_END`, at, 'token');
    const tokenAt = at;
    const token = view.u32(at, 'token', BIG_ENDIAN);
    at += FDT_TOKEN_BYTES;
    switch (token) {
      case FDT_NOP:
        break;
      case FDT_BEGIN_NODE: {
        // fdt_check_full: one root, with an empty name (dtc's tests two_roots and named_root).
        if (root !== undefined && open.length === 0) throw invalid('a second root node follows the first', tokenAt, 'FDT_BEGIN_NODE');
        const nameWindowEnd = Math.min(structure.end, at + DEVICETREE_LIMITS.nameBytes + 1);
        const nul = view.bytes.subarray(at, nameWindowEnd).indexOf(0);
        if (nul === -1 && nameWindowEnd === structure.end) throw truncated('a node name runs to the end of the structure block without its NUL', at, 'FDT_BEGIN_NODE');
        if (nul === -1) throw nameTooLong(at, 'FDT_BEGIN_NODE');
        const name = latin1(view.bytes.subarray(at, at + nul));
        if (open.length === 0 && name !== '') throw invalid(`the root node has the name "${name}"; it must have none`, at, 'FDT_BEGIN_NODE');
        if (open.length > 0 && name === '') throw invalid('a node other than the root has an empty name', at, 'FDT_BEGIN_NODE');
        // 2.2.3: a "/" separates path components; inside a name no path could reach the node.
        if (name.includes('/')) throw invalid(`the node name "${name}" holds a "/"`, at, 'FDT_BEGIN_NODE');
        if (open.length === DEVICETREE_LIMITS.nodeDepth) {
          throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, DEVICETREE_FORMAT, `nodes nest deeper than ${DEVICETREE_LIMITS.nodeDepth}`, { offset: tokenAt, field: 'FDT_BEGIN_NODE' });
        }
        if (++nodes > DEVICETREE_LIMITS.nodes) {
          throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, DEVICETREE_FORMAT, `more than ${DEVICETREE_LIMITS.nodes} nodes`, { offset: tokenAt, field: 'FDT_BEGIN_NODE' });
        }
        const node: DeviceTreeNode = { name, properties: [], children: [] };
        const parent = open[open.length - 1];
        if (parent === undefined) root = node;
        else parent.children.push(node);
        open.push(node);
        at = alignUp(at + nul + 1, FDT_TOKEN_BYTES);
        break;
      }
      case FDT_END_NODE:
        if (open.pop() === undefined) throw invalid('FDT_END_NODE with no node open', tokenAt, 'FDT_END_NODE');
        break;
      case FDT_PROP: {
        const node = open[open.length - 1];
        if (node === undefined) throw invalid('a property outside any node', tokenAt, 'FDT_PROP');
        // 5.4.2: a node's properties come before its subnodes; the tree keeps them apart, so a
        // property after a subnode could not be written back where it was.
        if (node.children.length > 0) throw invalid(`property after the subnodes of "${node.name || '/'}"`, tokenAt, 'FDT_PROP');
        if (at + fdtPropertyHeaderLayout.sizeBytes > structure.end) throw truncated('a property header runs past the structure block', at, 'fdt_property');
        const property = fdtPropertyHeaderLayout.read(view, at, BIG_ENDIAN);
        const valueAt = at + fdtPropertyHeaderLayout.sizeBytes;
        if (valueAt + property.len > structure.end) {
          throw truncated(`a ${property.len}-byte property value runs past the structure block's end at ${structure.end}`, at + fdtPropertyHeaderLayout.fields.len.offset, 'fdt_property.len');
        }
        if (++properties > DEVICETREE_LIMITS.properties) {
          throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, DEVICETREE_FORMAT, `more than ${DEVICETREE_LIMITS.properties} properties`, { offset: tokenAt, field: 'FDT_PROP' });
        }
        const name = strings.nameAt(property.nameoff, at + fdtPropertyHeaderLayout.fields.nameoff.offset);
        node.properties.push({ name, value: view.bytes.slice(valueAt, valueAt + property.len) });
        at = alignUp(valueAt + property.len, FDT_TOKEN_BYTES);
        break;
      }
      case FDT_END:
        if (root === undefined) throw invalid('FDT_END before any node', tokenAt, 'FDT_END');
        if (open.length > 0) throw invalid(`FDT_END with ${open.length} node(s) still open`, tokenAt, 'FDT_END');
        return root;
      default:
        throw invalid(`unknown token 0x${token.toString(16).padStart(8, '0')}`, tokenAt, 'token');
    }
  }
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}
