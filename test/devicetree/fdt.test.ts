// The devicetree reader and writer on real blobs: qemu's virt machines (arm64, riscv64) and
// every-feature.dts compiled by dtc. dtc's own decompiler is the oracle: what it prints for our
// rewritten blob must be what it prints for the original, and every property must read back as
// it shows it. CI installs qemu and dtc (.ci/run), so there a missing tool fails, never skips.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeString,
  decodeStringList,
  decodeU32,
  decodeU32Cells,
  decodeU64,
  deleteProperty,
  encodeString,
  encodeU64,
  ensureNode,
  fdtHeaderLayout,
  findNode,
  getProperty,
  parseFdt,
  readAddressCells,
  readMemoryRanges,
  readReservedMemory,
  readSizeCells,
  serializeFdt,
  setProperty,
  type DeviceTree,
} from '../../src/devicetree/index.js';
import { ByteView } from '../../src/binary/byte-view.js';
import { FDT_END } from '../../src/devicetree/layout.js';
import { UsageError } from '../../src/errors.js';
import { decompile, everyFeatureDtb, QEMU_VIRT_MACHINES, qemuVirtDtb, type QemuVirtMachine } from './real-blobs.js';

function need(t: TestContext, blob: Uint8Array | undefined, what: string): Uint8Array | undefined {
  if (blob !== undefined) return blob;
  const reason = `${what} is not installed (Debian: device-tree-compiler, qemu-system-arm, qemu-system-misc)`;
  if (process.env.CI === 'true') assert.fail(reason);
  t.skip(reason);
  return undefined;
}

const MACHINES = Object.keys(QEMU_VIRT_MACHINES) as QemuVirtMachine[];

/** Every real blob the tests use, made once per run. */
const blobs = new Map<string, Uint8Array | undefined>();
function blob(name: QemuVirtMachine | 'every-feature'): Uint8Array | undefined {
  if (!blobs.has(name)) blobs.set(name, name === 'every-feature' ? everyFeatureDtb(1) : qemuVirtDtb(name));
  return blobs.get(name);
}
const toolFor = (name: string): string => (name === 'every-feature' ? 'dtc' : QEMU_VIRT_MACHINES[name as QemuVirtMachine].binary);

for (const name of [...MACHINES, 'every-feature'] as const) {
  test(`${name}: parse then serialize decompiles to exactly dtc's text of the original`, (t) => {
    const original = need(t, blob(name), toolFor(name));
    if (original === undefined) return;
    const rewritten = serializeFdt(parseFdt(original));
    assert.equal(decompile(rewritten), decompile(original));
    // Idempotent: the second round gives the same bytes.
    assert.deepEqual(serializeFdt(parseFdt(rewritten)), rewritten);
  });

  test(`${name}: every property reads back as dtc shows it`, (t) => {
    const original = need(t, blob(name), toolFor(name));
    if (original === undefined) return;
    const checked = compareWithDtcText(parseFdt(original), decompile(original));
    assert.ok(checked > 20, `only ${checked} properties compared`);
  });

  test(`${name}: the blob written is version 17, 8-byte aligned rsvmap, ends with FDT_END, names stored once`, (t) => {
    const original = need(t, blob(name), toolFor(name));
    if (original === undefined) return;
    const written = serializeFdt(parseFdt(original));
    const header = fdtHeaderLayout.read(new ByteView(written, 'test'), 0, false);
    assert.equal(header.magic, 0xd00dfeed);
    assert.equal(header.version, 17);
    assert.equal(header.last_comp_version, 16);
    assert.equal(header.totalsize, written.length);
    assert.equal(header.off_mem_rsvmap % 8, 0);
    assert.equal(header.off_dt_struct % 4, 0);
    assert.equal(new DataView(written.buffer).getUint32(header.off_dt_struct + header.size_dt_struct - 4, false), FDT_END);
    const names = Buffer.from(written.subarray(header.off_dt_strings, header.off_dt_strings + header.size_dt_strings)).toString('latin1').split('\0').slice(0, -1);
    assert.equal(new Set(names).size, names.length, 'a property name stored twice');
    assert.ok(names.includes('compatible'));
  });
}

test('qemu virt: the memory nodes say what -m asked for', (t) => {
  for (const machine of MACHINES) {
    const original = need(t, blob(machine), QEMU_VIRT_MACHINES[machine].binary);
    if (original === undefined) return;
    const ranges = readMemoryRanges(parseFdt(original));
    // qemu's virt boards start RAM at 1 GiB (arm64) and 2 GiB (riscv64): hw/arm/virt.c, hw/riscv/virt.c.
    const base = machine.includes('riscv') ? 0x8000_0000n : 0x4000_0000n;
    assert.deepEqual(ranges, [{ node: `/memory@${base.toString(16)}`, address: base, size: QEMU_VIRT_MACHINES[machine].memoryBytes }], machine);
  }
});

test('qemu virt -smp 2: two cpus under /cpus, reg read with /cpus cells', (t) => {
  const original = need(t, blob('qemu-virt-arm64-smp2-1g'), 'qemu-system-aarch64');
  if (original === undefined) return;
  const tree = parseFdt(original);
  const cpus = findNode(tree, '/cpus');
  assert.ok(cpus);
  assert.equal(readAddressCells(cpus), 1);
  assert.equal(readSizeCells(cpus), 0);
  const cpuNodes = cpus.children.filter((child) => child.name.startsWith('cpu@'));
  assert.deepEqual(cpuNodes.map((cpu) => decodeU32(getProperty(cpu, 'reg')!, 'reg')), [0, 1]);
  assert.deepEqual(decodeStringList(getProperty(findNode(tree, '/psci')!, 'compatible')!), ['arm,psci-1.0', 'arm,psci-0.2', 'arm,psci']);
});

test('every-feature.dts: reservations, boot cpu, strings, u64s, memory and reserved-memory as written', (t) => {
  const original = need(t, blob('every-feature'), 'dtc');
  if (original === undefined) return;
  const tree = parseFdt(original);
  assert.deepEqual(tree.memoryReservations, [
    { address: 0x1000_0000n, size: 0x4000n },
    { address: 0x8_8000_0000n, size: 0x10_0000n },
  ]);
  assert.equal(tree.bootCpuidPhys, 1);
  assert.equal(decodeString(getProperty(tree.root, 'model')!), 'kexec-ts devicetree fixture');
  assert.deepEqual(decodeStringList(getProperty(tree.root, 'compatible')!), ['kexec-ts,fixture', 'linux,dummy-virt']);
  const chosen = findNode(tree, '/chosen')!;
  assert.equal(decodeU64(getProperty(chosen, 'linux,initrd-start')!), 0x4400_0000n);
  assert.equal(getProperty(chosen, 'empty-flag')!.length, 0);
  const encodings = findNode(tree, '/encodings')!;
  assert.deepEqual(decodeStringList(getProperty(encodings, 'strings')!), ['one', '', 'three']);
  assert.equal(decodeString(getProperty(encodings, 'utf8')!), 'grüße');
  assert.deepEqual([...getProperty(findNode(tree, '/soc/level1/level2/level3')!, 'deep')!], [0xde, 0xad, 0xbe, 0xef, 0x01]);
  // "memory" finds memory@40000000 as libfdt's fdt_path_offset does; the disabled memory@100000000 is no RAM.
  assert.equal(findNode(tree, '/memory')?.name, 'memory@40000000');
  assert.deepEqual(readMemoryRanges(tree), [
    { node: '/memory@40000000', address: 0x4000_0000n, size: 0x4000_0000n },
    { node: '/memory@40000000', address: 0x8_8000_0000n, size: 0x8000_0000n },
  ]);
  assert.deepEqual(readReservedMemory(tree), [
    { node: '/reserved-memory/secure@7e000000', ranges: [{ address: 0x7e00_0000n, size: 0x20_0000n }], noMap: true, reusable: false },
    { node: '/reserved-memory/linux,cma', ranges: [], noMap: false, reusable: true },
  ]);
  assert.throws(() => findNode(tree, 'chosen'), UsageError);
});

test('editing /chosen (bootargs, initrd as u64, kaslr-seed, elfcorehdr deleted) shows in dtc', (t) => {
  const original = need(t, blob('every-feature'), 'dtc');
  if (original === undefined) return;
  const tree = parseFdt(original);
  const chosen = ensureNode(tree, '/chosen');
  setProperty(chosen, 'bootargs', encodeString('console=ttyAMA0 root=/dev/vda2 quiet'));
  setProperty(chosen, 'linux,initrd-start', encodeU64(0x4800_0000n));
  setProperty(chosen, 'linux,initrd-end', encodeU64(0x1_4880_0000n));
  setProperty(chosen, 'kaslr-seed', encodeU64(0x0123_4567_89ab_cdefn));
  assert.equal(deleteProperty(chosen, 'linux,elfcorehdr'), true);
  assert.equal(deleteProperty(chosen, 'linux,elfcorehdr'), false);
  const text = decompile(serializeFdt(tree));
  const chosenText = /\tchosen \{\n([\s\S]*?)\n\t\};/.exec(text)?.[1];
  assert.equal(
    chosenText,
    [
      '\t\tbootargs = "console=ttyAMA0 root=/dev/vda2 quiet";',
      '\t\tstdout-path = "/pl011@9000000";',
      '\t\tlinux,initrd-start = <0x00 0x48000000>;',
      '\t\tlinux,initrd-end = <0x01 0x48800000>;',
      '\t\tempty-flag;',
      '\t\tkaslr-seed = <0x1234567 0x89abcdef>;',
    ].join('\n'),
  );
  // Everything else is as it was.
  assert.equal(text.replace(/\tchosen \{[\s\S]*?\n\t\};/, ''), decompile(original).replace(/\tchosen \{[\s\S]*?\n\t\};/, ''));
});

test('qemu virt arm64: a /chosen made where there was none, bootargs in it', (t) => {
  const original = need(t, blob('qemu-virt-arm64'), 'qemu-system-aarch64');
  if (original === undefined) return;
  const tree = parseFdt(original);
  tree.root.children = tree.root.children.filter((child) => child.name !== 'chosen');
  assert.equal(findNode(tree, '/chosen'), undefined);
  setProperty(ensureNode(tree, '/chosen'), 'bootargs', encodeString('console=ttyAMA0'));
  assert.match(decompile(serializeFdt(tree)), /\n\tchosen \{\n\t\tbootargs = "console=ttyAMA0";\n\t\};\n\};\n$/);
});

/**
 * Walks dtc's text (its own layout: one node or property per line, tabs for depth) and checks
 * each property of the tree against it; returns how many were compared.
 */
function compareWithDtcText(tree: DeviceTree, text: string): number {
  const path: string[] = [];
  let compared = 0;
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('/dts-v1/') || trimmed.startsWith('/memreserve/')) continue;
    if (trimmed.endsWith('{')) {
      path.push(trimmed.slice(0, -1).trim());
      continue;
    }
    if (trimmed === '};') {
      path.pop();
      continue;
    }
    const match = /^([^ =]+)(?: = (.*))?;$/.exec(trimmed);
    assert.ok(match, `a dtc line not understood: ${line}`);
    const nodePath = path.length <= 1 ? '/' : `/${path.slice(1).join('/')}`;
    const node = findNode(tree, nodePath);
    assert.ok(node, nodePath);
    // Exact names: findNode's unit-address shortcut must not pick a sibling.
    assert.equal(node.name, path.length <= 1 ? '' : path[path.length - 1]);
    const value = getProperty(node, match[1]!);
    assert.ok(value, `${nodePath} ${match[1]}`);
    assert.deepEqual(dtcShows(value), match[2] ?? '', `${nodePath} ${match[1]}`);
    compared++;
  }
  return compared;
}

const DTC_ESCAPES: Readonly<Record<number, string>> = { 0: '\\0', 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 0x22: '\\"', 0x5c: '\\\\' };

/**
 * How dtc prints a value whose type it guesses (guess_value_type in treesource.c): a string when
 * it ends with NUL, holds only printable characters, escapes and NULs, and no more NULs than
 * other bytes; else cells when a multiple of 4 bytes; else bytes.
 */
function dtcShows(value: Uint8Array): string {
  if (value.length === 0) return '';
  const isStringByte = (byte: number): boolean => (byte >= 0x20 && byte < 0x7f) || byte === 0 || (byte >= 7 && byte <= 13);
  const nuls = value.filter((byte) => byte === 0).length;
  if (value[value.length - 1] === 0 && value.every(isStringByte) && nuls <= value.length - nuls) {
    return `"${[...value.subarray(0, -1)].map((byte) => DTC_ESCAPES[byte] ?? String.fromCharCode(byte)).join('')}"`;
  }
  if (value.length % 4 === 0) return `<${decodeU32Cells(value).map((cell) => `0x${cell.toString(16).padStart(2, '0')}`).join(' ')}>`;
  return `[${[...value].map((byte) => byte.toString(16).padStart(2, '0')).join(' ')}]`;
}
