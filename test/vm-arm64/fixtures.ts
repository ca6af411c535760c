// Where scripts/prepare-tests.mjs leaves what the arm64 guest needs (see test/fixtures/PROVENANCE.md):
//   arm64-kernel/  the kernel built with KEXEC_FILE=y (scripts/fixtures/arm64-kernel.mjs)
//   arm64-guest/   busybox, Node, libraries and koffi for arm64 (scripts/fixtures/arm64-guest.mjs)
//   foreign-arch/  Debian's own arm64 kernel and config (scripts/fixtures/debian-binaries.mjs)
// Each lookup answers undefined when the piece is missing or incomplete.
import fs from 'node:fs';
import path from 'node:path';
import { kexecTsCacheDir } from '../vm/fixtures.js';

export interface BuiltArm64Kernel {
  /** The uncompressed Image, as `make Image` left it. */
  imagePath: string;
  /** The same Image through `gzip -9 -n`. */
  imageGzPath: string;
  configPath: string;
  /** `make kernelrelease`, e.g. 6.1.192-kexec-ts. */
  kernelRelease: string;
  /** Version of Debian's linux-source-6.1 it was built from. */
  sourceVersion: string;
}

export interface Arm64Guest {
  /** Laid out as in the guest: bin/busybox, usr/bin/node, lib/... */
  rootfsDir: string;
  /** The published @koromix/koffi-linux-arm64 package. */
  koffiPackageDir: string;
  nodeVersion: string;
  koffiVersion: string;
}

export interface DebianArm64Kernel {
  vmlinuzPath: string;
  configPath: string;
  /** From the package's file names, e.g. 6.1.0-50-cloud-arm64. */
  kernelRelease: string;
}

function readJson(file: string): any {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

export function builtArm64Kernel(cacheDir: string = kexecTsCacheDir()): BuiltArm64Kernel | undefined {
  const root = path.join(cacheDir, 'arm64-kernel');
  const key = readJson(path.join(root, 'current.json'))?.key;
  if (typeof key !== 'string') return undefined;
  const dir = path.join(root, key);
  const manifest = readJson(path.join(dir, 'manifest.json'));
  const kernel = {
    imagePath: path.join(dir, 'Image'),
    imageGzPath: path.join(dir, 'Image.gz'),
    configPath: path.join(dir, 'config'),
    kernelRelease: manifest?.kernelRelease,
    sourceVersion: manifest?.sourceVersion,
  };
  if (manifest?.key !== key || ![kernel.imagePath, kernel.imageGzPath, kernel.configPath].every((file) => fs.existsSync(file))) return undefined;
  return kernel;
}

export function arm64Guest(cacheDir: string = kexecTsCacheDir()): Arm64Guest | undefined {
  const dir = path.join(cacheDir, 'arm64-guest');
  const manifest = readJson(path.join(dir, 'manifest.json'));
  if (manifest?.inputs === undefined) return undefined;
  return {
    rootfsDir: path.join(dir, 'rootfs'),
    koffiPackageDir: path.join(dir, 'koffi-linux-arm64'),
    nodeVersion: manifest.inputs.node,
    koffiVersion: manifest.inputs.koffi,
  };
}

/** The Debian releases whose arm64 cloud kernels the VM tests boot: bookworm's from foreign-arch/, the others from debian-cloud-arm64-SUITE/. */
export type DebianArm64Suite = 'bookworm' | 'trixie' | 'sid';

export function debianArm64Kernel(cacheDir: string = kexecTsCacheDir(), suite: DebianArm64Suite = 'bookworm'): DebianArm64Kernel | undefined {
  if (suite !== 'bookworm') {
    // Written by scripts/fixtures/debian-suites.mjs (ensureSuiteCloudKernel with arch arm64); the manifest comes last.
    const dir = path.join(cacheDir, `debian-cloud-arm64-${suite}`);
    const manifest = readJson(path.join(dir, 'manifest.json'));
    const kernel = { vmlinuzPath: path.join(dir, 'vmlinuz'), configPath: path.join(dir, 'config'), kernelRelease: typeof manifest?.release === 'string' ? manifest.release : '' };
    return kernel.kernelRelease && [kernel.vmlinuzPath, kernel.configPath].every((f) => fs.existsSync(f)) ? kernel : undefined;
  }
  const dir = path.join(cacheDir, 'foreign-arch');
  const manifest = readJson(path.join(dir, 'manifest.json'));
  const file: unknown = manifest?.['arm64-vmlinuz']?.file;
  const kernel = {
    vmlinuzPath: path.join(dir, 'arm64-vmlinuz'),
    configPath: path.join(dir, 'arm64-config'),
    kernelRelease: typeof file === 'string' ? file.replace(/^boot\/vmlinuz-/, '') : '',
  };
  if (!kernel.kernelRelease || !manifest['arm64-config'] || ![kernel.vmlinuzPath, kernel.configPath].every((f) => fs.existsSync(f))) return undefined;
  return kernel;
}
