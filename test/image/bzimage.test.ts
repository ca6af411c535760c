import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseBzImage, probeBzImage } from '../../src/image/bzimage/parse.js';
import { setupHeaderLayout } from '../../src/image/bzimage/layout.js';
import { ParseError } from '../../src/errors.js';
import { fuzzSettings, readFixture } from './image-fixtures.js';

test('setup_header is declared as 123 bytes, as bootparam.h has it', () => {
  assert.equal(setupHeaderLayout.sizeBytes, 123);
  assert.equal(setupHeaderLayout.fields.kernel_info_offset.offset + 4, 123);
});

test("Debian's cloud kernel: a relocatable 64-bit bzImage with an EFI stub and an LZ4 payload", (t) => {
  const bytes = readFixture(t, 'debianCloudAmd64Vmlinuz');
  if (!bytes) return;
  assert.ok(probeBzImage(bytes));
  const image = parseBzImage(bytes);
  assert.ok(image.protocolVersion.major === 2 && image.protocolVersion.minor >= 12, image.protocolVersion.text);
  assert.match(image.kernelVersion ?? '', /^\d+\.\d+\.\d+-\d+-cloud-amd64 \(debian-kernel@lists\.debian\.org\)/);
  assert.equal(image.loadflags.loadedHigh, true);
  assert.equal(image.xloadflags.kernel64, true);
  assert.equal(image.xloadflags.canBeLoadedAbove4G, true);
  assert.equal(image.relocatable, true);
  assert.equal(image.cmdlineSize, 2047);
  assert.equal(image.hasEfiStub, true);
  assert.equal(image.protectedModeOffset, (image.setupSectors + 1) * 512);
  // The payload is where the header says, and starts with the LZ4 legacy magic 0x184C2102.
  const payload = image.payload!;
  assert.ok(payload.offset + payload.length <= bytes.length);
  assert.equal(bytes.readUInt32LE(payload.offset), 0x184c2102);
  // init_size covers at least the decompressed kernel; it must dwarf the compressed payload.
  assert.ok(image.header.init_size > payload.length);
  assert.deepEqual(image.warnings, []);
});

test('not a bzImage: a busybox binary and an empty file are refused with the field named', (t) => {
  const busybox = readFixture(t, 'busyboxI386');
  if (!busybox) return;
  assert.equal(probeBzImage(busybox), false);
  assert.throws(() => parseBzImage(busybox), (error: unknown) => error instanceof ParseError && error.field !== undefined);
  assert.throws(() => parseBzImage(new Uint8Array(0)), { code: 'FORMAT_TRUNCATED' });
});

test('mutated real bzImage headers give a result or a ParseError, nothing else', (t) => {
  const bytes = readFixture(t, 'debianCloudAmd64Vmlinuz');
  if (!bytes) return;
  // The header region and a little after it: enough for every field, fast to copy.
  const head = bytes.subarray(0, 64 * 1024);
  fc.assert(
    fc.property(
      fc.array(fc.record({ at: fc.integer({ min: 0x1f0, max: 0x280 }), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 8 }),
      fc.integer({ min: 0, max: head.length }),
      (edits, cut) => {
        const mutated = Buffer.from(head.subarray(0, cut));
        for (const { at, value } of edits) if (at < mutated.length) mutated[at] = value;
        try {
          parseBzImage(mutated);
        } catch (error) {
          assert.ok(error instanceof ParseError, String(error));
        }
      },
    ),
    fuzzSettings(2000),
  );
});
