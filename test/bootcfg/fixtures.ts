// Where the bootcfg tests find their real configurations: small ones committed under
// test/fixtures/bootcfg/ (see test/fixtures/PROVENANCE.md), big ones (kernels, initrds, the
// fresh outputs of grub-mkconfig and kernel-install) made by scripts/fixtures/bootcfg.mjs in
// the cache. A missing cache fixture skips with the reason, or fails under CI=true.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { kexecTsCacheDir } from '../vm/fixtures.js';

/** test/fixtures/bootcfg in the source tree (the tests run from dist/test/bootcfg/). */
export const COMMITTED_FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/bootcfg');

export function committedFixture(...parts: string[]): string {
  return path.join(COMMITTED_FIXTURES, ...parts);
}

/** test/bootcfg/goldens in the source tree. */
export const GOLDENS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/bootcfg/goldens');

export interface BootcfgCacheManifest {
  netboot: { package: string; version: string };
  kernels: { older: { package: string; version: string; release: string }; newer: { package: string; version: string; release: string } };
  grubSavedEntry: string;
  machineId: string;
  fsUuid: string;
  cmdline: string;
}

export interface BootcfgCache {
  dir: string;
  netbootRoot: string;
  scratchRoot: string;
  blsRoot: string;
  manifest: BootcfgCacheManifest;
}

/** The cache fixtures, or undefined after skipping (failing under CI=true) with the reason. */
export function bootcfgCache(t: TestContext): BootcfgCache | undefined {
  const dir = path.join(kexecTsCacheDir(), 'bootcfg');
  const manifestPath = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestPath)) {
    const reason = `bootcfg fixtures missing in ${dir} (npm test makes them with scripts/fixtures/bootcfg.mjs)`;
    if (process.env.CI === 'true') assert.fail(reason);
    t.skip(reason);
    return undefined;
  }
  return {
    dir,
    netbootRoot: path.join(dir, 'netboot'),
    scratchRoot: path.join(dir, 'scratch-root'),
    blsRoot: path.join(dir, 'bls-root'),
    manifest: JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as BootcfgCacheManifest,
  };
}

export function readCommitted(...parts: string[]): string {
  return fs.readFileSync(committedFixture(...parts), 'utf8');
}
