// Where the ISO tests find their images: made by scripts/fixtures/iso.mjs in the cache from the
// debian-installer netboot tree (see test/fixtures/PROVENANCE.md, "ISO images"). A missing
// image skips with the reason, or fails under CI=true.
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { kexecTsCacheDir } from '../vm/fixtures.js';
import { isoSourceFromBytes, type IsoSource } from '../../src/bootcfg/iso9660/source.js';

export interface IsoFixtureManifest {
  netboot: { package: string; version: string };
  netbootLinuxSha256: string;
  netbootInitrdSha256: string;
  volumeIds: { isolinux: string; grubRescue: string };
  names: { mixedCase: string; long: string; absoluteLink: string; absoluteLinkTarget: string; deepFile: string };
  loopbackCfg: string;
  isolinux: { file: string; sizeBytes: number; sha256: string };
  grubRescue: { file: string; sizeBytes: number; sha256: string };
}

export interface IsoFixtures {
  dir: string;
  isolinuxIso: string;
  grubRescueIso: string;
  /** The netboot tree both images were built from. */
  netbootRoot: string;
  manifest: IsoFixtureManifest;
}

export const NETBOOT_LINUX = '/debian-installer/amd64/linux';
export const NETBOOT_INITRD = '/debian-installer/amd64/initrd.gz';

/** The images, or undefined after skipping (failing under CI=true) with the reason. */
export function isoFixtures(t: TestContext): IsoFixtures | undefined {
  const cache = kexecTsCacheDir();
  const dir = path.join(cache, 'iso');
  const manifestPath = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestPath)) {
    const reason = `ISO fixtures missing in ${dir} (npm test makes them with scripts/fixtures/iso.mjs)`;
    if (process.env.CI === 'true') assert.fail(reason);
    t.skip(reason);
    return undefined;
  }
  const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as IsoFixtureManifest;
  return {
    dir,
    isolinuxIso: path.join(dir, manifest.isolinux.file),
    grubRescueIso: path.join(dir, manifest.grubRescue.file),
    netbootRoot: path.join(cache, 'bootcfg', 'netboot'),
    manifest,
  };
}

/** The first `length` bytes of an image file: its descriptors and directories, not its big files. */
export function readHead(file: string, length: number): Uint8Array {
  const fd = fs.openSync(file, 'r');
  try {
    const bytes = Buffer.alloc(Math.min(length, fs.fstatSync(fd).size));
    fs.readSync(fd, bytes, 0, bytes.length, 0);
    return bytes;
  } finally {
    fs.closeSync(fd);
  }
}

/** A source that counts what is asked of it: bytes and calls. */
export function meteredSource(inner: IsoSource): IsoSource & { bytesRead: number; reads: number; largestRead: number } {
  const metered = {
    sizeBytes: inner.sizeBytes,
    bytesRead: 0,
    reads: 0,
    largestRead: 0,
    readAt(offset: number, length: number): Uint8Array {
      metered.reads++;
      metered.bytesRead += length;
      metered.largestRead = Math.max(metered.largestRead, length);
      return inner.readAt(offset, length);
    },
  };
  return metered;
}

/** A source that reads `inner` with some byte ranges replaced and, optionally, bytes added at the end. */
export function patchedSource(inner: IsoSource, patches: { offset: number; bytes: Uint8Array }[], appended: Uint8Array = new Uint8Array(0)): IsoSource {
  const sizeBytes = inner.sizeBytes + appended.length;
  return {
    sizeBytes,
    readAt(offset, length) {
      const end = Math.min(sizeBytes, offset + length);
      const out = new Uint8Array(Math.max(0, end - offset));
      const fromInner = Math.max(0, Math.min(end, inner.sizeBytes) - offset);
      if (fromInner > 0) out.set(inner.readAt(offset, fromInner), 0);
      if (end > inner.sizeBytes) {
        const start = Math.max(offset, inner.sizeBytes);
        out.set(appended.subarray(start - inner.sizeBytes, end - inner.sizeBytes), start - offset);
      }
      for (const patch of patches) {
        const from = Math.max(offset, patch.offset);
        const to = Math.min(end, patch.offset + patch.bytes.length);
        if (from < to) out.set(patch.bytes.subarray(from - patch.offset, to - patch.offset), from - offset);
      }
      return out;
    },
  };
}

export { isoSourceFromBytes };
