import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, fstatSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ErrorCode, ParseError } from '../../src/errors.js';
import { ENTRY_OVERHEAD_BYTES, measureInitrd, type InitrdReader } from '../../src/crash/arm/initrd-measure.js';
import { kernelFootprint } from '../../src/crash/arm/kernel-footprint.js';
import { inspect } from '../../src/image/detect.js';
import { FIXTURES, fuzzSettings, readFixture } from '../image/image-fixtures.js';
import { ensureBaseInitramfs, secondStageInitrd } from '../vm/initramfs.js';
import { findOnPath, vmSkipReason } from '../vm/harness.js';
import { scratchDir } from './vmcore-fixtures.js';
import { readFully } from '../../src/read-fully.js';

function memoryReader(bytes: Uint8Array): InitrdReader {
  return { sizeBytes: bytes.length, read: (offset, length) => bytes.subarray(offset, offset + length) };
}

function fileReader(path: string): InitrdReader & { close(): void } {
  const fd = openSync(path, 'r');
  const sizeBytes = fstatSync(fd).size;
  return {
    sizeBytes,
    read: (offset, length) => readFully(fd, length, offset),
    close: () => closeSync(fd),
  };
}

/** GNU cpio's own listing: names and sizes, the judge for what the walker counts. */
function cpioListing(path: string): { names: string[]; regularBytes: number } | undefined {
  if (findOnPath('cpio') === undefined) return undefined;
  const run = spawnSync('sh', ['-c', `cpio -itv --quiet < '${path}'`], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(run.stderr);
  const lines = run.stdout.split('\n').filter((line) => line !== '');
  let regularBytes = 0;
  for (const line of lines) {
    const fields = line.split(/\s+/);
    if (line.startsWith('-') || line.startsWith('l')) regularBytes += Number(fields[4]);
  }
  return { names: lines.map((line) => line.split(/\s+/).slice(8).join(' ').replace(/ -> .*/, '')), regularBytes };
}

test('the second-stage initrd (a real busybox newc archive): entries and data as GNU cpio lists them', async (t) => {
  if (!existsSync('/bin/busybox')) return t.skip('no /bin/busybox');
  const dir = scratchDir(t);
  const bytes = secondStageInitrd();
  const path = join(dir, 'second.cpio');
  writeFileSync(path, bytes);
  const measured = await measureInitrd(memoryReader(bytes), { lookFor: ['init', 'bin/busybox', 'etc/nothing'] });
  assert.equal(measured.complete, true);
  assert.equal(measured.archives, 1);
  assert.deepEqual(measured.found, ['bin/busybox', 'init']);
  const listing = cpioListing(path);
  if (listing !== undefined) {
    assert.equal(measured.entries, listing.names.length);
    assert.equal(measured.fileDataBytes, listing.regularBytes);
  }
  assert.ok(measured.unpackedBytes >= measured.fileDataBytes + measured.entries * ENTRY_OVERHEAD_BYTES);
});

test('the VM guest\'s real 125 MB initramfs is walked in place, its file data skipped, not read', async (t) => {
  const reason = vmSkipReason();
  if (reason !== undefined) return t.skip(reason);
  const path = ensureBaseInitramfs();
  const reader = fileReader(path);
  let bytesRead = 0;
  const counting: InitrdReader = { sizeBytes: reader.sizeBytes, read: (offset, length) => ((bytesRead += length), reader.read(offset, length)) };
  try {
    const started = performance.now();
    const measured = await measureInitrd(counting, { lookFor: ['usr/bin/node'] });
    assert.ok(performance.now() - started < 5000);
    assert.deepEqual(measured.found, ['usr/bin/node']);
    assert.ok(measured.fileDataBytes > 100 << 20);
    assert.ok(bytesRead < measured.fileDataBytes / 2, `read ${bytesRead} bytes of ${reader.sizeBytes}`);
    const listing = cpioListing(path);
    if (listing !== undefined) {
      assert.equal(measured.entries, listing.names.length);
      assert.equal(measured.fileDataBytes, listing.regularBytes);
    }
  } finally {
    reader.close();
  }
});

test('concatenated initrds unpack as one: stored, gzip\'ed, NUL padding, xz and zstd archives add up', async (t) => {
  if (!existsSync('/bin/busybox')) return t.skip('no /bin/busybox');
  const dir = scratchDir(t);
  const plain = secondStageInitrd();
  const base = await measureInitrd(memoryReader(plain));
  const compressWith = (tool: string, args: string[]): Buffer | undefined => {
    if (findOnPath(tool) === undefined) return undefined;
    const input = join(dir, 'in.cpio');
    writeFileSync(input, plain);
    const run = spawnSync(tool, [...args, input], { maxBuffer: 64 << 20 });
    return run.status === 0 ? run.stdout : undefined;
  };
  const parts: Buffer[] = [plain, gzipSync(plain), Buffer.alloc(512)];
  // xz as the kernel wants it for initramfs (crc32), and zstd as initramfs-tools writes it.
  for (const compressed of [compressWith('xz', ['--check=crc32', '-c']), compressWith('zstd', ['-q', '-c'])]) {
    if (compressed !== undefined) parts.push(compressed, Buffer.alloc((4 - (compressed.length % 4)) % 4));
  }
  parts.push(plain);
  const archives = parts.filter((part) => part.length > 0 && part.some((byte) => byte !== 0)).length;
  const measured = await measureInitrd(memoryReader(Buffer.concat(parts)));
  assert.equal(measured.complete, true);
  assert.equal(measured.archives, archives * base.archives);
  assert.equal(measured.entries, archives * base.entries);
  assert.equal(measured.unpackedBytes, archives * base.unpackedBytes);
  assert.deepEqual(measured.segments.map((segment) => segment.kind).filter((kind) => kind !== 'cpio'), ['gzip', ...(findOnPath('xz') ? ['xz'] : []), ...(findOnPath('zstd') ? ['zstd'] : [])]);
});

test('a compressed archive of 300 MiB of zeros (a small file) is counted as it would unpack, and the count stops past the bound', async () => {
  const zeros = Buffer.alloc(15 << 20);
  const bytes = gzipSync(cpioOf(Array.from({ length: 20 }, (_, index): [string, Buffer] => [`filler-${index}`, zeros])));
  assert.ok(bytes.length < 1 << 20);
  const full = await measureInitrd(memoryReader(bytes));
  assert.equal(full.complete, true);
  assert.equal(full.unpackedBytes, (300 << 20) + 20 * ENTRY_OVERHEAD_BYTES);
  const bounded = await measureInitrd(memoryReader(bytes), { stopAfterBytes: 64 << 20 });
  assert.equal(bounded.complete, false);
  assert.ok(bounded.unpackedBytes > 64 << 20 && bounded.unpackedBytes < 300 << 20);
});

test('what the kernel would refuse is a ParseError: truncation, junk, a bad header, an odc archive', async () => {
  const archive = cpioOf([['a', Buffer.from('hello')]]);
  const refuse = async (bytes: Uint8Array, code: string, message: RegExp) =>
    assert.rejects(measureInitrd(memoryReader(bytes)), (error: unknown) => error instanceof ParseError && error.code === code && message.test(error.message));
  await refuse(archive.subarray(0, 116), ErrorCode.FORMAT_TRUNCATED, /ends inside an entry/);
  await refuse(Buffer.concat([archive, Buffer.from('junk')]), ErrorCode.FORMAT_INVALID, /invalid magic at start of compressed archive/);
  await refuse(gzipSync(Buffer.concat([archive, Buffer.from('junk')])), ErrorCode.FORMAT_INVALID, /junk within compressed archive/);
  await refuse(Buffer.from(archive.toString('latin1').replace('070701', '070707'), 'latin1'), ErrorCode.FORMAT_INVALID, /cpio -H newc/);
  await refuse(Buffer.from(archive.toString('latin1').replace(/^(.{94})0000000[0-9a-f]/s, '$1zzzzzzzz'), 'latin1'), ErrorCode.FORMAT_INVALID, /c_namesize is not 8 hex digits/);
});

test('initrd property: a real archive, mutated, measures or fails with a ParseError only', async (t) => {
  if (!existsSync('/bin/busybox')) return t.skip('no /bin/busybox');
  // Small real archive: the second-stage initrd without busybox's 2 MB of data dominating the runs.
  const real = cpioOf([['init', Buffer.from('#!/bin/sh\necho hi\n')], ['bin/x', Buffer.from('x'.repeat(300))], ['etc/passwd', Buffer.from('root:x:0:0::/root:/bin/sh\n')]]);
  const variants = [real, gzipSync(real)];
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: variants.length - 1 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), async (which, edits) => {
      const bytes = Buffer.from(variants[which]!);
      for (const [at, value] of edits) bytes[at % bytes.length] = value;
      try {
        await measureInitrd(memoryReader(bytes), { stopAfterBytes: 64 << 20 });
      } catch (error) {
        assert.ok(error instanceof ParseError, String(error));
      }
    }),
    fuzzSettings(300),
  );
});

test('the Debian kernel\'s footprint: init_size as loaded, an upper bound for what stays; the running kernel\'s image when it is the same', (t) => {
  const bytes = readFixture(t, 'debianCloudAmd64Vmlinuz');
  if (bytes === undefined) return;
  const image = inspect(bytes);
  assert.equal(image.format, 'bzImage');
  const footprint = kernelFootprint(image)!;
  assert.equal(image.format === 'bzImage' && footprint.loadBytes, Math.ceil(image.bzImage.header.init_size / 4096) * 4096);
  assert.equal(footprint.alignmentBytes, 2 << 20);
  assert.equal(footprint.residentSource, 'init_size (an upper bound)');
  assert.match(footprint.release ?? '', /^\d+\.\d+\.\d+-\d+-cloud-amd64$/);
  const same = kernelFootprint(image, { release: footprint.release!, imageBytes: 31 << 20 })!;
  assert.equal(same.residentBytes, 31 << 20);
  assert.equal(same.residentSource, 'running kernel (/proc/iomem)');
  assert.equal(kernelFootprint(image, { release: '6.12.0-other', imageBytes: 31 << 20 })!.residentSource, 'init_size (an upper bound)');
});

test('the arm64 kernel\'s footprint is its image_size', (t) => {
  const bytes = readFixture(t, 'debianCloudArm64Vmlinuz');
  if (bytes === undefined) return;
  const image = inspect(bytes);
  assert.equal(image.format, 'arm64-image');
  const footprint = kernelFootprint(image)!;
  assert.equal(image.format === 'arm64-image' && footprint.loadBytes, Math.ceil(Number(image.image.imageSize) / 4096) * 4096);
  assert.equal(footprint.residentSource, 'image_size');
  assert.equal(FIXTURES.debianCloudArm64Vmlinuz().length > 0, true);
});

/** A newc archive of regular files (parents not listed: enough for the walker, which counts entries). */
function cpioOf(files: Array<[string, Buffer]>): Buffer {
  const chunks: Buffer[] = [];
  let length = 0;
  const push = (bytes: Buffer) => (chunks.push(bytes), (length += bytes.length));
  const pad = (to: number) => push(Buffer.alloc((to - (length % to)) % to));
  const entry = (name: string, mode: number, data: Buffer) => {
    const fields = [1, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, name.length + 1, 0];
    push(Buffer.from(`070701${fields.map((field) => field.toString(16).padStart(8, '0')).join('')}${name}\0`, 'latin1'));
    pad(4);
    push(data);
    pad(4);
  };
  for (const [name, data] of files) entry(name, 0o100644, data);
  entry('TRAILER!!!', 0, Buffer.alloc(0));
  pad(512);
  return Buffer.concat(chunks);
}
