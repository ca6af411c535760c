/**
 * The I/O half of `list --all-disks`, run inside the reading process (child.ts): find the block
 * devices, probe them, enter a private mount namespace, mount each file system read-only there,
 * read it with readBootList and unmount it. The decisions are the pure modules' (sysfs, blkid,
 * classify, report).
 *
 * Every path lookup here is synchronous on purpose: unshare(CLONE_NEWNS) moves only the calling
 * thread into the new namespace (src/syscall/linux.ts), and Node's synchronous fs calls run on
 * that thread while its asynchronous ones run on libuv's pool, which stays outside.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SyscallError } from '../../errors.js';
import { CLONE_NEWNS, MNT_DETACH, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_REMOUNT } from '../../syscall/numbers.js';
import type { MountSyscalls } from '../../syscall/types.js';
import { BOOTCFG_LIMITS } from '../../limits.js';
import { bootList, formatBootConfigWarning, readIsoFileEntries, readMachineBootEntries, type BootList } from '../machine.js';
import { createRootedReader } from '../resolve.js';
import { joinPath, normalizePath } from '../text.js';
import { BootConfigWarningCode, type BootConfigWarning } from '../types.js';
import type { IsoBootEntry } from '../iso9660/boot-entries.js';
import { parseBlkidUdev } from './blkid.js';
import { classifyDevice, diskDevice, explainMountError, type DeviceDecision, type ProbeOutcome } from './classify.js';
import { diskEntries, isIsoFileName, mergeIsoLists, volumeRelative } from './report.js';
import { readSysfsBlockDevices, type SysfsBlockDevice, type SysfsProbe } from './sysfs.js';
import { DiskSkipCode, type AllDisksReport, type DiskDevice, type DiskVolume, type SkippedDevice } from './types.js';

const BLKID_CANDIDATES = ['/usr/sbin/blkid', '/sbin/blkid', '/usr/bin/blkid', '/bin/blkid'];
/** A probe reads a few sectors; a device that takes longer is stuck (a dying disk). */
const BLKID_TIMEOUT_MS = 20_000;
/**
 * Where the private tmpfs holding the mount points goes: the first that exists and holds
 * nothing this process still reads (it hides what is below it, in the namespace only): not
 * kexec-ts itself, whose modules a load imports later (a checkout under /tmp), nor node.
 */
const MOUNT_BASE_CANDIDATES = ['/tmp', '/mnt', '/run'];
const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

const isWithin = (inner: string, outer: string): boolean => inner === outer || inner.startsWith(`${outer}/`);

/** The mount base for a process whose code lives in `neededPaths`. */
export function mountBaseFor(neededPaths: readonly string[], exists: (path: string) => boolean = fs.existsSync): string | undefined {
  return MOUNT_BASE_CANDIDATES.find((candidate) => exists(candidate) && !neededPaths.some((needed) => isWithin(needed, candidate)));
}

export interface ProbedDevice {
  readonly sysfs: SysfsBlockDevice;
  readonly device: DiskDevice;
  readonly decision: DeviceDecision;
}

const hostSysfs: SysfsProbe = {
  list(dir) {
    try {
      return fs.readdirSync(dir).sort();
    } catch {
      return [];
    }
  },
  readText(file) {
    try {
      return fs.readFileSync(file, 'utf8').slice(0, 4096);
    } catch {
      return undefined;
    }
  },
  realPath(file) {
    try {
      return fs.realpathSync(file);
    } catch {
      return undefined;
    }
  },
};

/** util-linux's blkid: busybox's applet of the same name knows neither -p nor -o udev. */
function blkidBinary(): string | undefined {
  return BLKID_CANDIDATES.find((candidate) => {
    try {
      return path.basename(fs.realpathSync(candidate)) !== 'busybox';
    } catch {
      return false;
    }
  });
}

/** Opens the device first (an errno says more than blkid's exit code), then asks blkid. */
export function probeDevice(devPath: string, blkid = blkidBinary()): ProbeOutcome {
  try {
    fs.closeSync(fs.openSync(devPath, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
  } catch (error) {
    return { kind: 'unreadable', errno: (error as NodeJS.ErrnoException).code ?? 'EIO' };
  }
  if (blkid === undefined) return { kind: 'failed', message: "util-linux's blkid is not installed (busybox's cannot probe)" };
  // -p: probe the device itself, no cache read or written (/run/blkid/blkid.tab).
  const run = spawnSync(blkid, ['-p', '-o', 'udev', devPath], { encoding: 'utf8', timeout: BLKID_TIMEOUT_MS, maxBuffer: 1 << 20 });
  if (run.error !== undefined) return { kind: 'failed', message: `blkid did not run: ${run.error.message}` };
  // blkid(8): 0 found, 2 nothing found, 8 ambivalent low-level probing result.
  switch (run.status) {
    case 0:
      return { kind: 'found', probe: parseBlkidUdev(run.stdout) };
    case 2:
      return { kind: 'nothing' };
    case 8:
      return { kind: 'ambivalent' };
    default:
      return { kind: 'failed', message: `blkid exited with ${run.status ?? run.signal}: ${run.stderr.trim()}` };
  }
}

export function probeAllDevices(sysfs: SysfsProbe = hostSysfs, probe: (devPath: string) => ProbeOutcome = probeDevice): ProbedDevice[] {
  return readSysfsBlockDevices(sysfs).map((device) => {
    const outcome = probe(device.devPath);
    return { sysfs: device, device: diskDevice(device, outcome), decision: classifyDevice(device, outcome) };
  });
}

/**
 * This process's private mount namespace: entered once, holding a tmpfs of mount points. It
 * and every mount in it end when the process does, whatever way it ends; unmount() is the
 * orderly way for each file system before that.
 */
export class DiskNamespace {
  private base: string | undefined;

  constructor(private readonly syscalls: MountSyscalls) {}

  enter(): void {
    if (this.base !== undefined) return;
    this.syscalls.unshare(CLONE_NEWNS);
    // Shared propagation (systemd makes / shared) would copy every mount below back to the
    // machine's namespace: private first, recursively, before anything is mounted.
    this.syscalls.mount(null, '/', null, MS_REC | MS_PRIVATE, null);
    const base = mountBaseFor([PROJECT_ROOT, fs.realpathSync(process.execPath)]);
    if (base === undefined) throw new Error(`no place for the mount points that hides nothing kexec-ts needs (tried ${MOUNT_BASE_CANDIDATES.join(', ')})`);
    this.syscalls.mount('kexec-ts-disks', base, 'tmpfs', MS_NOSUID | MS_NODEV | MS_NOEXEC, 'mode=0700,size=1m');
    this.base = base;
  }

  /** Mounts the device as its decision says; a refusal is a skipped device with the errno explained. */
  mount(probed: ProbedDevice): { mountDir: string } | SkippedDevice {
    const { decision, device } = probed;
    if (decision.action !== 'mount') throw new Error(`${device.path} is not to be mounted`);
    this.enter();
    const mountDir = path.join(this.base!, probed.sysfs.name);
    fs.mkdirSync(mountDir, { recursive: true });
    try {
      try {
        this.syscalls.mount(device.path, mountDir, decision.fstype, decision.flags, decision.data);
      } catch (error) {
        if (!(error instanceof SyscallError && error.errnoName === 'EBUSY')) throw error;
        this.mountLiveFileSystem(device.path, mountDir, decision.fstype, decision.flags);
      }
      return { mountDir };
    } catch (error) {
      if (!(error instanceof SyscallError)) throw error;
      return { device, code: DiskSkipCode.MOUNT_FAILED, reason: `mounting it read-only as ${decision.fstype} failed: ${explainMountError(error.errnoName, decision.fstype)}`, errno: error.errnoName };
    }
  }

  /**
   * EBUSY from a read-only mount of a block device is, first of all, the kernel's "Can't mount,
   * would change RO state" (get_tree_bdev in fs/super.c): the machine has the file system
   * mounted read-write (its own root, its ESP). A second mount of that same superblock, made
   * read-only per mount before anything is read (MS_REMOUNT|MS_BIND), reads the live file system
   * and writes nothing; its journal is the running system's, so no `noload`. Any other EBUSY
   * fails here too and is reported as it was.
   */
  private mountLiveFileSystem(devPath: string, mountDir: string, fstype: string, flags: number): void {
    this.syscalls.mount(devPath, mountDir, fstype, flags & ~MS_RDONLY, null);
    try {
      this.syscalls.mount(null, mountDir, null, MS_REMOUNT | MS_BIND | flags, null);
    } catch (error) {
      this.syscalls.umount2(mountDir, MNT_DETACH);
      throw error;
    }
  }

  unmount(mountDir: string): void {
    try {
      this.syscalls.umount2(mountDir, 0);
    } catch (error) {
      // Something still holds it (a descriptor not yet closed): detach now, freed when let go.
      if (!(error instanceof SyscallError)) throw error;
      this.syscalls.umount2(mountDir, MNT_DETACH);
    }
  }
}

/** The ISO files directly in each --iso-dir (paths of the file system, resolved inside it). */
function isoFilesIn(mountDir: string, isoDirs: readonly string[]): string[] {
  const reader = createRootedReader(mountDir);
  const files: string[] = [];
  for (const dir of isoDirs) {
    const normal = normalizePath(dir.startsWith('/') ? dir : `/${dir}`);
    for (const name of reader.list(normal).filter(isIsoFileName)) {
      const file = joinPath(normal, name);
      const host = reader.hostPath(file);
      if (host !== undefined && reader.kind(file) === 'file' && !files.includes(host)) files.push(host);
    }
  }
  return files.slice(0, BOOTCFG_LIMITS.directoryEntries);
}

/** One mounted file system's list (host paths inside this process) and its volume record. */
export function readVolume(mountDir: string, device: DiskDevice, isoDirs: readonly string[]): { list: BootList; volume: DiskVolume } {
  const machine = readMachineBootEntries(mountDir);
  const isoFiles = isoFilesIn(mountDir, isoDirs);
  const isoLists = isoFiles.map((file): { entries: IsoBootEntry[]; warnings: BootConfigWarning[] } => {
    try {
      return readIsoFileEntries(file);
    } catch (error) {
      // A damaged image is one warning of this volume, not the end of the scan.
      return { entries: [], warnings: [{ code: BootConfigWarningCode.INVALID_VALUE, file, message: `not read as an ISO image: ${(error as Error).message}` }] };
    }
  });
  const list = bootList(machine, isoLists.length === 0 ? undefined : mergeIsoLists(isoLists));
  const volume: DiskVolume = volumeRelative({
    device,
    shape: list.shape.shape,
    shapeEvidence: list.shape.evidence,
    loader: list.loader,
    configFile: list.configFile ?? null,
    isoFiles,
    entryCount: list.entries.length,
    warnings: list.warnings.map(formatBootConfigWarning),
  }, mountDir, device);
  return { list, volume };
}

export interface ScanOptions {
  /** Folders, relative to each file system's root, whose *.iso files are read too. */
  readonly isoDirs?: readonly string[];
}

/** Every device: mounted, read and unmounted one at a time, or skipped with the reason. */
export function scanAllDisks(options: ScanOptions, syscalls: MountSyscalls, probed: readonly ProbedDevice[] = probeAllDevices()): AllDisksReport {
  const namespace = new DiskNamespace(syscalls);
  const report: AllDisksReport = { volumes: [], entries: [], skipped: [] };
  for (const candidate of probed) {
    const { decision, device } = candidate;
    if (decision.action === 'omit') continue;
    if (decision.action === 'skip') {
      report.skipped.push({ device, code: decision.code, reason: decision.reason, ...(decision.errno !== undefined ? { errno: decision.errno } : {}) });
      continue;
    }
    const mounted = namespace.mount(candidate);
    if (!('mountDir' in mounted)) {
      report.skipped.push(mounted);
      continue;
    }
    try {
      const { list, volume } = readVolume(mounted.mountDir, device, options.isoDirs ?? []);
      report.volumes.push(volume);
      report.entries.push(...volumeRelative(diskEntries(list, device), mounted.mountDir, device));
    } catch (error) {
      report.skipped.push({ device, code: DiskSkipCode.READ_FAILED, reason: `mounted, but its boot configuration could not be read: ${(error as Error).message}` });
    } finally {
      namespace.unmount(mounted.mountDir);
    }
  }
  return report;
}
