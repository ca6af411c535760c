import { ErrorCode, ParseError } from '../errors.js';
import { DEVICETREE_LIMITS } from '../limits.js';
import { DEVICETREE_FORMAT } from './parse.js';
import { findNode, getProperty, type DeviceTree, type DeviceTreeNode } from './tree.js';
import { decodeString, decodeU32 } from './values.js';

/** One (address, size) pair of a `reg` property, in the parent bus's address space. */
export interface AddressRange {
  address: bigint;
  size: bigint;
}

/** A range of RAM, with the /memory node that lists it. */
export interface MemoryRange extends AddressRange {
  node: string;
}

/** A child of /reserved-memory (Documentation/devicetree/bindings/reserved-memory). */
export interface ReservedMemoryRegion {
  node: string;
  /** Empty for a region the kernel places itself (a `size` without `reg`). */
  ranges: AddressRange[];
  /** `no-map`: not even mapped by the kernel (firmware's own memory). */
  noMap: boolean;
  /** `reusable`: the kernel may use it while its driver does not (CMA). */
  reusable: boolean;
}

const CELL_BYTES = 4;

/** 2.3.5: a node's `#address-cells` is how many cells its children's addresses take; 2 when absent. */
export function readAddressCells(node: DeviceTreeNode): number {
  return readCellCount(node, '#address-cells', 2);
}

/** 2.3.5: a node's `#size-cells` is how many cells its children's sizes take; 1 when absent. */
export function readSizeCells(node: DeviceTreeNode): number {
  return readCellCount(node, '#size-cells', 1);
}

function readCellCount(node: DeviceTreeNode, name: '#address-cells' | '#size-cells', absent: number): number {
  const value = getProperty(node, name);
  if (value === undefined) return absent;
  const cells = decodeU32(value, name);
  if (cells > DEVICETREE_LIMITS.cellsPerNumber) {
    throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, DEVICETREE_FORMAT, `${name} of "${node.name || '/'}" is ${cells}, more than ${DEVICETREE_LIMITS.cellsPerNumber}`, { field: name });
  }
  return cells;
}

/** 2.3.6 `reg`: (address, size) pairs of the parent's #address-cells and #size-cells. */
export function decodeReg(value: Uint8Array, addressCells: number, sizeCells: number, propertyName = 'reg'): AddressRange[] {
  const entryBytes = (addressCells + sizeCells) * CELL_BYTES;
  if (entryBytes === 0 || value.length % entryBytes !== 0) {
    if (entryBytes === 0 && value.length === 0) return [];
    throw new ParseError(
      ErrorCode.FORMAT_INVALID,
      DEVICETREE_FORMAT,
      `property "${propertyName}" is ${value.length} bytes, not a whole number of ${addressCells}+${sizeCells}-cell entries`,
      { field: propertyName },
    );
  }
  const ranges: AddressRange[] = [];
  for (let at = 0; at < value.length; at += entryBytes) {
    ranges.push({ address: cellsNumber(value, at, addressCells), size: cellsNumber(value, at + addressCells * CELL_BYTES, sizeCells) });
  }
  return ranges;
}

/** `count` cells from byte `at` as one number, most significant first (2.3.5). */
function cellsNumber(value: Uint8Array, at: number, count: number): bigint {
  const data = new DataView(value.buffer, value.byteOffset, value.byteLength);
  let number = 0n;
  for (let cell = 0; cell < count; cell++) number = (number << 32n) | BigInt(data.getUint32(at + cell * CELL_BYTES, false));
  return number;
}

/**
 * Whether the kernel uses the node: `status` absent, "okay" or "ok" (of_fdt_device_is_available
 * in drivers/of/fdt.c; "ok" is the older spelling it still takes).
 */
export function isNodeAvailable(node: DeviceTreeNode): boolean {
  const status = getProperty(node, 'status');
  if (status === undefined) return true;
  const text = decodeString(status, 'status');
  return text === 'okay' || text === 'ok';
}

/**
 * The RAM the tree describes: the `reg` of each child of the root whose device_type is "memory"
 * (3.4), in the root's cells, in tree order. Disabled nodes are left out, as
 * early_init_dt_scan_memory leaves them out.
 */
export function readMemoryRanges(tree: DeviceTree): MemoryRange[] {
  const addressCells = readAddressCells(tree.root);
  const sizeCells = readSizeCells(tree.root);
  const ranges: MemoryRange[] = [];
  for (const node of tree.root.children) {
    const deviceType = getProperty(node, 'device_type');
    if (deviceType === undefined || decodeString(deviceType, 'device_type') !== 'memory' || !isNodeAvailable(node)) continue;
    const reg = getProperty(node, 'reg');
    if (reg === undefined) continue;
    for (const range of decodeReg(reg, addressCells, sizeCells)) ranges.push({ node: `/${node.name}`, ...range });
  }
  return ranges;
}

/**
 * The children of /reserved-memory, in the cells /reserved-memory declares for them (the
 * binding requires them to equal the root's). Disabled children are left out, as
 * fdt_scan_reserved_mem leaves them out; a tree without /reserved-memory has none.
 */
export function readReservedMemory(tree: DeviceTree): ReservedMemoryRegion[] {
  const parent = findNode(tree, '/reserved-memory');
  if (parent === undefined) return [];
  const addressCells = readAddressCells(parent);
  const sizeCells = readSizeCells(parent);
  return parent.children.filter(isNodeAvailable).map((child) => {
    const reg = getProperty(child, 'reg');
    return {
      node: `/reserved-memory/${child.name}`,
      ranges: reg === undefined ? [] : decodeReg(reg, addressCells, sizeCells),
      noMap: getProperty(child, 'no-map') !== undefined,
      reusable: getProperty(child, 'reusable') !== undefined,
    };
  });
}
