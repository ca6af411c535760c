// kexec_load's segments for riscv64, planned for Debian 13's own riscv64 kernel (an Image with
// an EFI stub, built without kexec_file_load) and the device tree qemu's riscv64 virt machine
// hands its guest; dtc decompiles what the new kernel would get.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseIomem } from '../../src/crash/arm/iomem.js';
import { ValidationError } from '../../src/errors.js';
import { parseFdt, serializeFdt } from '../../src/devicetree/fdt.js';
import { FDT_MAGIC } from '../../src/devicetree/layout.js';
import { ensureNode, setProperty } from '../../src/devicetree/tree.js';
import { parseRiscvImage } from '../../src/image/riscv/parse.js';
import { parseKernelConfig, configEnabled } from '../../src/image/kernel-config.js';
import { chooseLoadSyscall, type KexecLoadFacts } from '../../src/handoff/kexec-load/choose.js';
import { deviceTreeReservations, planRiscv64KexecLoad } from '../../src/handoff/kexec-load/riscv64.js';
import { usableRam } from '../../src/handoff/kexec-load/placement.js';
import { riscv64Fixture } from '../vm-riscv64/fixtures.js';
import { decompile, hasTool, qemuVirtDtb } from '../devicetree/real-blobs.js';

const MiB = 1024n * 1024n;
/**
 * /proc/iomem of the riscv64 test guest (test/vm-riscv64: Debian 13's 6.12 under OpenSBI 1.1,
 * -m 2048), as root read it: OpenSBI's no-map firmware, the kernel, the boot's initrd
 * (88200000-91206fff) and memblock's other reservations nested under System RAM as "Reserved".
 */
const RISCV64_IOMEM = `00101000-00101fff : 101000.rtc rtc@101000
10000000-100000ff : serial
30000000-3fffffff : PCI ECAM
40000000-7fffffff : pci@30000000
80000000-ffffffff : System RAM
  80000000-8007ffff : Reserved
  80200000-80201fff : Reserved
  80202000-8206b3f7 : Kernel image
    80202000-80c8159f : Kernel code
    81200000-81bfffff : Kernel rodata
    81e00000-81fb93ff : Kernel data
    81fba000-8206b3f7 : Kernel bss
  8206b3f8-821fffff : Reserved
  88200000-91206fff : Reserved
  bfe00000-bfe01fff : Reserved
  fba00000-fdbfffff : Reserved
  fdcc8000-fddc8fff : Reserved
  fddc9000-fdde8fff : Reserved
  fddeb000-fddeefff : Reserved
  fddef000-ffdf2fff : Reserved
  ffdf3000-ffdf7fff : Reserved
  ffdf8000-ffffffff : Reserved
400000000-7ffffffff : pci@30000000
`;

const needsFixtures = process.env.CI !== 'true' && (!riscv64Fixture() || !hasTool('qemu-system-riscv64') || !hasTool('dtc'))
  ? "needs Debian 13's riscv64 kernel (node scripts/prepare-tests.mjs), qemu-system-riscv64 and dtc"
  : false;

test('kexec_load is chosen on riscv64 where kexec_file_load is missing, as on arm64', () => {
  const debianRiscv64 = parseKernelConfig('CONFIG_KEXEC=y\n# CONFIG_KEXEC_FILE is not set\n');
  const facts: KexecLoadFacts = { arch: 'riscv64', kernelConfig: debianRiscv64, kernelConfigSource: '/boot/config-6.12.117+deb13-riscv64', lockdown: 'none' };
  assert.equal(chooseLoadSyscall(facts, 'auto', { crash: false }).syscall, 'kexec_load');
  assert.equal(chooseLoadSyscall(facts, 'never', { crash: false }).syscall, 'kexec_file_load');
  assert.throws(() => chooseLoadSyscall({ ...facts, lockdown: 'integrity' }, 'auto', { crash: false }), (error: unknown) => error instanceof ValidationError && error.code === 'KEXEC_LOAD_NOT_ALLOWED');
});

test("Debian 13's riscv64 kernel has kexec_load and no kexec_file_load, and is an uncompressed Image", { skip: needsFixtures }, () => {
  const fixture = riscv64Fixture();
  assert.ok(fixture, 'the riscv64 fixture is missing');
  const config = parseKernelConfig(readFileSync(fixture.configPath, 'utf8'));
  assert.equal(configEnabled(config, 'CONFIG_KEXEC'), true);
  assert.equal(configEnabled(config, 'CONFIG_KEXEC_FILE'), false);
  const header = parseRiscvImage(new Uint8Array(readFileSync(fixture.vmlinuzPath)));
  assert.equal(header.textOffset, 2n * MiB, "rv64's hint: 2 MiB from the start of RAM");
  assert.ok(header.imageSize > 0n);
  assert.equal(header.bigEndian, false);
});

test("the device tree's reservations are kept out of the RAM the segments may use", { skip: needsFixtures }, () => {
  const tree = parseFdt(qemuVirtDtb('qemu-virt-riscv64')!);
  tree.memoryReservations.push({ address: 0x8400_0000n, size: 0x1000n }, { address: 0x8800_0000n, size: 0x10_0000n });
  // The old initrd's reservation is not one: that memory was freed.
  setProperty(ensureNode(tree, '/chosen'), 'linux,initrd-start', new Uint8Array([0, 0, 0, 0, 0x88, 0, 0, 0]));
  setProperty(ensureNode(tree, '/chosen'), 'linux,initrd-end', new Uint8Array([0, 0, 0, 0, 0x88, 0x10, 0, 0]));
  const reserved = deviceTreeReservations(serializeFdt(tree));
  assert.deepEqual(reserved.filter((range) => range.start >= 0x8400_0000n), [{ start: 0x8400_0000n, end: 0x8400_1000n }]);
});

test("Debian's riscv64 Image planned into qemu virt's RAM: kernel at a 2 MiB boundary and the entry, initrd and device tree above, the tree listed first", { skip: needsFixtures }, () => {
  const fixture = riscv64Fixture()!;
  const kernel = new Uint8Array(readFileSync(fixture.vmlinuzPath));
  const header = parseRiscvImage(kernel);
  const firmwareFdt = qemuVirtDtb('qemu-virt-riscv64')!;
  const initrd = new Uint8Array(3 * 1024 * 1024 + 17).fill(0x5a);
  let counter = 0;
  const plan = planRiscv64KexecLoad({
    kernel,
    initrd,
    cmdline: 'console=ttyS0 root=/dev/vda1 kexec_ts.quoted="a b"',
    firmwareFdt,
    ram: usableRam(parseIomem(RISCV64_IOMEM).resources),
    pageBytes: 4096n,
    randomBytes: (count) => new Uint8Array(count).fill(++counter),
  });
  const [kernelPlace, initrdPlace, dtbPlace] = plan.placements;
  assert.deepEqual(plan.placements.map((placement) => placement.name), ['kernel', 'initrd', 'device tree']);
  // On the first PMD boundary past the reserved ranges; no purgatory: the kernel is the entry.
  assert.equal(kernelPlace!.address, 0x8220_0000n);
  assert.equal(plan.entry, kernelPlace!.address);
  // Its memory runs to the next PMD boundary past image_size, which setup_bootmem() reserves.
  assert.ok(kernelPlace!.range.end - kernelPlace!.range.start >= header.imageSize);
  assert.equal(kernelPlace!.range.end % (2n * MiB), 0n);
  assert.ok(initrdPlace!.address >= kernelPlace!.range.end && dtbPlace!.address >= initrdPlace!.range.end);

  // machine_kexec_prepare() takes the first segment that starts with an FDT header.
  assert.equal(plan.segments.length, 3);
  const first = plan.segments[0]!;
  assert.equal(new DataView(first.bytes.buffer, first.bytes.byteOffset).getUint32(0, false), FDT_MAGIC);
  assert.equal(first.physicalAddress, dtbPlace!.address);
  assert.deepEqual(first.bytes, plan.fdt);
  assert.equal(plan.segments[1]!.physicalAddress, kernelPlace!.address);
  assert.equal(plan.segments[1]!.bytes, kernel, 'the Image goes unchanged, without leading bytes');
  const sorted = [...plan.segments].sort((a, b) => (a.physicalAddress < b.physicalAddress ? -1 : 1));
  for (const [index, segment] of sorted.entries()) {
    assert.equal(segment.physicalAddress % 4096n, 0n);
    assert.equal(segment.memoryBytes % 4096n, 0n);
    assert.ok(BigInt(segment.bytes.length) <= segment.memoryBytes);
    const next = sorted[index + 1];
    if (next !== undefined) assert.ok(segment.physicalAddress + segment.memoryBytes <= next.physicalAddress, 'segments overlap');
  }

  const dts = decompile(plan.fdt);
  const chosen = /chosen \{([^}]*)\}/.exec(dts)?.[1] ?? '';
  assert.match(chosen, /bootargs = "console=ttyS0 root=\/dev\/vda1 kexec_ts.quoted=\\"a b\\"";/);
  const cell = (value: bigint): string => (value === 0n ? '0x00' : `0x${value.toString(16)}`);
  const cells = (value: bigint): string => `${cell(value >> 32n)} ${cell(value & 0xffff_ffffn)}`;
  assert.match(chosen, new RegExp(`linux,initrd-start = <${cells(initrdPlace!.address)}>;`));
  assert.match(chosen, new RegExp(`linux,initrd-end = <${cells(initrdPlace!.address + BigInt(initrd.length))}>;`));
  assert.match(chosen, /rng-seed = <(0x2020202 ){31}0x2020202>;/);
  // The rest of the tree is qemu's: its RAM at 2 GiB (hw/riscv/virt.c), its UART.
  assert.match(dts, /memory@80000000 \{[^}]*reg = <0x00 0x80000000 0x00 0x8000000>;/);
  assert.match(dts, /serial@10000000 \{/);
});

test('no room below the reservations: the planner says so before any call', { skip: needsFixtures }, () => {
  const fixture = riscv64Fixture()!;
  assert.throws(() => planRiscv64KexecLoad({
    kernel: new Uint8Array(readFileSync(fixture.vmlinuzPath)),
    cmdline: '',
    firmwareFdt: qemuVirtDtb('qemu-virt-riscv64')!,
    ram: [{ start: 0x8000_0000n, end: 0x8100_0000n }],
    pageBytes: 4096n,
    randomBytes: (count) => new Uint8Array(count),
  }), (error: unknown) => error instanceof ValidationError && error.code === 'NO_ROOM_FOR_SEGMENTS');
});
