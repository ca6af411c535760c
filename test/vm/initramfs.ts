// Builds the test guest's initramfs as concatenated newc archives, which the kernel unpacks in
// order (later entries overwrite earlier ones):
//   1. base (cached): busybox, node and its libraries, kexec-tools, the project's runtime
//      node_modules, the fixture kernel, a second-stage initrd, /etc, /dev/console;
//   2. project (every boot): the built dist/src and package.json. tsc rewrites every output on
//      each build, so keying the ~120 MB base on them would rebuild it on every test run;
//   3. scenario (every boot): /init and the scenario's own files.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cloudKernelFixture, kexecTsCacheDir } from './fixtures.js';
import { NewcWriter } from '../../src/binary/newc-writer.js';

export const GUEST_PROJECT_DIR = '/opt/kexec-ts';
export const GUEST_VMLINUZ_PATH = '/fixtures/vmlinuz';
export const GUEST_SECOND_INITRD_PATH = '/fixtures/second-initrd.cpio';
/** Where the scenario body is stored; /init runs it with sh so an `exit` in it still ends cleanly. */
const GUEST_SCENARIO_PATH = '/scenario.sh';

/**
 * Command prefix that runs the rest of the line as uid/gid 65534 with no capabilities, e.g.
 * `${RUN_AS_NOBODY} cat /proc/self/status`. Debian's busybox-static has neither chpst nor a
 * setpriv that changes ids, so this is busybox `su`: its `-c` script execs its own arguments,
 * and `--` stops su from reading the command's options as its own (it permutes arguments).
 */
export const RUN_AS_NOBODY = `su -s /bin/sh -c 'exec "$0" "$@"' -- nobody`;

/** Printed by the second-stage initrd's /init (see `secondStageInitScript`). */
export const SECOND_KERNEL_UP_MARKER = 'SECOND-KERNEL-UP';
export const SECOND_KERNEL_CMDLINE_MARKER = 'SECOND-CMDLINE';

/** Bump when the base layout changes in a way its inputs' metadata would not reveal. */
const BASE_LAYOUT_VERSION = 1;
const HOST_BUSYBOX_PATH = '/bin/busybox';
const HOST_KEXEC_CANDIDATES = ['/usr/sbin/kexec', '/sbin/kexec'];
/** koffi's musl build: the guest runs the host's glibc node, so only linux_x64 is loaded. */
const NODE_MODULES_LEFT_OUT = new Set(['node_modules/@koromix/koffi-linux-x64/musl_x64']);
const LDD_TIMEOUT_MS = 10_000;

export type GuestFile = { guestPath: string; mode?: number } & (
  | { content: string | Uint8Array }
  | { hostPath: string }
);

export interface ScenarioInitramfs {
  /** Shell text run by /init between KTS-GUEST-READY and KTS-GUEST-DONE. */
  body: string;
  extraFiles?: GuestFile[];
}

/** The repository this file was built from: dist/test/vm/ (or test/vm/) under it. */
export function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let level = 0; level < 4; level++) {
    dir = path.dirname(dir);
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'kexec-ts') return dir;
  }
  throw new Error(`no kexec-ts package.json above ${fileURLToPath(import.meta.url)}`);
}

export function findHostKexec(): string | undefined {
  return HOST_KEXEC_CANDIDATES.find((candidate) => fs.existsSync(candidate));
}

/** Absolute paths of the shared libraries (and ELF interpreter) `ldd` lists for a binary. */
export function sharedLibrariesOf(binary: string): string[] {
  let output: string;
  try {
    output = execFileSync('ldd', [binary], { encoding: 'utf8', timeout: LDD_TIMEOUT_MS, stdio: 'pipe' });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: unknown; stderr?: unknown };
    if (/not a dynamic executable|statically linked/.test(`${stdout}${stderr}`)) return [];
    throw new Error(`ldd ${binary} failed`, { cause: error });
  }
  const missing = output.split('\n').filter((line) => line.includes('=> not found'));
  if (missing.length > 0) throw new Error(`ldd ${binary}: ${missing.join('; ').trim()}`);
  return [...output.matchAll(/(\/\S+)\s+\(0x[0-9a-f]+\)/g)].map((match) => match[1]!);
}

/** True when busybox exists and needs no libraries (the second-stage initrd has nothing else). */
export function hostBusyboxIsStatic(): boolean {
  if (!fs.existsSync(HOST_BUSYBOX_PATH)) return false;
  try {
    return sharedLibrariesOf(HOST_BUSYBOX_PATH).length === 0;
  } catch {
    return false;
  }
}

export function guestInitScript(): string {
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t securityfs securityfs /sys/kernel/security
mount -t tmpfs -o mode=1777 tmpfs /tmp
exec </dev/console >/dev/console 2>&1
echo KTS-GUEST-READY
sh ${GUEST_SCENARIO_PATH}
echo "KTS-SCENARIO-EXIT:$?"
echo KTS-GUEST-DONE
# What userspace wrote to the console may still sit in the UART's buffer; poweroff -f would
# drop it. A second lets it drain (seen: the last JSON line lost on a loaded machine).
sleep 1
poweroff -f
`;
}

export function secondStageInitScript(): string {
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
echo KTS-${SECOND_KERNEL_UP_MARKER}
echo "KTS-${SECOND_KERNEL_CMDLINE_MARKER}:$(cat /proc/cmdline)"
sleep 1
poweroff -f
`;
}

/**
 * Writes `outputPath` as base + project + scenario archives: the single -initrd file QEMU needs.
 * Every archive is padded to 512 bytes, so each one after the first starts 4-byte aligned.
 * `basePath` replaces this guest's base archive (test/vm-arm64 brings an arm64 userland).
 */
export function writeScenarioInitramfs(outputPath: string, scenario: ScenarioInitramfs, basePath?: string): void {
  const repoRoot = findRepoRoot();
  fs.copyFileSync(basePath ?? ensureBaseInitramfs(repoRoot), outputPath);
  if (fs.statSync(outputPath).size % 4 !== 0) throw new Error(`${outputPath}: base archive is not 4-byte aligned`);
  const fd = fs.openSync(outputPath, 'a');
  try {
    writeProjectLayer(new NewcWriter(fd), repoRoot);
    const scenarioLayer = new NewcWriter(fd);
    scenarioLayer.file('/init', guestInitScript(), 0o755);
    scenarioLayer.file(GUEST_SCENARIO_PATH, `${scenario.body}\n`, 0o755);
    for (const extra of scenario.extraFiles ?? []) addGuestFile(scenarioLayer, extra);
    scenarioLayer.finish();
  } finally {
    fs.closeSync(fd);
  }
}

export function addGuestFile(writer: NewcWriter, file: GuestFile): void {
  if ('hostPath' in file) writer.hostFile(file.guestPath, file.hostPath, file.mode);
  else writer.file(file.guestPath, file.content, file.mode ?? 0o644);
}

function writeProjectLayer(writer: NewcWriter, repoRoot: string): void {
  writer.hostFile(`${GUEST_PROJECT_DIR}/package.json`, path.join(repoRoot, 'package.json'));
  for (const relative of filesUnder(repoRoot, 'dist/src')) {
    writer.hostFile(`${GUEST_PROJECT_DIR}/${relative}`, path.join(repoRoot, relative));
  }
  writer.finish();
}

/** The cached base archive for the current inputs, built first if they changed. */
export function ensureBaseInitramfs(repoRoot: string = findRepoRoot()): string {
  const files = baseInitramfsFiles(repoRoot);
  const outputDir = path.join(kexecTsCacheDir(), 'initramfs');
  const outputPath = path.join(outputDir, `base-${baseInputsKey(files)}.cpio`);
  if (fs.existsSync(outputPath)) return outputPath;

  writeBaseArchive(outputPath, files);
  removeOtherBaseArchives(outputDir, path.basename(outputPath));
  return outputPath;
}

/**
 * Writes a guest's base archive (the directories every guest has, /dev/console, then `files`)
 * to `outputPath` through a temporary name, so a half-written archive is never taken as cached.
 */
export function writeBaseArchive(outputPath: string, files: readonly GuestFile[]): void {
  fs.mkdirSync(path.dirname(outputPath), { recursive: true });
  const temporary = `${outputPath}.${process.pid}.tmp`;
  const fd = fs.openSync(temporary, 'w');
  try {
    const writer = new NewcWriter(fd);
    for (const [directory, mode] of BASE_DIRECTORIES) writer.directory(directory, mode);
    // The kernel opens /dev/console for /init's stdio before anything can mount devtmpfs.
    writer.characterDevice('/dev/console', 0o600, 5, 1);
    for (const file of files) addGuestFile(writer, file);
    writer.finish();
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(temporary, outputPath);
}

export const BASE_DIRECTORIES: ReadonlyArray<readonly [string, number]> = [
  ['/bin', 0o755], ['/sbin', 0o755], ['/usr/bin', 0o755], ['/usr/sbin', 0o755], ['/etc', 0o755],
  ['/dev', 0o755], ['/proc', 0o555], ['/sys', 0o555], ['/tmp', 0o1777], ['/root', 0o700],
  ['/run', 0o755], ['/mnt', 0o755], ['/fixtures', 0o755], [GUEST_PROJECT_DIR, 0o755],
];

function baseInitramfsFiles(repoRoot: string): GuestFile[] {
  const kernel = cloudKernelFixture();
  if (!fs.existsSync(kernel.vmlinuzPath)) {
    throw new Error(`${kernel.vmlinuzPath} is missing: run node scripts/prepare-tests.mjs`);
  }
  const files: GuestFile[] = [
    { guestPath: '/bin/busybox', hostPath: HOST_BUSYBOX_PATH, mode: 0o755 },
    { guestPath: '/etc/passwd', content: 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n' },
    { guestPath: '/etc/group', content: 'root:x:0:\nnogroup:x:65534:\n' },
    { guestPath: '/usr/bin/kexec-ts', content: `#!/bin/sh\nexec node ${GUEST_PROJECT_DIR}/dist/src/cli/main.js "$@"\n`, mode: 0o755 },
    { guestPath: GUEST_VMLINUZ_PATH, hostPath: kernel.vmlinuzPath, mode: 0o644 },
    { guestPath: GUEST_SECOND_INITRD_PATH, content: secondStageInitrd(), mode: 0o644 },
    { guestPath: '/usr/bin/node', hostPath: process.execPath, mode: 0o755 },
  ];
  const binaries = [process.execPath];
  const kexec = findHostKexec();
  if (kexec) {
    files.push({ guestPath: kexec, hostPath: kexec, mode: 0o755 });
    binaries.push(kexec);
  }
  // Each library at the path ldd names: that is where the dynamic linker will look for it.
  const libraries = new Set(binaries.flatMap(sharedLibrariesOf));
  for (const library of [...libraries].sort()) files.push({ guestPath: library, hostPath: library, mode: 0o755 });
  for (const relative of runtimeNodeModules(repoRoot)) {
    files.push({ guestPath: `${GUEST_PROJECT_DIR}/${relative}`, hostPath: path.join(repoRoot, relative) });
  }
  return files;
}

/**
 * A newc archive with busybox and an /init that reports the second kernel's command line.
 * `busyboxPath`: a static busybox for the second kernel's arch (the host's by default).
 */
export function secondStageInitrd(busyboxPath: string = HOST_BUSYBOX_PATH): Buffer {
  const temporary = fs.mkdtempSync(path.join(os.tmpdir(), 'kexec-ts-second-initrd-'));
  const archivePath = path.join(temporary, 'second-initrd.cpio');
  const fd = fs.openSync(archivePath, 'w');
  try {
    const writer = new NewcWriter(fd);
    for (const directory of ['/bin', '/proc', '/dev']) writer.directory(directory);
    writer.characterDevice('/dev/console', 0o600, 5, 1);
    writer.hostFile('/bin/busybox', busyboxPath, 0o755);
    writer.file('/init', secondStageInitScript(), 0o755);
    writer.finish();
    return fs.readFileSync(archivePath);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(temporary, { recursive: true, force: true });
  }
}

/** Files (relative to the repo) of the packages in dependencies/optionalDependencies, recursively. */
export function runtimeNodeModules(repoRoot: string): string[] {
  const seen = new Set<string>();
  const pending = [repoRoot];
  const files: string[] = [];
  while (pending.length > 0) {
    const manifest = JSON.parse(fs.readFileSync(path.join(pending.pop()!, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      const relative = `node_modules/${name}`;
      // Optional dependencies for other platforms are simply not installed.
      if (seen.has(relative) || !fs.existsSync(path.join(repoRoot, relative, 'package.json'))) continue;
      seen.add(relative);
      pending.push(path.join(repoRoot, relative));
      files.push(...filesUnder(repoRoot, relative));
    }
  }
  return files;
}

/** Regular files under `relativeDir`, relative to `root`, sorted; missing dir = none. */
function filesUnder(root: string, relativeDir: string): string[] {
  const result: string[] = [];
  const walk = (relative: string): void => {
    if (NODE_MODULES_LEFT_OUT.has(relative)) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(root, relative), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const child = `${relative}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) result.push(child);
    }
  };
  walk(relativeDir);
  return result;
}

/** Cheap: host files by path, size and mtime; generated files by content. */
export function baseInputsKey(files: GuestFile[]): string {
  const hash = createHash('sha256').update(`layout ${BASE_LAYOUT_VERSION}\n`);
  for (const file of files) {
    hash.update(`${file.guestPath}\0${file.mode ?? ''}\0`);
    if ('hostPath' in file) {
      const stat = fs.statSync(file.hostPath);
      hash.update(`${file.hostPath}\0${stat.size}\0${stat.mtimeMs}\n`);
    } else {
      hash.update(file.content).update('\n');
    }
  }
  return hash.digest('hex').slice(0, 16);
}

function removeOtherBaseArchives(dir: string, keep: string): void {
  for (const name of fs.readdirSync(dir)) {
    if (name !== keep && /^base-[0-9a-f]{16}\.cpio$/.test(name)) fs.rmSync(path.join(dir, name), { force: true });
  }
}
