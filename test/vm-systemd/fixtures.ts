// Where scripts/fixtures/debian-suites.mjs and systemd-root.mjs leave the other Debian releases'
// artefacts (plain JS, they run before the build): keep the paths here identical to theirs.
import fs from 'node:fs';
import path from 'node:path';
import { kexecTsCacheDir } from '../vm/fixtures.js';

export type DebianSuite = 'trixie' | 'sid';

// The other releases' kernels (debian-suites.mjs) are read by cloudKernelFixture(cacheDir, suite) in
// ../vm/fixtures.ts.

/** Written by scripts/fixtures/systemd-root.mjs after the image and the files beside it are complete. */
export interface SystemdRootManifest {
  recipeVersion: number;
  suite: DebianSuite;
  packageVersions: Record<string, string>;
  /** `uname -r` of the image's only kernel. */
  kernelRelease: string;
  /** Paths inside the image, e.g. `/boot/vmlinuz-6.12.117+deb13-cloud-amd64`. */
  vmlinuz: string;
  initrd: string;
  rootUuid: string;
  rootTreeBytes: number;
  imageAllocatedBytes: number;
  timingsMs: { debootstrap: number; mkfs: number; provisionBoot: number; total: number };
  builtAt: string;
}

export interface SystemdRootFixture {
  suite: DebianSuite;
  dir: string;
  /** The debootstrapped tree; `chroot` into it for that release's makedumpfile or crash. */
  rootDir: string;
  /** The ext4 root image; boot it with `snapshot=on` so it stays as built. */
  imagePath: string;
  vmlinuzPath: string;
  initrdPath: string;
  /** /boot/grub/grub.cfg as update-grub wrote it inside the guest. */
  grubCfgPath: string;
  manifestPath: string;
}

/** Paths of a suite's systemd root in the cache (the layout of systemdRootPaths in systemd-root.mjs). */
export function systemdRootFixture(suite: DebianSuite, cacheDir: string = kexecTsCacheDir()): SystemdRootFixture {
  const dir = path.join(cacheDir, 'systemd-root', suite);
  return {
    suite,
    dir,
    rootDir: path.join(dir, 'root'),
    imagePath: path.join(dir, 'root.img'),
    vmlinuzPath: path.join(dir, 'vmlinuz'),
    initrdPath: path.join(dir, 'initrd.img'),
    grubCfgPath: path.join(dir, 'grub.cfg'),
    manifestPath: path.join(dir, 'manifest.json'),
  };
}

export function readSystemdRootManifest(fixture: SystemdRootFixture): SystemdRootManifest | undefined {
  if (![fixture.imagePath, fixture.vmlinuzPath, fixture.initrdPath, fixture.grubCfgPath].every((file) => fs.existsSync(file))) return undefined;
  try {
    return JSON.parse(fs.readFileSync(fixture.manifestPath, 'utf8')) as SystemdRootManifest;
  } catch {
    return undefined;
  }
}
