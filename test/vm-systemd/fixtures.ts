// Where scripts/fixtures/debian-suites.mjs and systemd-root.mjs leave the other Debian releases'
// artefacts (plain JS, they run before the build): keep the paths here identical to theirs.
import fs from 'node:fs';
import path from 'node:path';
import { kexecTsCacheDir } from '../vm/fixtures.js';

export type DebianSuite = 'trixie' | 'sid';

/** Written by ensureSuiteCloudKernel after vmlinuz and config are complete. */
export interface SuiteCloudKernelManifest {
  suite: DebianSuite;
  arch: string;
  /** The package holding vmlinuz: `linux-image-<release>` up to Debian 13, `linux-binary-<release>` in sid. */
  package: string;
  /** Every package unpacked for vmlinuz and config. */
  packages: string[];
  version: string;
  /** The kernel release, what `uname -r` prints, e.g. `6.12.117+deb13-cloud-amd64`. */
  release: string;
  vmlinuzSha256: string;
  /** ISO 8601. */
  fetchedAt: string;
}

export interface SuiteCloudKernelFixture {
  suite: DebianSuite;
  dir: string;
  vmlinuzPath: string;
  configPath: string;
  manifestPath: string;
}

/** Paths of a suite's cloud amd64 kernel in the cache; they may not exist yet. */
export function suiteCloudKernelFixture(suite: DebianSuite, cacheDir: string = kexecTsCacheDir()): SuiteCloudKernelFixture {
  const dir = path.join(cacheDir, `debian-cloud-amd64-${suite}`);
  return {
    suite,
    dir,
    vmlinuzPath: path.join(dir, 'vmlinuz'),
    configPath: path.join(dir, 'config'),
    manifestPath: path.join(dir, 'manifest.json'),
  };
}

/** The manifest when vmlinuz, config and the manifest vouching for them are all there. */
export function readSuiteCloudKernelManifest(fixture: SuiteCloudKernelFixture): SuiteCloudKernelManifest | undefined {
  if (![fixture.vmlinuzPath, fixture.configPath].every((file) => fs.existsSync(file))) return undefined;
  try {
    return JSON.parse(fs.readFileSync(fixture.manifestPath, 'utf8')) as SuiteCloudKernelManifest;
  } catch {
    return undefined;
  }
}
