import { UsageError } from '../errors.js';

/**
 * A devicetree as the loader edits it: nodes in blob order, each with its properties in blob order
 * (a repeated name is kept, as the blob had it) and its subnodes. Values are raw bytes; the
 * helpers in values.ts read and write the usual encodings.
 */
export interface DeviceTree {
  root: DeviceTreeNode;
  /** The memory reservation block (5.3), without its terminating entry. */
  memoryReservations: MemoryReservation[];
  /** 5.2 boot_cpuid_phys: the physical id of the boot CPU, its `reg` in /cpus. */
  bootCpuidPhys: number;
}

export interface DeviceTreeNode {
  /** The node name with its unit address ("memory@40000000"); the root's is "". */
  name: string;
  properties: DeviceTreeProperty[];
  children: DeviceTreeNode[];
}

export interface DeviceTreeProperty {
  name: string;
  value: Uint8Array;
}

export interface MemoryReservation {
  address: bigint;
  size: bigint;
}

export function emptyDeviceTree(): DeviceTree {
  return { root: { name: '', properties: [], children: [] }, memoryReservations: [], bootCpuidPhys: 0 };
}

/**
 * The child called `name`. As libfdt's fdt_subnode_offset, a name without a unit address also
 * matches the first child whose name is that followed by "@unit" ("memory" finds "memory@40000000").
 */
export function findChild(node: DeviceTreeNode, name: string): DeviceTreeNode | undefined {
  const exact = node.children.find((child) => child.name === name);
  if (exact !== undefined || name.includes('@')) return exact;
  return node.children.find((child) => child.name.startsWith(`${name}@`));
}

/** The node at an absolute path ("/chosen", "/reserved-memory/linux,cma"); aliases are not resolved. */
export function findNode(tree: DeviceTree, path: string): DeviceTreeNode | undefined {
  let node: DeviceTreeNode | undefined = tree.root;
  for (const component of pathComponents(path)) {
    node = findChild(node, component);
    if (node === undefined) return undefined;
  }
  return node;
}

/** The node at an absolute path, creating it and any missing parent (empty, as the last child). */
export function ensureNode(tree: DeviceTree, path: string): DeviceTreeNode {
  let node = tree.root;
  for (const component of pathComponents(path)) {
    let child = findChild(node, component);
    if (child === undefined) {
      child = { name: component, properties: [], children: [] };
      node.children.push(child);
    }
    node = child;
  }
  return node;
}

/** The value of the first property called `name` (the one libfdt's fdt_getprop and the kernel read). */
export function getProperty(node: DeviceTreeNode, name: string): Uint8Array | undefined {
  return node.properties.find((property) => property.name === name)?.value;
}

/** Replaces the value of the property called `name` where it stands, or appends the property. */
export function setProperty(node: DeviceTreeNode, name: string, value: Uint8Array): void {
  const existing = node.properties.find((property) => property.name === name);
  if (existing !== undefined) existing.value = value;
  else node.properties.push({ name, value });
}

/** Removes every property called `name`; says whether there was one. */
export function deleteProperty(node: DeviceTreeNode, name: string): boolean {
  const before = node.properties.length;
  node.properties = node.properties.filter((property) => property.name !== name);
  return node.properties.length !== before;
}

function pathComponents(path: string): string[] {
  // An alias ("serial0") or a relative path would need /aliases resolved first: not what a loader means.
  if (!path.startsWith('/')) throw new UsageError(`devicetree paths are absolute, "${path}" is not`);
  return path.split('/').filter((component) => component !== '');
}
