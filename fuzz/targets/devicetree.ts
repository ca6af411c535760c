// Fuzz target for the flattened devicetree reader and writer (src/devicetree/): the blob the
// arm64 and riscv64 kexec_load paths take from /sys/firmware/fdt and hand on. Seeds are qemu's
// virt trees (repacked by dtc without libfdt's free space) and test/devicetree/every-feature.dts
// compiled by dtc, made by test/devicetree/real-blobs.ts and kept in the fuzz seed cache.
import { parseFdt, readMemoryRanges, readReservedMemory, serializeFdt } from '../../src/devicetree/index.js';
import { FDT_BEGIN_NODE, FDT_END, FDT_PROP, fdtHeaderLayout } from '../../src/devicetree/layout.js';
import { everyFeatureDtb, hasTool, qemuVirtDtb, repack, type QemuVirtMachine } from '../../test/devicetree/real-blobs.js';
import { derivedSeed } from '../artefacts.js';
import type { LyingField, Seed } from '../mutate.js';
import { eachStep, present, type FuzzTarget } from './target.js';

const SEED_MACHINES: readonly QemuVirtMachine[] = ['qemu-virt-arm64', 'qemu-virt-arm64-smp2-1g', 'qemu-virt-riscv64'];
/** Property headers marked as lying fields per seed: enough to reach every kind of node. */
const LYING_PROPERTIES = 96;

/**
 * The header's offsets and sizes, and the len and nameoff of the first properties, at their
 * offsets in the seed: the numbers a liar changes. Walks a blob known to be well formed.
 */
function lyingFields(blob: Uint8Array): LyingField[] {
  const fields: LyingField[] = Object.values(fdtHeaderLayout.fields).map(({ offset }) => ({ offset, width: 4, bigEndian: true }));
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  let at = view.getUint32(fdtHeaderLayout.fields.off_dt_struct.offset, false);
  let properties = 0;
  while (at + 4 <= blob.length && properties < LYING_PROPERTIES) {
    const token = view.getUint32(at, false);
    at += 4;
    if (token === FDT_END) break;
    if (token === FDT_BEGIN_NODE) at = (blob.indexOf(0, at) + 4) & ~3;
    if (token === FDT_PROP) {
      fields.push({ offset: at, width: 4, bigEndian: true }, { offset: at + 4, width: 4, bigEndian: true });
      at = (at + 8 + view.getUint32(at, false) + 3) & ~3;
      properties++;
    }
  }
  return fields;
}

async function seed(name: string, build: () => Uint8Array | undefined): Promise<Seed | undefined> {
  const bytes = await derivedSeed(`devicetree/${name}.dtb`, build);
  return bytes === undefined ? undefined : { name: `${name}.dtb (generated)`, bytes, fields: lyingFields(bytes) };
}

export const DEVICETREE_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'devicetree',
    description: 'parseFdt, serializeFdt of what it read (must read back and write the same), readMemoryRanges, readReservedMemory',
    dictionary: ['\xd0\x0d\xfe\xed', '\x00\x00\x00\x01', '\x00\x00\x00\x02', '\x00\x00\x00\x03', '\x00\x00\x00\x04', '\x00\x00\x00\x09', '\xff\xff\xff\xff', '\0', '#address-cells\0', '#size-cells\0', 'reg\0', 'device_type\0', 'memory\0', 'status\0', 'okay\0', 'reserved-memory\0', 'chosen\0', '@'],
    maxBytes: 64 << 10,
    async seeds() {
      const hasDtc = hasTool('dtc');
      const seeds = await Promise.all([
        ...SEED_MACHINES.map((machine) =>
          seed(machine, () => {
            const dumped = hasDtc ? qemuVirtDtb(machine) : undefined;
            return dumped === undefined ? undefined : repack(dumped);
          }),
        ),
        seed('every-feature', () => everyFeatureDtb(1)),
      ]);
      return present(seeds);
    },
    run(bytes) {
      const tree = parseFdt(bytes);
      let written: Uint8Array;
      try {
        written = serializeFdt(tree);
      } catch (error) {
        // What parseFdt accepts, serializeFdt must write: a refusal here is a bug, not an input's fault.
        throw new Error(`a parsed tree could not be written: ${String(error)}`, { cause: error });
      }
      const again = serializeFdt(parseFdt(written));
      if (!Buffer.from(again).equals(Buffer.from(written))) throw new Error('a written blob, read back, does not write the same bytes');
      eachStep([() => readMemoryRanges(tree), () => readReservedMemory(tree)], 'any');
      return tree;
    },
  },
];
