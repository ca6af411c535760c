// Where scripts/prepare-tests.mjs leaves what the riscv64 tests need (scripts/fixtures/riscv64-guest.mjs):
// <cache>/riscv64-trixie/ holds Debian 13's riscv64 kernel and
// config, and the guest's busybox, Node, libraries and koffi. Each lookup answers undefined when
// the piece is missing or incomplete (no manifest yet).
import fs from 'node:fs';
import path from 'node:path';
import { kexecTsCacheDir } from '../vm/fixtures.js';

export interface Riscv64Fixture {
  /** Debian's riscv64 kernel: an uncompressed Image with an EFI stub (boot/vmlinux-RELEASE). */
  vmlinuzPath: string;
  configPath: string;
  /** e.g. 6.12.117+deb13-riscv64 */
  kernelRelease: string;
  /** Laid out as in the guest: bin/busybox, usr/bin/node, lib/... */
  rootfsDir: string;
  /** The published @koromix/koffi-linux-riscv64 package. */
  koffiPackageDir: string;
  nodeVersion: string;
  koffiVersion: string;
}

export function riscv64Fixture(cacheDir: string = kexecTsCacheDir()): Riscv64Fixture | undefined {
  const dir = path.join(cacheDir, 'riscv64-trixie');
  let manifest: any;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  } catch {
    return undefined;
  }
  const fixture: Riscv64Fixture = {
    vmlinuzPath: path.join(dir, 'vmlinuz'),
    configPath: path.join(dir, 'config'),
    kernelRelease: manifest?.kernel?.release ?? '',
    rootfsDir: path.join(dir, 'rootfs'),
    koffiPackageDir: path.join(dir, 'koffi-linux-riscv64'),
    nodeVersion: manifest?.packages?.nodejs ?? '',
    koffiVersion: manifest?.inputs?.koffi ?? '',
  };
  if (!fixture.kernelRelease || ![fixture.vmlinuzPath, fixture.configPath, fixture.rootfsDir].every((file) => fs.existsSync(file))) return undefined;
  return fixture;
}
