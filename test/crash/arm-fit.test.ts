import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, ValidationError } from '../../src/errors.js';
import { assessFit, fitError, CAPTURE_MEMORY_MODEL, type FitInput } from '../../src/crash/arm/fit.js';
import type { InitrdMeasurement } from '../../src/crash/arm/initrd-measure.js';
import type { KernelFootprint } from '../../src/crash/arm/kernel-footprint.js';

const MIB = 1024 * 1024;

// Measured in the test VM (Debian 6.1 cloud kernel, -m 1024, crashkernel=256M), see
// test/vm/crash-capture.test.ts: the kernel as loaded (init_size) and as /proc/iomem shows it
// running, and the capture initramfs kexec-ts crash initrd built on the host.
const DEBIAN_KERNEL: KernelFootprint = {
  format: 'bzImage',
  loadBytes: 53968896,
  alignmentBytes: 2 * MIB,
  residentBytes: 0xe01ef2 + 0x827000 + 0x245e00 + 0x54f000,
  residentSource: 'running kernel (/proc/iomem)',
  release: '6.1.0-56-cloud-amd64',
};
const CAPTURE_INITRD: InitrdMeasurement = {
  fileBytes: 43315106,
  segments: [{ offset: 0, kind: 'gzip', fileBytes: 43315106 }],
  entries: 774,
  archives: 1,
  fileDataBytes: 116102929,
  unpackedBytes: 118532096,
  complete: true,
  found: ['etc/kexec-ts/capture.conf', 'init'],
};

function input(overrides: Partial<FitInput> & { reservationMiB?: number }): FitInput {
  const bytes = (overrides.reservationMiB ?? 256) * MIB;
  return {
    reservation: { mainBytes: bytes, totalBytes: bytes },
    kernel: DEBIAN_KERNEL,
    initrd: CAPTURE_INITRD,
    environment: 'capture-initrd',
    rootfsTmpfs: true,
    canSwitchToRamfs: true,
    ...overrides,
  };
}

test('the measured case: Node\'s capture initramfs in 256M fits only on ramfs, and the fit says so and switches', () => {
  const report = assessFit(input({}));
  assert.equal(report.fits, true, report.problems.join('; '));
  assert.equal(report.switchToRamfs, true);
  assert.equal(report.rootfs, 'ramfs');
  // VM-TESTING.md: "Initramfs unpacking failed: write error" on tmpfs at 256M.
  assert.ok(report.tmpfsCapBytes < CAPTURE_INITRD.unpackedBytes);
  // Measured in the capture kernel after unpacking: MemFree 79400 kB (77.5 MiB).
  assert.ok(Math.abs(report.run.freeBytes - 79400 * 1024) < 4 * MIB, `${report.run.freeBytes / MIB} MiB free by the model`);
});

test('the measured case without ramfs: does not fit at 256M, and the smallest reservation it names is the measured 320M', () => {
  const report = assessFit(input({ canSwitchToRamfs: false }));
  assert.equal(report.fits, false);
  assert.equal(report.rootfs, 'tmpfs');
  assert.match(report.problems.join(), /a tmpfs rootfs may hold only half the capture memory: 8\d\.\d MiB/);
  // VM-TESTING.md: "Without ramfs, 320M is the minimum and 384M comfortable."
  assert.equal(report.suggestedCrashkernel, '320M');
  assert.equal(assessFit(input({ canSwitchToRamfs: false, reservationMiB: 320 })).fits, true);
});

test('the tmpfs rootfs is left alone when the initrd fits in it, and never switched under a system initrd', () => {
  const small: InitrdMeasurement = { ...CAPTURE_INITRD, fileBytes: 6 * MIB, unpackedBytes: 20 * MIB, entries: 300 };
  const fitsTmpfs = assessFit(input({ initrd: small }));
  assert.equal(fitsTmpfs.switchToRamfs, false);
  assert.equal(fitsTmpfs.rootfs, 'tmpfs');
  const system = assessFit(input({ environment: 'system', rootfsTmpfs: false, canSwitchToRamfs: false }));
  assert.equal(system.rootfs, 'ramfs', 'root= on the line: the kernel picks ramfs itself');
  assert.equal(system.parts.userspaceBytes, CAPTURE_MEMORY_MODEL.userspaceBytes.system);
});

test('an initrd that unpacks to 300 MiB in 256M: refused with the sizes, and a reservation that would fit', () => {
  const huge: InitrdMeasurement = { ...CAPTURE_INITRD, fileBytes: 300 * 1024, unpackedBytes: 300 * MIB, entries: 12 };
  const report = assessFit(input({ initrd: huge }));
  assert.equal(report.fits, false);
  const error = fitError(report, { parameter: 'crashkernel=256M', initrdPath: '/boot/huge.img' });
  assert.ok(error instanceof ValidationError);
  assert.equal(error.code, ErrorCode.CRASH_RESERVATION_TOO_SMALL);
  assert.equal(error.path, '/boot/huge.img');
  assert.match(error.message, /^The capture kernel does not fit: crashkernel=256M reserves 256 MiB; .*its contents 300 MiB/);
  assert.match(error.remedy ?? '', /^Use a smaller initrd \(kexec-ts crash initrd builds a small one\), or boot with crashkernel=\d+M/);
  const suggested = Number(report.suggestedCrashkernel!.replace('M', ''));
  assert.equal(assessFit(input({ initrd: huge, reservationMiB: suggested })).fits, true);
  assert.equal(assessFit(input({ initrd: huge, reservationMiB: suggested - 32 })).fits, false, 'the suggestion is the smallest 32M step');
});

test('an initrd counted only up to the reservation ("more than") never gets a reservation suggested', () => {
  const report = assessFit(input({ initrd: { ...CAPTURE_INITRD, unpackedBytes: 257 * MIB, complete: false } }));
  assert.equal(report.fits, false);
  assert.match(report.problems.join(), /more than 257 MiB/);
  assert.equal(report.suggestedCrashkernel, undefined);
});

test('loading: kernel (aligned) + initrd file + the small segments must fit the crashkernel region itself', () => {
  const bigFile: InitrdMeasurement = { ...CAPTURE_INITRD, fileBytes: 210 * MIB, unpackedBytes: 210 * MIB };
  const report = assessFit(input({ initrd: bigFile }));
  assert.equal(report.load.fits, false);
  assert.equal(report.load.neededBytes, 52 * MIB + 210 * MIB + CAPTURE_MEMORY_MODEL.loadExtraBytes);
  assert.match(report.problems[0]!, /need 266 MiB in the crashkernel region, which has 256 MiB/);
  // A ,high reservation: segments go in the main region only, the low one only adds run-time memory.
  const split = assessFit(input({ reservation: { mainBytes: 128 * MIB, totalBytes: 384 * MIB } }));
  assert.equal(split.load.fits, true);
  assert.equal(split.unpack.availableBytes, 384 * MIB);
});

test('no initrd at all: only the kernel counts', () => {
  const report = assessFit(input({ initrd: undefined, reservationMiB: 128 }));
  assert.equal(report.parts.initrdFileBytes, 0);
  assert.equal(report.switchToRamfs, false);
  assert.equal(report.fits, true, report.problems.join('; '));
});
