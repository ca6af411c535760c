// The codec samples scripts/fixtures/codec-samples.mjs makes from Debian's cloud kernel (see
// test/fixtures/PROVENANCE.md), and the bzImage they come from.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Codec } from '../../src/image/codecs/index.js';
import { cloudKernelFixture, kexecTsCacheDir } from '../vm/fixtures.js';

export const CODEC_EXTENSIONS: Record<Codec, string> = {
  gzip: 'gz',
  bzip2: 'bz2',
  lzma: 'lzma',
  xz: 'xz',
  lzo: 'lzo',
  lz4: 'lz4',
  zstd: 'zst',
};

export function codecSamplesDir(): string {
  return join(kexecTsCacheDir(), 'codec-samples');
}

/**
 * A sample's bytes, or undefined after skipping the test with the reason; under CI=true a
 * missing sample fails instead (a CI that made no samples must not pass).
 */
export function readCodecSample(t: TestContext, name: string): Uint8Array | undefined {
  const path = join(codecSamplesDir(), name);
  if (existsSync(path)) return new Uint8Array(readFileSync(path));
  const reason = `codec sample ${name} missing at ${path}: npm test makes it (node scripts/prepare-tests.mjs)`;
  if (process.env.CI === 'true') assert.fail(reason);
  t.skip(reason);
  return undefined;
}

export function readBzImage(t: TestContext): Uint8Array | undefined {
  const path = cloudKernelFixture().vmlinuzPath;
  if (existsSync(path)) return new Uint8Array(readFileSync(path));
  const reason = `Debian's cloud kernel missing at ${path}: npm test fetches it`;
  if (process.env.CI === 'true') assert.fail(reason);
  t.skip(reason);
  return undefined;
}

/**
 * The compressed payload of an x86 bzImage, read straight from the setup header
 * (Documentation/arch/x86/boot.rst): setup_sects at 0x1f1 (0 means 4), the protected-mode code
 * at (setup_sects + 1) * 512, payload_offset (0x248) and payload_length (0x24c) relative to it.
 */
export function bzImagePayload(bzImage: Uint8Array): Uint8Array {
  const view = new DataView(bzImage.buffer, bzImage.byteOffset, bzImage.byteLength);
  const setupSects = bzImage[0x1f1] || 4;
  const start = (setupSects + 1) * 512 + view.getUint32(0x248, true);
  return bzImage.subarray(start, start + view.getUint32(0x24c, true));
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The input with the 4-byte little-endian size the kernel's build appends (size_append). */
export function withSizeAppended(compressed: Uint8Array, uncompressedBytes: number): Uint8Array {
  const out = new Uint8Array(compressed.length + 4);
  out.set(compressed);
  new DataView(out.buffer).setUint32(compressed.length, uncompressedBytes >>> 0, true);
  return out;
}
