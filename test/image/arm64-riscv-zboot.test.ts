import { syntheticRiscvImage, syntheticZboot } from './synthetic-images.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { parseArm64Image, probeArm64Image } from '../../src/image/arm64/parse.js';
import { parseRiscvImage, probeRiscvImage } from '../../src/image/riscv/parse.js';
import { parseZboot, probeZboot } from '../../src/image/zboot/parse.js';
import { ParseError } from '../../src/errors.js';
import { fuzzSettings, readFixture } from './image-fixtures.js';

test("Debian's arm64 kernel: a little-endian 4K-page Image with an EFI stub", (t) => {
  const bytes = readFixture(t, 'debianCloudArm64Vmlinuz');
  if (!bytes) return;
  assert.ok(probeArm64Image(bytes));
  const image = parseArm64Image(bytes);
  assert.equal(image.bigEndian, false);
  assert.equal(image.pageSizeBytes, 4096);
  assert.equal(image.textOffset, 0n);
  // image_size covers the file and the kernel's BSS: at least as large as the file.
  assert.ok(image.imageSize >= BigInt(bytes.length), `${image.imageSize} < ${bytes.length}`);
  assert.equal(image.physicalPlacementAnywhere, true);
  assert.ok(image.peHeaderOffset !== undefined && bytes.toString('latin1', image.peHeaderOffset, image.peHeaderOffset + 4) === 'PE\0\0');
});

test('synthetic RISC-V Image (header version 0.2, built from the spec): fields and the magic2 rule', () => {
  const image = parseRiscvImage(syntheticRiscvImage(2, true));
  assert.deepEqual(image.headerVersion, { major: 0, minor: 2 });
  assert.equal(image.textOffset, 0x200000n);
  assert.equal(image.imageSize, 0x1400000n);
  assert.equal(image.bigEndian, false);
  // From 0.2 on the kernel checks magic2, as image_probe() in arch/riscv/kernel/kexec_image.c does.
  assert.throws(() => parseRiscvImage(syntheticRiscvImage(2, false)), { code: 'FORMAT_UNRECOGNIZED' });
  // Version 0.1 has only the old magic and is accepted.
  assert.deepEqual(parseRiscvImage(syntheticRiscvImage(1, false)).headerVersion, { major: 0, minor: 1 });
  assert.ok(probeRiscvImage(syntheticRiscvImage(2, true)));
});

test('synthetic EFI zboot (built from zboot-header.S around a real gzip of the arm64 Image): payload and codec', (t) => {
  const arm64 = readFixture(t, 'debianCloudArm64Vmlinuz');
  if (!arm64) return;
  const payload = gzipSync(arm64.subarray(0, 256 * 1024));
  const bytes = syntheticZboot(payload);
  assert.ok(probeZboot(bytes));
  assert.equal(probeArm64Image(bytes), false);
  const zboot = parseZboot(bytes);
  assert.equal(zboot.compressionType, 'gzip');
  assert.equal(zboot.payloadOffset, 4096);
  assert.deepEqual(Buffer.from(bytes.subarray(zboot.payloadOffset, zboot.payloadOffset + zboot.payloadSize)), payload);
  // A payload_size past the end is a truncation, named.
  const lying = Buffer.from(bytes);
  lying.writeUInt32LE(bytes.length * 2, 12);
  assert.throws(() => parseZboot(lying), (error: unknown) => error instanceof ParseError && error.field === 'payload_offset');
});

test('mutated arm64, RISC-V and zboot headers give a result or a ParseError, nothing else', (t) => {
  const arm64 = readFixture(t, 'debianCloudArm64Vmlinuz');
  if (!arm64) return;
  const samples = [Buffer.from(arm64.subarray(0, 8192)), Buffer.from(syntheticRiscvImage(2, true)), Buffer.from(syntheticZboot(gzipSync(arm64.subarray(0, 4096))))];
  const parsers = [parseArm64Image, parseRiscvImage, parseZboot];
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 2 }),
      fc.integer({ min: 0, max: 2 }),
      fc.array(fc.record({ at: fc.integer({ min: 0, max: 80 }), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
      fc.integer({ min: 0, max: 9000 }),
      (sampleIndex, parserIndex, edits, cut) => {
        const mutated = Buffer.from(samples[sampleIndex]!.subarray(0, cut));
        for (const { at, value } of edits) if (at < mutated.length) mutated[at] = value;
        try {
          parsers[parserIndex]!(mutated);
        } catch (error) {
          assert.ok(error instanceof ParseError, String(error));
        }
      },
    ),
    fuzzSettings(3000),
  );
});
