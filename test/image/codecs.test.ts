import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParseError } from '../../src/errors.js';
import { CODECS, decompress, decompressStream, detectCodec, type Codec } from '../../src/image/codecs/index.js';
import { LIMITS } from '../../src/limits.js';
import { CODEC_EXTENSIONS, bzImagePayload, readBzImage, readCodecSample, sha256, withSizeAppended } from './codec-fixtures.js';

// Real samples (scripts/fixtures/codec-samples.mjs): Debian's cloud kernel's vmlinux, compressed
// by the real tools exactly as the kernel's build does, plus a 384 KiB slice of its code.
//
// Measured on the 2-core test machine (node 20, best of 3, other work running), 53 MB out:
//   bzImage LZ4 payload 65 ms (lz4 -dc 26 ms)   xz 1.54 s (xz -dc 0.51 s)   lzma 1.45 s (0.48 s)
//   gzip 0.10 s (gzip -dc 0.26 s)   bzip2 1.84 s (0.84 s)   lzo 0.36 s (lzop -dc 0.13 s)
//   zstd 0.12 s (zstd -dc 0.09 s)
// (bench/ will track these properly.)

const cap = { maxOutputBytes: LIMITS.kernelPayloadBytes };

function isParseError(code: string) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof ParseError, `expected a ParseError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  };
}

test("Debian's bzImage payload (LZ4 legacy, with the build's 4 size bytes) decompresses to the vmlinux, byte for byte", async (t) => {
  const bzImage = readBzImage(t);
  const vmlinux = readCodecSample(t, 'vmlinux');
  if (!bzImage || !vmlinux) return;
  const payload = bzImagePayload(bzImage);
  assert.equal(detectCodec(payload), 'lz4');
  // The last 4 bytes are the uncompressed size (scripts/Makefile.lib size_append).
  assert.equal(new DataView(payload.buffer, payload.byteOffset).getUint32(payload.length - 4, true), vmlinux.length);
  const output = await decompress('lz4', payload, cap);
  assert.equal(output.length, vmlinux.length);
  assert.equal(sha256(output), sha256(vmlinux));
  // An ELF, as extract-vmlinux's check_vmlinux expects.
  assert.deepEqual([...output.subarray(0, 4)], [0x7f, 0x45, 0x4c, 0x46]);
});

for (const codec of CODECS) {
  test(`${codec}: the real tool's output of the whole vmlinux decompresses to it exactly`, async (t) => {
    const compressed = readCodecSample(t, `vmlinux.${CODEC_EXTENSIONS[codec]}`);
    const vmlinux = readCodecSample(t, 'vmlinux');
    if (!compressed || !vmlinux) return;
    assert.equal(detectCodec(compressed), codec);
    const output = await decompress(codec, compressed, cap);
    assert.equal(output.length, vmlinux.length);
    assert.equal(sha256(output), sha256(vmlinux));
  });
}

test('detectCodec: nothing for the uncompressed vmlinux, the bzImage itself, short or empty input', (t) => {
  const vmlinux = readCodecSample(t, 'vmlinux');
  const bzImage = readBzImage(t);
  if (!vmlinux || !bzImage) return;
  assert.equal(detectCodec(vmlinux), undefined);
  assert.equal(detectCodec(bzImage), undefined);
  assert.equal(detectCodec(new Uint8Array(0)), undefined);
  assert.equal(detectCodec(Uint8Array.of(0x1f, 0x8b)), undefined, 'two bytes are not a whole gzip magic');
  assert.equal(detectCodec(Uint8Array.of(0x1f, 0x8b, 0x08)), 'gzip');
});

for (const codec of CODECS) {
  test(`${codec}: the slice sample with and without the build's size bytes; anything else after the data is refused`, async (t) => {
    const compressed = readCodecSample(t, `vmlinux-slice.${CODEC_EXTENSIONS[codec]}`);
    const slice = readCodecSample(t, 'vmlinux-slice');
    if (!compressed || !slice) return;
    assert.equal(sha256(await decompress(codec, compressed, cap)), sha256(slice));
    assert.equal(sha256(await decompress(codec, withSizeAppended(compressed, slice.length), cap)), sha256(slice));
    await assert.rejects(decompress(codec, withSizeAppended(compressed, slice.length + 1), cap), (error: unknown) => {
      assert.ok(error instanceof ParseError && error.code === 'DECOMPRESSION_FAILED', String(error));
      assert.equal(error.format, codec);
      assert.equal(error.field, 'size_append');
      return true;
    });
    const withGarbage = new Uint8Array(compressed.length + 7).fill(0x41);
    withGarbage.set(compressed);
    await assert.rejects(decompress(codec, withGarbage, cap), isParseError('DECOMPRESSION_FAILED'));
  });
}

for (const codec of CODECS) {
  test(`${codec}: a cap below the real size stops the whole vmlinux with FORMAT_LIMIT_EXCEEDED, promptly`, async (t) => {
    const compressed = readCodecSample(t, `vmlinux.${CODEC_EXTENSIONS[codec]}`);
    if (!compressed) return;
    const started = performance.now();
    await assert.rejects(decompress(codec, compressed, { maxOutputBytes: 1 << 20 }), (error: unknown) => {
      assert.ok(error instanceof ParseError && error.code === 'FORMAT_LIMIT_EXCEEDED', String(error));
      assert.equal(error.format, codec);
      return true;
    });
    // Decoding all of it takes seconds for some codecs; stopping at 1 MiB must not.
    assert.ok(performance.now() - started < 5000, `took ${performance.now() - started} ms`);
  });
}

test('decompressStream hands the output out in pieces, and progress counts up to the total', async (t) => {
  const compressed = readCodecSample(t, 'vmlinux.xz');
  const vmlinux = readCodecSample(t, 'vmlinux');
  if (!compressed || !vmlinux) return;
  const progress: [number, number][] = [];
  let pieces = 0;
  let largest = 0;
  let total = 0;
  for await (const chunk of decompressStream('xz', compressed, { ...cap, onProgress: (inBytes, outBytes) => progress.push([inBytes, outBytes]) })) {
    pieces++;
    largest = Math.max(largest, chunk.length);
    total += chunk.length;
  }
  assert.equal(total, vmlinux.length);
  assert.ok(pieces > 10, `${pieces} pieces`);
  assert.ok(largest <= 2 << 20, `largest piece ${largest}`);
  assert.deepEqual(progress.at(-1), [compressed.length, vmlinux.length]);
  for (let index = 1; index < progress.length; index++) {
    assert.ok(progress[index]![0] >= progress[index - 1]![0] && progress[index]![1] >= progress[index - 1]![1]);
  }
});

test('the wrong codec, an empty input and a bad cap are refused with typed errors', async (t) => {
  const xz = readCodecSample(t, 'vmlinux-slice.xz');
  if (!xz) return;
  for (const codec of CODECS.filter((name) => name !== 'xz')) {
    await assert.rejects(decompress(codec, xz, cap), (error: unknown) => error instanceof ParseError && error.format === codec, codec);
    await assert.rejects(decompress(codec, new Uint8Array(0), cap), (error: unknown) => error instanceof ParseError, `${codec} empty`);
  }
  await assert.rejects(decompress('xz', xz, { maxOutputBytes: -1 }), RangeError);
  await assert.rejects(decompress('rar' as Codec, xz, cap), isParseError('FORMAT_UNRECOGNIZED'));
});

test('lying sizes: headers that claim huge outputs fail fast instead of allocating', async (t) => {
  const lzma = readCodecSample(t, 'vmlinux-slice.lzma');
  const lz4 = readCodecSample(t, 'vmlinux-slice.lz4');
  const lzo = readCodecSample(t, 'vmlinux-slice.lzo');
  if (!lzma || !lz4 || !lzo) return;
  // .lzma: uncompressed size 2^62 and a 4 GiB dictionary.
  const hugeLzma = lzma.slice();
  new DataView(hugeLzma.buffer).setUint32(1, 0xffffffff, true);
  new DataView(hugeLzma.buffer).setBigUint64(5, 1n << 62n, true);
  await assert.rejects(decompress('lzma', hugeLzma, cap), isParseError('DECOMPRESSION_FAILED'));
  // lz4: the first block claims 4 GiB - 16 of compressed data.
  const hugeLz4 = lz4.slice();
  new DataView(hugeLz4.buffer).setUint32(4, 0xfffffff0, true);
  await assert.rejects(decompress('lz4', hugeLz4, cap), (error: unknown) => error instanceof ParseError);
  // lz4: a block size just past the data left.
  const longLz4 = lz4.slice();
  new DataView(longLz4.buffer).setUint32(4, lz4.length, true);
  await assert.rejects(decompress('lz4', longLz4, cap), isParseError('FORMAT_TRUNCATED'));
  // zstd: a single-segment frame declaring 2^40 bytes.
  const zstdHeader = Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0);
  await assert.rejects(decompress('zstd', zstdHeader, cap), isParseError('FORMAT_LIMIT_EXCEEDED'));
  // lzop: the first block claims 0xffffffff uncompressed bytes.
  const blockStart = findLzopFirstBlock(lzo);
  const hugeLzo = lzo.slice();
  new DataView(hugeLzo.buffer).setUint32(blockStart, 0xffffffff, false);
  await assert.rejects(decompress('lzo', hugeLzo, cap), isParseError('DECOMPRESSION_FAILED'));
});

/** Where lzop's first block starts: after the name (length byte at 0x19 for version >= 0x0940
 * without a filter) and the 4-byte header checksum. */
function findLzopFirstBlock(lzo: Uint8Array): number {
  const nameLengthOffset = 9 + 2 + 2 + 2 + 1 + 1 + 4 + 4 + 4 + 4;
  return nameLengthOffset + 1 + lzo[nameLengthOffset]! + 4;
}
