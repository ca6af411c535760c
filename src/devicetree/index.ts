// Flattened devicetree blobs (Devicetree Specification v0.4 chapter 5): read the running kernel's
// /sys/firmware/fdt, edit /chosen, write the blob the next kernel gets with kexec_load.
export { FDT_MAGIC, FDT_VERSION, fdtHeaderLayout } from './layout.js';
export { DEVICETREE_FORMAT, parseFdt, probeFdt, serializeFdt } from './fdt.js';
export {
  deleteProperty,
  emptyDeviceTree,
  ensureNode,
  findChild,
  findNode,
  getProperty,
  setProperty,
  type DeviceTree,
  type DeviceTreeNode,
  type DeviceTreeProperty,
  type MemoryReservation,
} from './tree.js';
export {
  decodeString,
  decodeStringList,
  decodeU32,
  decodeU32Cells,
  decodeU64,
  encodeString,
  encodeStringList,
  encodeU32,
  encodeU32Cells,
  encodeU64,
} from './values.js';
export {
  decodeReg,
  isNodeAvailable,
  readAddressCells,
  readMemoryRanges,
  readReservedMemory,
  readSizeCells,
  type AddressRange,
  type MemoryRange,
  type ReservedMemoryRegion,
} from './memory.js';
