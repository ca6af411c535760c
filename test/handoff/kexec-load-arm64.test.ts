// kexec_load's segments for arm64, planned for a real arm64 Image (the kernel the tests build
// from Debian's linux-source) and the device tree qemu's virt machine hands its guest; dtc
// decompiles what the new kernel would get.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseIomem } from '../../src/crash/arm/iomem.js';
import { ValidationError } from '../../src/errors.js';
import { parseArm64Image } from '../../src/image/arm64/parse.js';
import { planArm64KexecLoad } from '../../src/handoff/kexec-load/arm64.js';
import { chooseLoadSyscall, type KexecLoadFacts } from '../../src/handoff/kexec-load/choose.js';
import { pageBytesFromAuxv } from '../../src/handoff/kexec-load/machine-description.js';
import { spawnSync } from 'node:child_process';
import { assertSegmentsAcceptable, placeSegments, usableRam } from '../../src/handoff/kexec-load/placement.js';
import { explainKexecFailure } from '../../src/handoff/explain.js';
import { SyscallError } from '../../src/errors.js';
import { permissiveFacts } from './facts-fixture.js';
import { ARM64_PURGATORY_LAYOUT } from '../../src/handoff/kexec-load/purgatory-arm64.js';
import { parseKernelConfig } from '../../src/image/kernel-config.js';
import { builtArm64Kernel } from '../vm-arm64/fixtures.js';
import { decompile, hasTool, qemuVirtDtb } from '../devicetree/real-blobs.js';

/** The shape of an arm64 guest's /proc/iomem (kernel/resource.c r_show(): two spaces a level). */
const ARM64_IOMEM = `09000000-09000fff : pl011@9000000
  09000000-09000fff : 9000000.pl011 pl011@9000000
40000000-bfffffff : System RAM
  40210000-41b3ffff : Kernel code
  41b40000-4221ffff : reserved
  42220000-425fffff : Kernel data
  48000000-483fffff : reserved
  bc000000-bfffffff : Crash kernel
4010000000-401fffffff : PCI ECAM
`;

test('usable RAM is System RAM minus what is reserved in it; the running kernel may be covered', () => {
  const ram = usableRam(parseIomem(ARM64_IOMEM).resources);
  assert.deepEqual(ram, [
    { start: 0x4000_0000n, end: 0x41b4_0000n },
    { start: 0x4222_0000n, end: 0x4800_0000n },
    { start: 0x4840_0000n, end: 0xbc00_0000n },
  ]);
  // First fit above the one before; alignment and a text offset inside the aligned base.
  const placed = placeSegments(ram, [
    { name: 'a', memoryBytes: 0x1c0_0000n, alignment: 0x20_0000n },
    { name: 'b', memoryBytes: 0x10n, alignment: 4096n, offset: 0n },
  ], 4096n);
  assert.deepEqual(placed.map((placement) => [placement.name, placement.address]), [['a', 0x4240_0000n], ['b', 0x4400_0000n]]);
  assert.throws(() => placeSegments(ram, [{ name: 'huge', memoryBytes: 0x8000_0000n, alignment: 4096n }], 4096n), (error: unknown) => error instanceof ValidationError && error.code === 'NO_ROOM_FOR_SEGMENTS');
});

test("the page size is AT_PAGESZ of the process's auxiliary vector", () => {
  // This process's own: 4 KiB on the machines the tests run on, as getconf says.
  const getconf = Number(spawnSync('getconf', ['PAGESIZE'], { encoding: 'utf8' }).stdout.trim());
  assert.equal(pageBytesFromAuxv(new Uint8Array(readFileSync('/proc/self/auxv'))), BigInt(getconf));
  assert.equal(pageBytesFromAuxv(new Uint8Array(16)), undefined, 'AT_NULL first: no page size');
});

test('kexec_load is chosen only where kexec_file_load is missing, on arm64, without lockdown, for a normal load', () => {
  const debianArm64 = parseKernelConfig('CONFIG_KEXEC=y\n# CONFIG_KEXEC_FILE is not set\n');
  const facts: KexecLoadFacts = { arch: 'aarch64', kernelConfig: debianArm64, kernelConfigSource: '/boot/config-6.1.0-57-cloud-arm64', lockdown: 'none' };
  assert.equal(chooseLoadSyscall(facts, 'auto', { crash: false }).syscall, 'kexec_load');
  assert.equal(chooseLoadSyscall(facts, 'never', { crash: false }).syscall, 'kexec_file_load');
  assert.equal(chooseLoadSyscall({ ...facts, kernelConfig: parseKernelConfig('CONFIG_KEXEC_FILE=y\n') }, 'auto', { crash: false }).syscall, 'kexec_file_load');
  assert.equal(chooseLoadSyscall({ ...facts, kernelConfig: undefined }, 'auto', { crash: false, kexecFileMissing: true }).syscall, 'kexec_load');
  // x86_64 without kexec_file_load: left to the kernel, whose ENOSYS is explained.
  assert.equal(chooseLoadSyscall({ ...facts, arch: 'x86_64' }, 'auto', { crash: false }).syscall, 'kexec_file_load');
  const refused = (change: Partial<typeof facts>, crash = false): string => {
    try {
      chooseLoadSyscall({ ...facts, ...change }, 'auto', { crash });
    } catch (error) {
      assert.ok(error instanceof ValidationError);
      assert.equal(error.code, 'KEXEC_LOAD_NOT_ALLOWED');
      return error.message;
    }
    assert.fail('not refused');
  };
  assert.match(refused({ lockdown: 'integrity' }), /locked down \(integrity\)/);
  assert.match(refused({}, true), /crash kernels/);
  assert.match(refused({ kernelConfig: parseKernelConfig('# CONFIG_KEXEC is not set\n# CONFIG_KEXEC_FILE is not set\n') }), /neither kexec_file_load nor kexec_load/);
});

test("an arm64 Image planned into qemu virt's RAM: kernel at its 2 MiB base, initrd, device tree and purgatory above, /chosen made anew", { skip: process.env.CI !== 'true' && (!builtArm64Kernel() || !hasTool('qemu-system-aarch64') || !hasTool('dtc')) ? 'needs the built arm64 Image, qemu-system-aarch64 and dtc' : false }, () => {
  const built = builtArm64Kernel();
  assert.ok(built, 'the arm64 kernel fixture is missing');
  const kernel = new Uint8Array(readFileSync(built.imagePath));
  const header = parseArm64Image(kernel);
  const firmwareFdt = qemuVirtDtb('qemu-virt-arm64-smp2-1g')!;
  const initrd = new Uint8Array(3 * 1024 * 1024 + 17).fill(0x5a);
  let counter = 0;
  const plan = planArm64KexecLoad({
    kernel,
    initrd,
    cmdline: 'console=ttyAMA0 root=/dev/vda1 kexec_ts.quoted="a b"',
    firmwareFdt,
    ram: usableRam(parseIomem('40000000-7fffffff : System RAM\n  40210000-41b3ffff : Kernel code\n').resources),
    pageBytes: 4096n,
    randomBytes: (count) => new Uint8Array(count).fill(++counter),
  });
  const [kernelPlace, initrdPlace, dtbPlace, purgatoryPlace] = plan.placements;
  assert.deepEqual(plan.placements.map((placement) => placement.name), ['kernel', 'initrd', 'device tree', 'purgatory']);
  assert.equal(kernelPlace!.address, 0x4000_0000n + header.textOffset);
  assert.ok(kernelPlace!.range.end - kernelPlace!.range.start >= header.imageSize);
  for (const [index, segment] of plan.segments.entries()) {
    assert.equal(segment.physicalAddress % 4096n, 0n);
    assert.equal(segment.memoryBytes % 4096n, 0n);
    assert.ok(BigInt(segment.bytes.length) <= segment.memoryBytes);
    const next = plan.segments[index + 1];
    if (next !== undefined) assert.ok(segment.physicalAddress + segment.memoryBytes <= next.physicalAddress, 'segments overlap');
  }
  assert.equal(plan.entry, purgatoryPlace!.address);
  const purgatory = new DataView(plan.segments[3]!.bytes.buffer);
  assert.equal(purgatory.getBigUint64(ARM64_PURGATORY_LAYOUT.dtbAddressOffset, true), dtbPlace!.address);
  assert.equal(purgatory.getBigUint64(ARM64_PURGATORY_LAYOUT.kernelEntryOffset, true), kernelPlace!.address);
  assert.deepEqual(plan.segments[2]!.bytes, plan.fdt);

  const dts = decompile(plan.fdt);
  const chosen = /chosen \{([^}]*)\}/.exec(dts)?.[1] ?? '';
  assert.match(chosen, /bootargs = "console=ttyAMA0 root=\/dev\/vda1 kexec_ts.quoted=\\"a b\\"";/);
  // dtc prints a zero cell as 0x00.
  const cell = (value: bigint): string => (value === 0n ? '0x00' : `0x${value.toString(16)}`);
  const cells = (value: bigint): string => `${cell(value >> 32n)} ${cell(value & 0xffff_ffffn)}`;
  assert.match(chosen, new RegExp(`linux,initrd-start = <${cells(initrdPlace!.address)}>;`));
  assert.match(chosen, new RegExp(`linux,initrd-end = <${cells(initrdPlace!.address + BigInt(initrd.length))}>;`));
  assert.match(chosen, /kaslr-seed = <0x1010101 0x1010101>;/);
  assert.match(chosen, /rng-seed = <(0x2020202 ){31}0x2020202>;/);
  // The rest of the tree is qemu's: memory, CPUs, devices unchanged.
  assert.match(dts, /memory@40000000 \{[^}]*reg = <0x00 0x40000000 0x00 0x40000000>;/);
});

test("kexec_load's refusals are explained for kexec_load: lockdown refuses the call itself, EINVAL names the segments", () => {
  const segments = [{ name: 'kernel', start: 0x4000_0000n, end: 0x4200_0000n }, { name: 'purgatory', start: 0x4300_0000n, end: 0x4300_1000n }];
  const facts = { ...permissiveFacts(), arch: 'aarch64', lockdown: 'integrity' as const };
  const locked = explainKexecFailure(new SyscallError('kexec_load', 1, 'EPERM'), { operation: 'load', kernelPath: '/boot/Image', segments }, facts, []);
  assert.equal(locked.code, 'LOCKDOWN_REFUSED');
  assert.match(locked.message, /refuses kexec_load altogether/);
  const invalid = explainKexecFailure(new SyscallError('kexec_load', 22, 'EINVAL'), { operation: 'load', kernelPath: '/boot/Image', segments }, { ...facts, lockdown: 'none' }, []);
  assert.equal(invalid.code, 'INVALID_ARGUMENT');
  assert.match(invalid.message, /kernel 0x40000000-0x42000000, purgatory 0x43000000-0x43001000/);
  const outside = explainKexecFailure(new SyscallError('kexec_load', 99, 'EADDRNOTAVAIL'), { operation: 'load', segments }, { ...facts, lockdown: 'none' }, []);
  assert.equal(outside.code, 'NO_ROOM_FOR_SEGMENTS');
});

test('segments the kernel would refuse are caught before the call, naming the segment', () => {
  const page = (address: bigint, size: bigint) => ({ bytes: new Uint8Array(16), physicalAddress: address, memoryBytes: size });
  assert.doesNotThrow(() => assertSegmentsAcceptable([page(0x1000n, 0x1000n), page(0x2000n, 0x1000n)], 4096n, ['a', 'b']));
  assert.throws(() => assertSegmentsAcceptable([page(0x1800n, 0x1000n)], 4096n, ['kernel']), /kernel off a page boundary/);
  assert.throws(() => assertSegmentsAcceptable([page(0x1000n, 0x2000n), page(0x2000n, 0x1000n)], 4096n, ['kernel', 'initrd']), /kernel over the initrd/);
  assert.throws(() => assertSegmentsAcceptable([{ bytes: new Uint8Array(0x2000), physicalAddress: 0x1000n, memoryBytes: 0x1000n }], 4096n, ['dtb']), /dtb has more bytes/);
  assert.throws(() => assertSegmentsAcceptable(Array.from({ length: 17 }, (_, index) => page(BigInt(index + 1) * 0x1000n, 0x1000n)), 4096n, []), /17 kexec_load segments; the kernel takes 16/);
});
