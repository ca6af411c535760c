import { test } from 'node:test';
import assert from 'node:assert/strict';
import { preflightInitrd, preflightKernel } from '../../src/handoff/preflight.js';
import { inspect } from '../../src/image/detect.js';
import { ParseError, ValidationError } from '../../src/errors.js';
import { readFixture } from '../image/image-fixtures.js';

function refusal(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ValidationError, String(error));
    return error;
  }
  assert.fail('expected a refusal');
}

test('x86_64 takes Debian\'s bzImage and refuses the arm64 Image, naming both', (t) => {
  const amd64 = readFixture(t, 'debianCloudAmd64Vmlinuz');
  const arm64 = readFixture(t, 'debianCloudArm64Vmlinuz');
  if (!amd64 || !arm64) return;
  assert.deepEqual(preflightKernel(inspect(amd64), 'x86_64', 'quiet', 'vmlinuz'), []);
  const error = refusal(() => preflightKernel(inspect(arm64), 'x86_64', '', 'arm64-vmlinuz'));
  assert.equal(error.code, 'IMAGE_NOT_LOADABLE');
  assert.match(error.message, /it is an arm64 Image, and x86_64 takes only a bzImage/);
});

test('aarch64 takes the arm64 Image and refuses the bzImage', (t) => {
  const amd64 = readFixture(t, 'debianCloudAmd64Vmlinuz');
  const arm64 = readFixture(t, 'debianCloudArm64Vmlinuz');
  if (!amd64 || !arm64) return;
  assert.deepEqual(preflightKernel(inspect(arm64), 'aarch64', '', 'Image'), []);
  assert.match(refusal(() => preflightKernel(inspect(amd64), 'aarch64', '', 'vmlinuz')).message, /an x86 bzImage, which kexec_file_load on aarch64 does not take/);
});

test('the x86 bzImage64_probe rules each refuse on their own', (t) => {
  const amd64 = readFixture(t, 'debianCloudAmd64Vmlinuz');
  if (!amd64) return;
  const withByte = (offset: number, value: number) => {
    const copy = Buffer.from(amd64);
    copy[offset] = value;
    return inspect(copy);
  };
  assert.match(refusal(() => preflightKernel(withByte(0x206, 0x0b), 'x86_64', '', 'k')).message, /boot protocol is 2\.11/);
  assert.match(refusal(() => preflightKernel(withByte(0x211, 0x00), 'x86_64', '', 'k')).message, /zImage/);
  assert.match(refusal(() => preflightKernel(withByte(0x236, 0x02), 'x86_64', '', 'k')).message, /no 64-bit entry point/);
  assert.match(refusal(() => preflightKernel(withByte(0x236, 0x01), 'x86_64', '', 'k')).message, /above 4 GiB/);
});

test('riscv64 takes a riscv64 ELF, not an x86 one', (t) => {
  const i386 = readFixture(t, 'busyboxI386');
  if (!i386) return;
  assert.match(refusal(() => preflightKernel(inspect(i386), 'riscv64', '', 'busybox')).message, /an ELF executable for i386/);
});

test('an unrecognised file is refused with the parser\'s reason', () => {
  const error = refusal(() => preflightKernel(new ParseError('FORMAT_UNRECOGNIZED', 'image', 'nothing matched'), 'x86_64', '', 'blob'));
  assert.match(error.message, /not a kernel image kexec-ts recognises \(image: nothing matched\)/);
});

test('an initrd must be cpio, compressed, or an initrd filesystem image', () => {
  preflightInitrd(Buffer.from('070701'), 'initrd.img', () => false);
  preflightInitrd(Buffer.from([0x1f, 0x8b, 8, 0]), 'initrd.img', (head) => head[0] === 0x1f && head[1] === 0x8b);
  assert.equal(refusal(() => preflightInitrd(Buffer.from('#!/bin/sh\n'), 'script', () => false)).code, 'INITRD_NOT_RECOGNIZED');
});
