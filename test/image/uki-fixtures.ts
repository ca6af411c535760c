// The UKI fixtures built by scripts/fixtures/uki.mjs (paths mirrored here: that script is plain
// JavaScript run before the build). See test/fixtures/PROVENANCE.md, "Unified Kernel Images".
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { kexecTsCacheDir } from '../vm/fixtures.js';

export interface UkiFixtureManifest {
  stubVersion: string;
  kernelPackage: string;
  vmlinuzSha256: string;
  initrdSha256: string;
  uname: string;
  sections: string[];
  cmdline: string;
  addons: { fileName: string; cmdline: string }[];
}

export interface UkiFixture {
  manifest: UkiFixtureManifest;
  uki: Uint8Array;
  stub: Uint8Array;
  initrd: Uint8Array;
  cmdlineFile: string;
  osReleaseFile: string;
  addons: { fileName: string; bytes: Uint8Array }[];
}

export function ukiFixtureDir(cacheDir = kexecTsCacheDir()): string {
  return join(cacheDir, 'uki');
}

let cached: UkiFixture | undefined;

/** The built UKI and its inputs; skipped when missing, failed under CI=true. */
export function readUkiFixture(t: TestContext): UkiFixture | undefined {
  if (cached) return cached;
  const dir = ukiFixtureDir();
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) {
    const reason = `UKI fixtures missing in ${dir}: npm test builds them (node scripts/prepare-tests.mjs; needs the cached Debian kernel, apt-get download and objcopy)`;
    if (process.env.CI === 'true') assert.fail(reason);
    t.skip(reason);
    return undefined;
  }
  const bytes = (name: string) => new Uint8Array(readFileSync(join(dir, name)));
  cached = {
    manifest: JSON.parse(readFileSync(manifestPath, 'utf8')) as UkiFixtureManifest,
    uki: bytes('debian-cloud.efi'),
    stub: bytes('linuxx64.efi.stub'),
    initrd: bytes('initrd.cpio'),
    cmdlineFile: readFileSync(join(dir, 'cmdline.txt'), 'utf8'),
    osReleaseFile: readFileSync(join(dir, 'os-release'), 'utf8'),
    addons: readdirSync(join(dir, 'addons'))
      .sort()
      .map((fileName) => ({ fileName, bytes: bytes(join('addons', fileName)) })),
  };
  return cached;
}
