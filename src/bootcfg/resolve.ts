/**
 * The one bootcfg file that touches the filesystem. It gives the pure parsers a reader rooted
 * at a directory (a mounted system, a scratch root, `/`), finds which boot loader's config a
 * root has, and resolves each entry's kernel, initrds and device tree to files under that root,
 * marking an entry unbootable with the reason when one is missing.
 *
 * Rooting: every path is resolved component by component under the root, the way a chroot
 * would: `..` at the top stays at the top, and a symbolic link's absolute target is taken from
 * the root again, so neither `../../etc/shadow` nor a link to `/etc` can leave it. Links are
 * followed at most BOOTCFG_LIMITS.symlinkHops times (a loop ends as "not found"). The final open
 * uses O_NOFOLLOW so a last component swapped for a link after the check is refused.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ErrorCode, ParseError } from '../errors.js';
import { BOOTCFG_LIMITS } from '../limits.js';
import { expandForGrubBlscfg } from './bls/grub-variables.js';
import { readBlsConfig } from './bls/read.js';
import { distroBootEntries, type BootDirectoryListing } from './distro/layout.js';
import { parseGrubConfig } from './grub/read.js';
import { parseSyslinuxConfig } from './syslinux/parse.js';
import { dirName, joinPath, normalizePath, underBase } from './text.js';
import { UnbootableCode, type BootConfig, type BootEntry, type BootFileReader } from './types.js';
import { readIsoBootMenus } from './iso9660/boot-entries.js';
import { detectVolumeShape, volumeShapePlaces, type VolumeShape, type VolumeShapeFinding } from './volume-shape.js';
import { readFully } from '../read-fully.js';

export interface RootedReader extends BootFileReader {
  readonly rootDir: string;
  /** The host path a reader path names after following links inside the root, or undefined. */
  hostPath(readerPath: string): string | undefined;
  /** What a reader path is once resolved. */
  kind(readerPath: string): 'file' | 'directory' | 'other' | undefined;
  /** readlink(2) of the path itself (not followed), or undefined when it is not a link. */
  readLink(readerPath: string): string | undefined;
  exists(readerPath: string): boolean;
}

function lstat(hostPath: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(hostPath);
  } catch {
    return undefined;
  }
}

/** Resolves `readerPath` under `rootDir` like a chroot would; undefined on a link loop. */
function resolveUnderRoot(rootDir: string, readerPath: string): string | undefined {
  let resolved: string[] = [];
  const pending = readerPath.split('/');
  let hops = 0;
  while (pending.length > 0) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = path.join(rootDir, ...resolved, part);
    const stats = lstat(candidate);
    if (stats?.isSymbolicLink()) {
      if (++hops > BOOTCFG_LIMITS.symlinkHops) return undefined;
      let target: string;
      try {
        target = fs.readlinkSync(candidate);
      } catch {
        return undefined;
      }
      if (target.startsWith('/')) resolved = [];
      pending.unshift(...target.split('/'));
      continue;
    }
    resolved.push(part);
    // A missing component: the rest cannot exist either, but keep building the path for messages.
  }
  return path.join(rootDir, ...resolved);
}

/**
 * The bytes of the regular file at `hostPath`, opened with O_NOFOLLOW (a last component swapped
 * for a link after the checks is refused); undefined when it cannot be opened or is not a
 * regular file. A file over `maxBytes` is what `tooLarge` says: undefined, or a throw.
 */
export function readRegularFileNoFollow(hostPath: string, maxBytes: number, tooLarge: (sizeBytes: number) => undefined): Uint8Array | undefined {
  let fd: number;
  try {
    fd = fs.openSync(hostPath, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) return undefined;
    if (stats.size > maxBytes) return tooLarge(stats.size);
    return readFully(fd, stats.size);
  } finally {
    fs.closeSync(fd);
  }
}

export function createRootedReader(rootDir: string): RootedReader {
  const root = path.resolve(rootDir);
  const hostPath = (readerPath: string): string | undefined => resolveUnderRoot(root, readerPath);
  const kind = (readerPath: string): 'file' | 'directory' | 'other' | undefined => {
    const host = hostPath(readerPath);
    const stats = host === undefined ? undefined : lstat(host);
    if (!stats) return undefined;
    return stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : 'other';
  };
  return {
    rootDir: root,
    hostPath,
    kind,
    exists: (readerPath) => kind(readerPath) !== undefined,
    readLink(readerPath) {
      const parent = hostPath(path.posix.dirname(normalizePath(readerPath)));
      if (parent === undefined) return undefined;
      try {
        return fs.readlinkSync(path.join(parent, path.posix.basename(normalizePath(readerPath))));
      } catch {
        return undefined;
      }
    },
    readText(readerPath) {
      const host = hostPath(readerPath);
      if (host === undefined) return undefined;
      const bytes = readRegularFileNoFollow(host, BOOTCFG_LIMITS.configFileBytes, (size) => {
        throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, 'boot config', `${readerPath} is ${size} bytes; at most ${BOOTCFG_LIMITS.configFileBytes} are read`);
      });
      return bytes === undefined ? undefined : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
    },
    list(dir) {
      const host = hostPath(dir);
      if (host === undefined) return [];
      try {
        return fs.readdirSync(host).sort().slice(0, BOOTCFG_LIMITS.directoryEntries);
      } catch {
        return [];
      }
    },
  };
}

/** A BootEntry with its files found under the root (host paths). */
export interface ResolvedBootEntry extends BootEntry {
  kernelFile?: string;
  initrdFiles: string[];
  devicetreeFile?: string;
}

/** How resolveBootEntry looks for an entry's files beyond its path bases. */
export interface ResolveOptions {
  /**
   * A directory prefix the config's paths may carry that this volume does not have: a /boot
   * copied from a system where it was a plain directory names its files `/boot/X`, which on the
   * copy are `/X`.
   */
  readonly droppedPrefix?: string;
}

/** Where `configPath` may be in the reader's namespace, most likely first. */
function candidatePaths(entry: BootEntry, configPath: string, options: ResolveOptions): string[] {
  const paths = entry.pathBases.map((base) => underBase(base, configPath));
  const prefix = options.droppedPrefix;
  if (prefix !== undefined && normalizePath(configPath).startsWith(`${prefix}/`)) {
    paths.push(...entry.pathBases.map((base) => underBase(base, normalizePath(configPath).slice(prefix.length))));
  }
  return paths;
}

export function resolveBootEntry(reader: RootedReader, entry: BootEntry, options: ResolveOptions = {}): ResolvedBootEntry {
  const resolved: ResolvedBootEntry = { ...entry, initrdFiles: [] };
  const tried = (configPath: string): string => candidatePaths(entry, configPath, options).join(' or ');
  /** The first candidate that is a regular file, as a host path. */
  const find = (configPath: string): string | undefined => {
    const found = candidatePaths(entry, configPath, options).find((candidate) => reader.kind(candidate) === 'file');
    return found === undefined ? undefined : reader.hostPath(found);
  };
  const missing: { code: UnbootableCode; message: string }[] = [];
  if (entry.kernel !== undefined) {
    const kernelFile = find(entry.kernel);
    if (kernelFile === undefined) missing.push({ code: UnbootableCode.KERNEL_NOT_FOUND, message: `kernel ${entry.kernel} not found (looked for ${tried(entry.kernel)} under ${reader.rootDir})` });
    else resolved.kernelFile = kernelFile;
  }
  for (const initrd of entry.initrds) {
    const initrdFile = find(initrd);
    if (initrdFile === undefined) missing.push({ code: UnbootableCode.INITRD_NOT_FOUND, message: `initrd ${initrd} not found (looked for ${tried(initrd)} under ${reader.rootDir})` });
    else resolved.initrdFiles.push(initrdFile);
  }
  if (entry.devicetree !== undefined) {
    const devicetreeFile = find(entry.devicetree);
    if (devicetreeFile === undefined) missing.push({ code: UnbootableCode.DEVICETREE_NOT_FOUND, message: `device tree ${entry.devicetree} not found (looked for ${tried(entry.devicetree)})` });
    else resolved.devicetreeFile = devicetreeFile;
  }
  // A reason the parser found (chainloader, memtest) says more than a missing file.
  if (resolved.unbootableReason === undefined && missing[0] !== undefined) resolved.unbootableReason = missing[0];
  return resolved;
}

export type BootLoaderKind = 'grub' | 'bls' | 'syslinux' | 'distro';

export interface ReadBootConfigOptions {
  /** Which loader's config to read; `auto` (default) takes the first found, in the order the
   * volume's shape gives (a system root: GRUB, BLS, syslinux family, then the bare /boot layout). */
  loader?: 'auto' | BootLoaderKind;
  /** What the directory is; found from what is at its top unless given (volume-shape.ts). */
  shape?: VolumeShape;
  /** A config file (reader path) to read instead of searching the usual places. */
  configFile?: string;
  /** The user's choice of default, in the loader's own terms (GRUB `default` syntax, BLS glob, LABEL). */
  defaultOverride?: string;
  /** GRUB's `grub_platform`; default: `efi` when the root is `/` and /sys/firmware/efi exists, else `pc`. */
  platform?: 'efi' | 'pc';
  /** For the bare /boot layout: the command line to give entries (default: /proc/cmdline when the root is `/`). */
  procCmdline?: string;
  /** BLS `default @saved`: the entry the firmware remembers (LoaderEntryDefault). */
  savedEntryId?: string;
}

export interface RootBootConfig extends BootConfig {
  loader: BootLoaderKind;
  /** What the directory was read as, and why. */
  shape: VolumeShapeFinding;
  /** The config read (reader path), when there was one. */
  configFile?: string;
  entries: ResolvedBootEntry[];
}

function readIfRoot(root: string, file: string): string | undefined {
  if (root !== '/') return undefined;
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** Finds and reads the boot configuration of the volume rooted at `rootDir`, files resolved. */
export function readBootConfig(rootDir: string, options: ReadBootConfigOptions = {}): RootBootConfig {
  const reader = createRootedReader(rootDir);
  const loader = options.loader ?? 'auto';
  const shape: VolumeShapeFinding = options.shape !== undefined ? { shape: options.shape, evidence: 'as asked' } : detectVolumeShape(reader);
  const places = volumeShapePlaces(shape.shape, reader);
  const override = options.defaultOverride !== undefined ? { defaultOverride: options.defaultOverride } : {};
  const platform = options.platform ?? (reader.rootDir === '/' && fs.existsSync('/sys/firmware/efi') ? 'efi' : 'pc');
  const firstFile = (candidates: readonly string[]): string | undefined =>
    options.configFile !== undefined ? options.configFile : candidates.find((candidate) => reader.kind(candidate) === 'file');

  const finish = (kind: BootLoaderKind, config: BootConfig, configFile?: string): RootBootConfig => {
    const resolveOptions: ResolveOptions = shape.shape === 'boot-partition' ? { droppedPrefix: '/boot' } : {};
    const result: RootBootConfig = { ...config, loader: kind, shape, entries: config.entries.map((entry) => resolveBootEntry(reader, entry, resolveOptions)) };
    if (configFile !== undefined) result.configFile = configFile;
    return result;
  };

  if (shape.shape === 'installer-media' && loader === 'auto' && options.configFile === undefined) {
    const menus = readIsoBootMenus(reader, { platform });
    const first = menus.configFiles[0];
    // Entries of media in a directory are files of that directory, not of an image: no `iso`.
    const config: BootConfig = { ...menus, entries: menus.entries.map(({ iso: _inImage, ...entry }) => entry) };
    return finish(first?.loader ?? 'grub', config, first?.file);
  }

  const readers: Record<BootLoaderKind, () => RootBootConfig | undefined> = {
    grub: () => {
      const file = firstFile(places.grubConfigs);
      const text = file === undefined ? undefined : reader.readText(file);
      if (file === undefined || text === undefined) return undefined;
      return finish('grub', parseGrubConfig(text, file, { reader, platform, pathBases: [...places.pathBases], ...override }), file);
    },
    bls: () => {
      const roots = places.blsRoots.filter((root) => reader.kind(joinPath(root, 'loader/entries')) === 'directory');
      if (roots.length === 0 && loader !== 'bls') return undefined;
      const saved = options.savedEntryId !== undefined ? { savedEntryId: options.savedEntryId } : {};
      const bls = readBlsConfig(reader, { partitionRoots: roots.length > 0 ? roots : [places.blsRoots[0]!], ...override, ...saved });
      // grubenv lies beside the grub.cfg that would have loaded it.
      const grubenvFiles = places.grubConfigs.map((config) => joinPath(dirName(config), 'grubenv'));
      return finish('bls', expandForGrubBlscfg(bls, reader, { grubenvFiles, pathBases: places.pathBases }));
    },
    syslinux: () => {
      const file = firstFile(places.syslinuxConfigs);
      const text = file === undefined ? undefined : reader.readText(file);
      if (file === undefined || text === undefined) return undefined;
      return finish('syslinux', parseSyslinuxConfig(text, file, { reader, ...override }), file);
    },
    distro: () => finish('distro', distroBootEntries(kernelListing(reader, places.kernelDir, options.procCmdline ?? readIfRoot(reader.rootDir, '/proc/cmdline')))),
  };
  const order = loader === 'auto' ? places.loaderOrder : [loader];
  for (const kind of order) {
    const config = readers[kind]();
    if (config !== undefined) return config;
  }
  return readers.distro()!;
}

/** The kernels of `kernelDir` (and Debian's /vmlinuz links at the top) for the bare layout. */
function kernelListing(reader: RootedReader, kernelDir: string, procCmdline: string | undefined): BootDirectoryListing {
  const bootFiles = reader.list(kernelDir);
  const rootFiles = kernelDir === '/' ? [] : reader.list('/').filter((name) => name.startsWith('vmlinuz') || name.startsWith('initrd.img'));
  const symlinks: Record<string, string> = {};
  for (const [dir, names] of [['/', rootFiles], [kernelDir, bootFiles]] as const) {
    for (const name of names) {
      const target = reader.readLink(joinPath(dir, name));
      if (target !== undefined) symlinks[joinPath(dir, name)] = target;
    }
  }
  return { bootDir: kernelDir, bootFiles, rootFiles, symlinks, ...(procCmdline !== undefined ? { procCmdline } : {}) };
}
