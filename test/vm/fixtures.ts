// Where scripts/prepare-tests.mjs leaves the fetched test artefacts. The cache-dir rule is
// duplicated there (plain JS, it runs before the build); keep the two identical.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** `$KEXEC_TS_CACHE`, else `${XDG_CACHE_HOME:-$HOME/.cache}/kexec-ts`. Outside git on purpose. */
export function kexecTsCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KEXEC_TS_CACHE) return env.KEXEC_TS_CACHE;
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'kexec-ts');
}

/** Written by prepare-tests after the kernel and config beside it are complete. */
export interface CloudKernelManifest {
  /** The versioned Debian package, e.g. `linux-image-6.1.0-56-cloud-amd64`. */
  package: string;
  version: string;
  /** `uname -r` (the other releases' manifests have it; bookworm's is derived from the package). */
  release?: string;
  vmlinuzSha256: string;
  /** ISO 8601. */
  fetchedAt: string;
}

export interface CloudKernelFixture {
  dir: string;
  /** The bzImage from the package's `boot/vmlinuz-*`. */
  vmlinuzPath: string;
  /** The package's `boot/config-*`: the kernel's build configuration. */
  configPath: string;
  manifestPath: string;
}

/**
 * Which Debian release's cloud kernel the busybox guests boot: `KEXEC_TS_VM_SUITE` = bookworm
 * (Debian 12's 6.1, the default), trixie (Debian 13's 6.12) or sid (7.x). scripts/run-tests.mjs
 * runs the VM suites once per release; the other releases' kernels come from
 * scripts/fixtures/debian-suites.mjs.
 */
export const VM_SUITES = ['bookworm', 'trixie', 'sid'] as const;
export type VmSuite = (typeof VM_SUITES)[number];

export function vmSuite(env: NodeJS.ProcessEnv = process.env): VmSuite {
  const suite = env.KEXEC_TS_VM_SUITE ?? 'bookworm';
  if (!(VM_SUITES as readonly string[]).includes(suite)) throw new Error(`KEXEC_TS_VM_SUITE=${suite} is not one of ${VM_SUITES.join(', ')}`);
  return suite as VmSuite;
}

/** Paths of Debian's cloud amd64 kernel (of vmSuite()'s release) in the cache; they may not exist yet. */
export function cloudKernelFixture(cacheDir: string = kexecTsCacheDir(), suite: VmSuite = vmSuite()): CloudKernelFixture {
  const dir = path.join(cacheDir, suite === 'bookworm' ? 'debian-cloud-amd64' : `debian-cloud-amd64-${suite}`);
  return {
    dir,
    vmlinuzPath: path.join(dir, 'vmlinuz'),
    configPath: path.join(dir, 'config'),
    manifestPath: path.join(dir, 'manifest.json'),
  };
}

/** True when the kernel, its config and the manifest that vouches for them are all there. */
export function cloudKernelFixtureExists(fixture: CloudKernelFixture = cloudKernelFixture()): boolean {
  return [fixture.vmlinuzPath, fixture.configPath, fixture.manifestPath].every((file) => fs.existsSync(file));
}

export function readCloudKernelManifest(
  fixture: CloudKernelFixture = cloudKernelFixture(),
): CloudKernelManifest | undefined {
  try {
    return JSON.parse(fs.readFileSync(fixture.manifestPath, 'utf8')) as CloudKernelManifest;
  } catch {
    return undefined;
  }
}

/** `uname -r` of the fixture's kernel. */
export function cloudKernelRelease(fixture: CloudKernelFixture = cloudKernelFixture()): string {
  const manifest = readCloudKernelManifest(fixture);
  return manifest?.release ?? manifest?.package.replace(/^linux-image-/, '') ?? 'unknown';
}

/** Written by scripts/fixtures/cloud-kernel-modules.mjs once the modules beside it are complete. */
export interface CloudKernelModulesManifest {
  package: string;
  version: string;
  release: string;
  /** In load order: each module after the ones it depends on. */
  modules: Array<{ name: string; file: string; from: string; sha256: string }>;
}

/**
 * The FAT modules (fat, vfat, nls_*) of vmSuite()'s cloud kernel, uncompressed, in load order;
 * undefined when they are not cached or belong to another build than the cached kernel.
 */
export function cloudKernelModules(cacheDir: string = kexecTsCacheDir(), suite: VmSuite = vmSuite()): { dir: string; manifest: CloudKernelModulesManifest } | undefined {
  const dir = path.join(cacheDir, 'cloud-kernel-modules', suite);
  let manifest: CloudKernelModulesManifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as CloudKernelModulesManifest;
  } catch {
    return undefined;
  }
  const kernel = readCloudKernelManifest(cloudKernelFixture(cacheDir, suite));
  if (kernel === undefined || kernel.package !== manifest.package || kernel.version !== manifest.version) return undefined;
  return manifest.modules.every((module) => fs.existsSync(path.join(dir, module.file))) ? { dir, manifest } : undefined;
}
