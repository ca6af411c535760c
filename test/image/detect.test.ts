import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { detectFormat, inspect } from '../../src/image/detect.js';
import { ParseError } from '../../src/errors.js';
import { readFixture } from './image-fixtures.js';

test('each real artefact is detected as what it is', (t) => {
  const amd64 = readFixture(t, 'debianCloudAmd64Vmlinuz');
  const arm64 = readFixture(t, 'debianCloudArm64Vmlinuz');
  const i386 = readFixture(t, 'busyboxI386');
  if (!amd64 || !arm64 || !i386) return;
  // Both kernels start "MZ" (EFI stubs): the kernel formats must win over the PE container.
  assert.equal(detectFormat(amd64), 'bzImage');
  assert.equal(detectFormat(arm64), 'arm64-image');
  assert.equal(detectFormat(i386), 'elf');
  assert.equal(inspect(amd64).format, 'bzImage');
});

test('a newc cpio (this project\'s own test initramfs format) is detected as an initrd', () => {
  const cpioHeader = Buffer.from('070701' + '0'.repeat(104), 'latin1');
  assert.deepEqual(inspect(cpioHeader), { format: 'initrd', kind: 'cpio-newc' });
});

test('unknown input names every format tried', () => {
  assert.throws(() => inspect(readFileSync(new URL(import.meta.url))), (error: unknown) => {
    assert.ok(error instanceof ParseError);
    assert.equal(error.code, 'FORMAT_UNRECOGNIZED');
    for (const name of ['bzImage', 'arm64 Image', 'RISC-V Image', 'EFI zboot', 'ELF', 'cpio']) assert.match(error.message, new RegExp(name.replace(/[()]/g, '\\$&')));
    return true;
  });
});
