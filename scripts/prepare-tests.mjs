#!/usr/bin/env node
// Prepares what the VM tests need before the TypeScript build runs (`npm test` calls it first):
// the Debian packages that boot and populate a QEMU guest, and Debian's current cloud kernel,
// fetched once into a cache outside the repository (see test/fixtures/PROVENANCE.md).
//
// It never fails the test run for a missing piece: it says what is missing and how to get it.
// The VM tests then skip with that reason, except under CI=true, where they fail instead.
// Plain JavaScript on purpose: it runs before `tsc`, so it cannot depend on the build.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureDebianBinaryFixtures } from './fixtures/debian-binaries.mjs';
import { ensureUkiFixtures } from './fixtures/uki.mjs';
import { ensureCodecSamples } from './fixtures/codec-samples.mjs';
import { ensureArm64Guest } from './fixtures/arm64-guest.mjs';
import { ensureArm64Kernel } from './fixtures/arm64-kernel.mjs';
import { ensureRiscv64Guest } from './fixtures/riscv64-guest.mjs';
import { ensureBootcfgFixtures } from './fixtures/bootcfg.mjs';
import { ensureVmcore } from './fixtures/vmcore.mjs';
import { ensureIsoFixtures } from './fixtures/iso.mjs';
import { ensureSuiteCloudKernel } from './fixtures/debian-suites.mjs';
import { ensureCloudKernelModules } from './fixtures/cloud-kernel-modules.mjs';
import { ensureSystemdRoots } from './fixtures/systemd-root.mjs';

/** Debian packages the VM tests use, with the reason each one is needed. */
export const REQUIRED_DEBIAN_PACKAGES = [
  { name: 'qemu-system-x86', why: 'boots the test guest (qemu-system-x86_64 -accel tcg)' },
  { name: 'busybox-static', why: "the guest's userland (/bin/busybox)" },
  // The guest initramfs is written by the harness itself (src/binary/newc-writer.ts); cpio is kept
  // for inspecting archives by hand (`cpio -itv < file`) when a boot goes wrong.
  { name: 'cpio', why: "inspecting the generated initramfs archives; building the UKI fixture's initrd" },
  { name: 'kexec-tools', why: 'the `kexec -s -l` baseline the benchmarks compare against' },
  { name: 'linux-libc-dev', why: "the kernel's own syscall and errno headers, a second source for our tables" },
  { name: 'binutils', why: 'objcopy assembles the UKI and PE addon fixtures from Debian\'s systemd-stub' },
  { name: 'qemu-system-arm', why: 'boots the arm64 test guest (qemu-system-aarch64 -M virt -accel tcg)' },
  // Debian's arm64 kernels lack CONFIG_KEXEC_FILE, so the arm64 tests build one (fixtures/arm64-kernel.mjs).
  { name: 'linux-source-6.1', why: 'the source of the arm64 test kernel built with KEXEC_FILE=y' },
  { name: 'gcc-aarch64-linux-gnu', why: 'cross-compiles the arm64 test kernel' },
  { name: 'bison', why: "the kernel build's Kconfig parser" },
  { name: 'flex', why: "the kernel build's Kconfig lexer" },
  { name: 'bc', why: 'the kernel build computes constants with it' },
  { name: 'libssl-dev', why: "the kernel build's host tools (certificate and signing helpers)" },
  { name: 'libelf-dev', why: "the kernel build's host tools (ELF handling)" },
  { name: 'gzip', why: 'gzip -9: the gzip codec sample (test/image/codecs.test.ts)' },
  { name: 'bzip2', why: 'bzip2 -9: the bzip2 codec sample' },
  { name: 'xz-utils', why: 'lzma -9 and xz --x86 (as scripts/xz_wrap.sh): the lzma and xz codec samples' },
  { name: 'lzop', why: 'lzop -9: the lzo codec sample' },
  { name: 'lz4', why: "lz4 -dc decompresses Debian's bzImage payload; lz4 -l -9 makes the lz4 sample" },
  { name: 'zstd', why: 'zstd -22 --ultra: the zstd codec sample' },
  { name: 'grub-common', why: "grub-mkconfig's /etc/grub.d scripts, grub-editenv and grub-script-check, run over a scratch /boot for the bootcfg fixtures" },
  { name: 'grub2-common', why: 'grub-mkconfig itself, for the bootcfg fixtures' },
  { name: 'systemd', why: "kernel-install and its 90-loaderentry plugin write the bootcfg fixtures' BLS entries" },
  { name: 'makedumpfile', why: 'a judge of our crash dumps (--dump-dmesg) and the baseline of the dump-level bitmaps and the save benchmark' },
  { name: 'crash', why: 'a judge of our crash dumps: crash --osrelease reads every format we write' },
  { name: 'python3-snappy', why: "Google's libsnappy decodes the snappy pages of our kdump-compressed dumps (a second opinion beside our reader)" },
  { name: 'xorriso', why: 'xorriso -as mkisofs writes the isolinux ISO fixture (Rock Ridge, Joliet, El Torito); grub-mkrescue runs it too' },
  { name: 'isolinux', why: 'isolinux.bin, the El Torito boot image of the isolinux ISO fixture' },
  { name: 'syslinux-common', why: 'ldlinux.c32, which isolinux.bin loads, for the isolinux ISO fixture' },
  { name: 'grub-pc-bin', why: "grub-mkrescue's BIOS boot image (i386-pc) for the GRUB ISO fixture" },
  { name: 'grub-efi-amd64-bin', why: "grub-mkrescue's UEFI boot image (x86_64-efi) for the GRUB ISO fixture" },
  { name: 'mtools', why: "grub-mkrescue formats the GRUB ISO fixture's EFI system image with mformat" },
  { name: 'dosfstools', why: 'mkfs.vfat makes the ESP of the all-disks tests (root and VM)' },
  { name: 'g++-riscv64-linux-gnu', why: "builds koffi.node for rv64gc for the riscv64 guest (the published binary uses vector and Zcb instructions qemu 7.2 lacks)" },
  { name: 'qemu-system-misc', why: 'qemu-system-riscv64 boots the riscv64 guest and dumps its device tree' },
  { name: 'device-tree-compiler', why: 'dtc decompiles device trees, the oracle of the devicetree tests' },
  { name: 'debootstrap', why: 'builds the Debian 13 and sid systemd root images the test/vm-systemd guests boot' },
  { name: 'e2fsprogs', why: 'mkfs.ext4 -d writes those roots (and the disk carrying kexec-ts) into ext4 images without loop mounts' },
];

const CLOUD_KERNEL_METAPACKAGE = 'linux-image-cloud-amd64';
const KERNEL_FIXTURE_DIR_NAME = 'debian-cloud-amd64';
const APT_LISTS_DIR = '/var/lib/apt/lists';

const SECOND = 1000;
const APT_UPDATE_TIMEOUT_MS = 300 * SECOND;
const APT_INSTALL_TIMEOUT_MS = 900 * SECOND;
const APT_DOWNLOAD_TIMEOUT_MS = 600 * SECOND;
const APT_QUERY_TIMEOUT_MS = 60 * SECOND;
const EXTRACT_TIMEOUT_MS = 120 * SECOND;

/**
 * Where fetched test artefacts live. test/vm/fixtures.ts implements the same rule for the
 * TypeScript side; change both together.
 */
export function kexecTsCacheDir(env = process.env) {
  if (env.KEXEC_TS_CACHE) return env.KEXEC_TS_CACHE;
  return path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'kexec-ts');
}

export function cloudKernelFixturePaths(cacheDir = kexecTsCacheDir()) {
  const dir = path.join(cacheDir, KERNEL_FIXTURE_DIR_NAME);
  return {
    dir,
    vmlinuzPath: path.join(dir, 'vmlinuz'),
    configPath: path.join(dir, 'config'),
    manifestPath: path.join(dir, 'manifest.json'),
    // Not part of the manifest: it only records which apt lists the resolution was made
    // against, so that a run with unchanged lists can skip `apt-cache` (about 0.7 s a call).
    aptListsFingerprintPath: path.join(dir, 'apt-lists-fingerprint'),
  };
}

function log(message) {
  console.log(`prepare-tests: ${message}`);
}

function isRoot() {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function run(command, args, { timeoutMs, cwd, env } = {}) {
  const result = spawnSync(command, args, {
    cwd,
    env: env ? { ...process.env, ...env } : process.env,
    encoding: 'utf8',
    timeout: timeoutMs ?? APT_QUERY_TIMEOUT_MS,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * 1024 * 1024,
  });
  const ok = result.status === 0 && !result.error;
  const why = result.error
    ? result.error.message
    : result.signal
      ? `killed by ${result.signal} (timeout ${timeoutMs} ms?)`
      : `exit status ${result.status}`;
  return { ok, stdout: result.stdout ?? '', stderr: result.stderr ?? '', why };
}

function describeFailure(command, result) {
  const detail = (result.stderr || result.stdout).trim().split('\n').slice(-5).join('\n  ');
  return `${command} failed (${result.why})${detail ? `:\n  ${detail}` : ''}`;
}

// `apt-get update` at most once per run, and only when something needs it.
let aptListsRefreshed = false;
function refreshAptListsOnce() {
  if (aptListsRefreshed) return true;
  aptListsRefreshed = true;
  log('running apt-get update');
  const result = run('apt-get', ['update'], { timeoutMs: APT_UPDATE_TIMEOUT_MS });
  if (!result.ok) log(describeFailure('apt-get update', result));
  return result.ok;
}

function isPackageInstalled(name) {
  const result = run('dpkg-query', ['-W', '-f=${Status}', name]);
  return result.ok && result.stdout.trim() === 'install ok installed';
}

function ensureDebianPackages() {
  if (!run('dpkg-query', ['--version']).ok) {
    log('dpkg-query not found: not a Debian-like system; VM tests need ' +
      REQUIRED_DEBIAN_PACKAGES.map((pkg) => pkg.name).join(', ') + ' (or equivalents)');
    return;
  }
  const missing = REQUIRED_DEBIAN_PACKAGES.filter((pkg) => !isPackageInstalled(pkg.name));
  if (missing.length === 0) return;
  const names = missing.map((pkg) => pkg.name);
  for (const pkg of missing) log(`missing Debian package ${pkg.name}: ${pkg.why}`);
  if (!isRoot()) {
    log(`not root, so not installing; run: sudo apt-get install -y ${names.join(' ')}` +
      ' (until then the VM tests skip, or fail under CI=true)');
    return;
  }
  refreshAptListsOnce();
  log(`installing ${names.join(' ')}`);
  const result = run('apt-get', ['install', '-y', '--no-install-recommends', ...names], {
    timeoutMs: APT_INSTALL_TIMEOUT_MS,
    env: { DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (!result.ok) log(describeFailure('apt-get install', result));
}

/** Names and mtimes of the apt lists: changes whenever `apt-get update` brings new ones. */
function aptListsFingerprint() {
  let names;
  try {
    names = fs.readdirSync(APT_LISTS_DIR).sort();
  } catch {
    return undefined;
  }
  const hash = createHash('sha256');
  for (const name of names) {
    const stat = fs.statSync(path.join(APT_LISTS_DIR, name), { throwIfNoEntry: false });
    if (stat?.isFile()) hash.update(`${name}\0${stat.size}\0${stat.mtimeMs}\n`);
  }
  return hash.digest('hex');
}

function readJsonIfPresent(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function readTextIfPresent(file) {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function cachedKernelIsComplete(paths) {
  const manifest = readJsonIfPresent(paths.manifestPath);
  if (!manifest?.package || !fs.existsSync(paths.vmlinuzPath) || !fs.existsSync(paths.configPath)) {
    return undefined;
  }
  return manifest;
}

/** The versioned image package the metapackage currently points at, e.g. linux-image-6.1.0-56-cloud-amd64. */
function resolveCloudKernelPackage() {
  const query = () => {
    const result = run('apt-cache', ['depends', CLOUD_KERNEL_METAPACKAGE]);
    const match = /^\s*\|?Depends:\s*(linux-image-[^\s<>]+-cloud-amd64)\s*$/m.exec(result.stdout);
    return match?.[1];
  };
  let name = query();
  if (!name && isRoot() && refreshAptListsOnce()) name = query();
  if (!name) return undefined;
  const show = run('apt-cache', ['show', '--no-all-versions', name]);
  const version = /^Version:\s*(\S+)\s*$/m.exec(show.stdout)?.[1];
  return { name, version };
}

function writeFileAtomically(file, data) {
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, data);
  fs.renameSync(temporary, file);
}

function sha256OfFile(file) {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function downloadCloudKernel(paths, packageName) {
  fs.mkdirSync(paths.dir, { recursive: true });
  const workDir = fs.mkdtempSync(path.join(path.dirname(paths.dir), '.download-'));
  try {
    log(`downloading ${packageName} with apt-get download`);
    const download = run('apt-get', ['download', packageName], {
      cwd: workDir,
      timeoutMs: APT_DOWNLOAD_TIMEOUT_MS,
    });
    if (!download.ok) throw new Error(describeFailure(`apt-get download ${packageName}`, download));
    const debName = fs.readdirSync(workDir).find((name) => name.endsWith('.deb'));
    if (!debName) throw new Error(`apt-get download ${packageName} produced no .deb`);
    const debPath = path.join(workDir, debName);
    const version = run('dpkg-deb', ['-f', debPath, 'Version']).stdout.trim();

    const extractDir = path.join(workDir, 'root');
    const extract = run('dpkg-deb', ['-x', debPath, extractDir], { timeoutMs: EXTRACT_TIMEOUT_MS });
    if (!extract.ok) throw new Error(describeFailure(`dpkg-deb -x ${debName}`, extract));
    const bootDir = path.join(extractDir, 'boot');
    const bootFiles = fs.existsSync(bootDir) ? fs.readdirSync(bootDir) : [];
    const vmlinuz = bootFiles.find((name) => name.startsWith('vmlinuz-'));
    const config = bootFiles.find((name) => name.startsWith('config-'));
    if (!vmlinuz || !config) {
      throw new Error(`${debName} has no boot/vmlinuz-* and boot/config-* (found: ${bootFiles.join(', ')})`);
    }

    // Files first, manifest last: a manifest on disk means the files beside it are complete.
    fs.rmSync(paths.manifestPath, { force: true });
    fs.copyFileSync(path.join(bootDir, vmlinuz), `${paths.vmlinuzPath}.tmp`);
    fs.renameSync(`${paths.vmlinuzPath}.tmp`, paths.vmlinuzPath);
    fs.copyFileSync(path.join(bootDir, config), `${paths.configPath}.tmp`);
    fs.renameSync(`${paths.configPath}.tmp`, paths.configPath);
    const manifest = {
      package: packageName,
      version,
      vmlinuzSha256: sha256OfFile(paths.vmlinuzPath),
      fetchedAt: new Date().toISOString(),
    };
    writeFileAtomically(paths.manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    return manifest;
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

function ensureCloudKernel() {
  const paths = cloudKernelFixturePaths();
  const cached = cachedKernelIsComplete(paths);
  const fingerprint = aptListsFingerprint();

  if (cached && fingerprint && readTextIfPresent(paths.aptListsFingerprintPath) === fingerprint) {
    return; // Same apt lists as when this kernel was resolved: nothing can have changed.
  }

  const resolved = resolveCloudKernelPackage();
  if (!resolved) {
    if (cached) {
      log(`could not resolve ${CLOUD_KERNEL_METAPACKAGE} with apt-cache; using the cached ` +
        `${cached.package} ${cached.version} from ${paths.dir}`);
    } else {
      log(`could not resolve ${CLOUD_KERNEL_METAPACKAGE} with apt-cache and nothing is cached ` +
        `in ${paths.dir}: VM tests will skip (fail under CI=true). ` +
        (isRoot() ? 'Check the apt sources.' : 'Run `sudo apt-get update` and retry.'));
    }
    return;
  }

  const upToDate = cached && cached.package === resolved.name &&
    (!resolved.version || cached.version === resolved.version);
  if (!upToDate) {
    try {
      const manifest = downloadCloudKernel(paths, resolved.name);
      log(`cached ${manifest.package} ${manifest.version} in ${paths.dir}`);
    } catch (error) {
      log(error.message);
      if (cached) log(`using the previously cached ${cached.package} ${cached.version}`);
      return;
    }
  }
  if (fingerprint) writeFileAtomically(paths.aptListsFingerprintPath, `${fingerprint}\n`);
}

/** `npm test` on a fresh clone: the build needs the dev dependencies, so install them first. */
function ensureNodeModules() {
  const repoRoot = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  if (fs.existsSync(path.join(repoRoot, 'node_modules', 'typescript', 'package.json'))) return;
  log('node_modules is missing: running npm ci');
  const result = spawnSync('npm', ['ci'], { cwd: repoRoot, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`npm ci failed (exit ${result.status})`);
}

function main() {
  ensureNodeModules();
  ensureDebianPackages();
  ensureCloudKernel();
  // Other Debian releases' cloud kernels, through the project's own apt lists (debian-suites.mjs);
  // before the vmcores, which crash them too.
  for (const suite of ['trixie', 'sid']) ensureSuiteCloudKernel(kexecTsCacheDir(), suite);
  // Their arm64 kernels too: built without kexec_file_load, booted through kexec_load in test/vm-arm64.
  for (const suite of ['trixie', 'sid']) ensureSuiteCloudKernel(kexecTsCacheDir(), suite, { arch: 'arm64' });
  // The FAT modules of each cached amd64 cloud kernel, from that kernel's own package (the ESP in test/vm).
  ensureCloudKernelModules(kexecTsCacheDir());
  ensureDebianBinaryFixtures(kexecTsCacheDir());
  ensureUkiFixtures(kexecTsCacheDir());
  ensureCodecSamples(kexecTsCacheDir());
  ensureArm64Guest(kexecTsCacheDir());
  ensureArm64Kernel(kexecTsCacheDir());
  // Debian 13's riscv64 kernel (no kexec_file_load) and a riscv64 userland: test/vm-riscv64, test/handoff.
  ensureRiscv64Guest(kexecTsCacheDir());
  ensureBootcfgFixtures(kexecTsCacheDir());
  ensureVmcore(kexecTsCacheDir());
  ensureIsoFixtures(kexecTsCacheDir());
  // Debian 13 and sid systemd roots for test/vm-systemd: minutes when cold (both are built at
  // once), a manifest read when current.
  ensureSystemdRoots(kexecTsCacheDir()).catch((error) => log(`systemd roots: ${error.message}`));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main();
}
