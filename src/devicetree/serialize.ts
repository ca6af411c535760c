import { ErrorCode, KexecError } from '../errors.js';
import { DEVICETREE_LIMITS } from '../limits.js';
import {
  alignUp,
  FDT_BEGIN_NODE,
  FDT_END,
  FDT_END_NODE,
  FDT_LAST_COMP_VERSION,
  FDT_MAGIC,
  FDT_MEM_RSVMAP_ALIGNMENT,
  FDT_PROP,
  FDT_TOKEN_BYTES,
  FDT_VERSION,
  fdtHeaderLayout,
  fdtPropertyHeaderLayout,
  fdtReserveEntryLayout,
} from './layout.js';
import type { DeviceTree, DeviceTreeNode } from './tree.js';

const BIG_ENDIAN = false;
const U32_MAX = 0xffffffff;
const U64_MAX = 0xffff_ffff_ffff_ffffn;

/**
 * Writes a tree as a version 17 blob, laid out as dtc and libfdt's fdt_pack lay it out: header,
 * memory reservation block (8-byte aligned, ended by its 0,0 entry), structure block ended by
 * FDT_END, then the strings block, each property name stored once. Nothing pads the end: the
 * loader gives the next kernel exactly totalsize bytes.
 */
export function serializeFdt(tree: DeviceTree): Uint8Array {
  if (!Number.isInteger(tree.bootCpuidPhys) || tree.bootCpuidPhys < 0 || tree.bootCpuidPhys > U32_MAX) unwritable(`boot_cpuid_phys ${tree.bootCpuidPhys} is not a u32`);
  if (tree.root.name !== '') unwritable(`the root node is named "${tree.root.name}"; it must have no name`);

  const strings = new StringsTable();
  const structure = new StructureWriter();
  writeNode(structure, strings, tree.root, 0);
  structure.u32(FDT_END);

  const rsvmapOffset = alignUp(fdtHeaderLayout.sizeBytes, FDT_MEM_RSVMAP_ALIGNMENT);
  const rsvmapBytes = (tree.memoryReservations.length + 1) * fdtReserveEntryLayout.sizeBytes;
  const structOffset = alignUp(rsvmapOffset + rsvmapBytes, FDT_TOKEN_BYTES);
  const structBytes = structure.length;
  const stringsOffset = structOffset + structBytes;
  const stringsBytes = strings.length;
  const totalsize = stringsOffset + stringsBytes;
  if (totalsize > U32_MAX) {
    throw new KexecError(ErrorCode.FORMAT_LIMIT_EXCEEDED, `devicetree: the blob would be ${totalsize} bytes; totalsize is a u32`);
  }

  const blob = new Uint8Array(totalsize);
  fdtHeaderLayout.write(
    blob,
    {
      magic: FDT_MAGIC,
      totalsize,
      off_dt_struct: structOffset,
      off_dt_strings: stringsOffset,
      off_mem_rsvmap: rsvmapOffset,
      version: FDT_VERSION,
      last_comp_version: FDT_LAST_COMP_VERSION,
      boot_cpuid_phys: tree.bootCpuidPhys,
      size_dt_strings: stringsBytes,
      size_dt_struct: structBytes,
    },
    0,
    BIG_ENDIAN,
  );
  tree.memoryReservations.forEach(({ address, size }, index) => {
    if (address < 0n || address > U64_MAX || size < 0n || size > U64_MAX) unwritable(`memory reservation ${index} (${address}, ${size}) is not two u64s`);
    // 5.3.2: an entry of address 0 and size 0 ends the list; written here it would hide the rest.
    if (address === 0n && size === 0n) unwritable(`memory reservation ${index} has address 0 and size 0, which ends the list`);
    fdtReserveEntryLayout.write(blob, { address, size }, rsvmapOffset + index * fdtReserveEntryLayout.sizeBytes, BIG_ENDIAN);
  });
  // The terminating entry is the zeros the blob was made with.
  blob.set(structure.bytes(), structOffset);
  blob.set(strings.bytes(), stringsOffset);
  return blob;
}

function unwritable(message: string): never {
  throw new KexecError(ErrorCode.FORMAT_INVALID, `devicetree: cannot write the tree: ${message}`);
}

function writeNode(structure: StructureWriter, strings: StringsTable, node: DeviceTreeNode, depth: number): void {
  // What parseFdt would refuse is not written: the next kernel's unflattener stops at the same depth.
  if (depth === DEVICETREE_LIMITS.nodeDepth) throw new KexecError(ErrorCode.FORMAT_LIMIT_EXCEEDED, `devicetree: nodes nest deeper than ${DEVICETREE_LIMITS.nodeDepth}`);
  if (depth > 0) {
    if (node.name === '') unwritable('a node other than the root has an empty name');
    if (node.name.includes('/')) unwritable(`the node name "${node.name}" holds a "/"`);
  }
  structure.u32(FDT_BEGIN_NODE);
  structure.name(node.name);
  for (const property of node.properties) {
    if (property.name === '') unwritable(`a property of "${node.name || '/'}" has an empty name`);
    structure.u32(FDT_PROP);
    const header = new Uint8Array(fdtPropertyHeaderLayout.sizeBytes);
    fdtPropertyHeaderLayout.write(header, { len: property.value.length, nameoff: strings.offsetOf(property.name) }, 0, BIG_ENDIAN);
    structure.append(header);
    structure.append(property.value);
    structure.align();
  }
  for (const child of node.children) writeNode(structure, strings, child, depth + 1);
  structure.u32(FDT_END_NODE);
}

/** Latin-1 bytes of a name, one byte per character (parseFdt reads names so, so they round-trip). */
function nameBytes(name: string): Uint8Array {
  for (let index = 0; index < name.length; index++) {
    const code = name.charCodeAt(index);
    if (code === 0 || code > 0xff) unwritable(`the name "${name}" holds a character that is not a byte other than NUL`);
  }
  if (name.length > DEVICETREE_LIMITS.nameBytes) throw new KexecError(ErrorCode.FORMAT_LIMIT_EXCEEDED, `devicetree: the name "${name.slice(0, 40)}..." is longer than ${DEVICETREE_LIMITS.nameBytes} bytes`);
  return new Uint8Array(Buffer.from(name, 'latin1'));
}

/** The strings block: each name once, NUL-terminated, in order of first use. */
class StringsTable {
  private readonly offsets = new Map<string, number>();
  private readonly parts: Uint8Array[] = [];
  length = 0;

  offsetOf(name: string): number {
    const known = this.offsets.get(name);
    if (known !== undefined) return known;
    const offset = this.length;
    const bytes = nameBytes(name);
    this.parts.push(bytes, new Uint8Array(1));
    this.length += bytes.length + 1;
    this.offsets.set(name, offset);
    return offset;
  }

  bytes(): Uint8Array {
    return concat(this.parts, this.length);
  }
}

/** The structure block as it grows: tokens, names and values, each padded to a 4-byte boundary. */
class StructureWriter {
  private readonly parts: Uint8Array[] = [];
  length = 0;

  u32(value: number): void {
    const bytes = new Uint8Array(FDT_TOKEN_BYTES);
    new DataView(bytes.buffer).setUint32(0, value, BIG_ENDIAN);
    this.append(bytes);
  }

  /** A node name, its NUL, and padding to the next token. */
  name(name: string): void {
    this.append(nameBytes(name));
    this.append(new Uint8Array(1));
    this.align();
  }

  append(bytes: Uint8Array): void {
    if (bytes.length > U32_MAX) unwritable(`a ${bytes.length}-byte value does not fit fdt_property.len`);
    this.parts.push(bytes);
    this.length += bytes.length;
  }

  align(): void {
    const padding = alignUp(this.length, FDT_TOKEN_BYTES) - this.length;
    if (padding > 0) this.append(new Uint8Array(padding));
  }

  bytes(): Uint8Array {
    return concat(this.parts, this.length);
  }
}

function concat(parts: readonly Uint8Array[], length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}
