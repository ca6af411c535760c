import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { planKernel } from '../../src/handoff/plan-kernel.js';
import { preflightKernel } from '../../src/handoff/preflight.js';
import { zbootHeaderLayout } from '../../src/image/zboot/parse.js';
import { ParseError } from '../../src/errors.js';
import { readFixture } from '../image/image-fixtures.js';

test('a plain image is passed as it is: no replacement, no notes', async (t) => {
  const amd64 = readFixture(t, 'debianCloudAmd64Vmlinuz');
  if (!amd64) return;
  const plan = await planKernel(amd64, 'vmlinuz');
  assert.equal(plan.replacement, undefined);
  assert.deepEqual(plan.notes, []);
  assert.equal((plan.image as { format: string }).format, 'bzImage');
});

test("Debian's arm64 Image gzip'ed by real gzip: decompressed to the exact Image, which aarch64 takes", async (t) => {
  const arm64 = readFixture(t, 'debianCloudArm64Vmlinuz');
  if (!arm64) return;
  const gzip = spawnSync('gzip', ['-9', '-c'], { input: arm64, maxBuffer: 256 << 20 });
  assert.equal(gzip.status, 0);
  let progressCalls = 0;
  const plan = await planKernel(gzip.stdout, 'Image.gz', { onProgress: () => void progressCalls++ });
  assert.ok(Buffer.from(plan.replacement!.bytes).equals(arm64), 'the memfd would hold the original Image byte for byte');
  assert.equal((plan.image as { format: string }).format, 'arm64-image');
  assert.match(plan.notes[0]!, /decompressed the image \(gzip, \d+ -> 27\d+ bytes\)/);
  assert.ok(progressCalls > 0, 'progress was reported');
  assert.deepEqual(preflightKernel(plan.image, 'aarch64', '', 'Image.gz'), []);
});

test('synthetic EFI zboot (header per zboot-header.S around a real gzip of the arm64 Image): unwrapped to the Image', async (t) => {
  const arm64 = readFixture(t, 'debianCloudArm64Vmlinuz');
  if (!arm64) return;
  const payload = gzipSync(arm64);
  const bytes = new Uint8Array(4096 + payload.length + 4);
  zbootHeaderLayout.write(bytes, {
    mz_magic: 0x5a4d,
    image_type: 'zimg',
    payload_offset: 4096,
    payload_size: payload.length,
    reserved: new Uint8Array(8),
    compression_type: 'gzip',
    linux_pe_magic: 0x818223cd,
    pe_header_offset: 64,
  });
  bytes.set(payload, 4096);
  const plan = await planKernel(bytes, 'vmlinuz.efi');
  assert.ok(Buffer.from(plan.replacement!.bytes).equals(arm64));
  assert.match(plan.notes[0]!, /decompressed the EFI zboot payload \(gzip/);
});

test('a corrupt compressed image ends in a ParseError from the codec, not a crash', async () => {
  const broken = gzipSync(Buffer.alloc(100000, 7));
  broken[broken.length >> 1] = (broken[broken.length >> 1] ?? 0) ^ 0xff;
  await assert.rejects(() => planKernel(broken, 'broken.gz'), (error: unknown) => error instanceof ParseError);
});
