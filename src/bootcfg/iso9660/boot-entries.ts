/**
 * An ISO image's boot menus -> BootEntries whose kernel, initrds and device tree are files
 * inside the image (`entry.iso` set; `kernelFile`/`initrdFiles` are image paths, read with
 * Iso.chunks into a memfd). The configs are the image's own, read through the GRUB and syslinux
 * parsers with a reader over the image:
 * - with `isoPath` (a boot from the image file on a disk): /boot/grub/loopback.cfg first, run as
 *   a boot loader runs it (loopback.ts), so its entries carry `iso-scan/filename=`, `findiso=`,
 *   `img_loop=` or whatever it declares; GRUB's grub.cfg also runs with `iso_path` set;
 * - GRUB's config: the first of /boot/grub/grub.cfg and EFI/BOOT/grub.cfg (a stub sourcing the
 *   first, on most images);
 * - isolinux's: the first of isolinux.cfg, syslinux.cfg in /boot/isolinux, /isolinux,
 *   /boot/syslinux, /syslinux, / (isolinux's own search, syslinux core/fs/iso9660/iso9660.c),
 *   relative paths from the config's directory as isolinux makes it the working directory.
 * The default is the first config's default in that order. Pure: the image comes through `iso`.
 */
import { parseGrubConfig } from '../grub/read.js';
import { parseSyslinuxConfig } from '../syslinux/parse.js';
import { dirName, normalizePath } from '../text.js';
import {
  BootConfigWarningCode,
  UnbootableCode,
  type BootConfig,
  type BootConfigWarning,
  type BootEntry,
  type BootFileReader,
  type IsoEntrySource,
} from '../types.js';
import { isoBootFileReader } from './boot-file-reader.js';
import { Iso, openIso } from './iso.js';
import { fsUuidProbes, loopbackArgsByEntry } from './loopback.js';
import type { IsoSource } from './source.js';

export interface IsoBootOptions {
  /** The image's path on the file system holding it (`${iso_path}`; see locateIsoFile): set
   * when the entries are to boot from the image file, so the loopback configs take part. */
  isoPath?: string;
  /** That file system's UUID, for configs that ask GRUB's `probe --fs-uuid` for it (Arch's `img_dev=UUID=`). */
  isoFsUuid?: string;
  /** The image file as the caller names it; recorded in each entry's `iso.imageFile`. */
  imageFile?: string;
  /** GRUB's `grub_platform`; default `efi`. */
  platform?: 'efi' | 'pc';
}

export interface IsoBootEntry extends BootEntry {
  iso: IsoEntrySource;
  /** Where the kernel is inside the image, links resolved; unset when it is not there. */
  kernelFile?: string;
  initrdFiles: string[];
  devicetreeFile?: string;
}

export interface IsoConfigFile {
  file: string;
  loader: 'grub' | 'syslinux';
  /** Read as the loopback.cfg of a boot from the image file. */
  loopback: boolean;
}

export interface IsoBootConfig extends BootConfig {
  entries: IsoBootEntry[];
  /** The configs read, in the order of their entries. */
  configFiles: IsoConfigFile[];
}

export const ISO_LOOPBACK_CONFIG = '/boot/grub/loopback.cfg';
export const ISO_GRUB_CONFIGS = ['/boot/grub/grub.cfg', '/EFI/BOOT/grub.cfg', '/EFI/boot/grub.cfg', '/efi/boot/grub.cfg', '/boot/grub2/grub.cfg'];
const ISOLINUX_DIRECTORIES = ['/boot/isolinux', '/isolinux', '/boot/syslinux', '/syslinux', '/'];
const ISOLINUX_NAMES = ['isolinux.cfg', 'syslinux.cfg'];
/** Stands for the boot loader that runs a config with `iso_path` exported (the convention's menu entry). */
const LOOPBACK_BOOT_SCRIPT = '/(loopback boot)';

/** isolinux's config, found the way isolinux finds it. */
export function findIsolinuxConfig(reader: BootFileReader): string | undefined {
  for (const dir of ISOLINUX_DIRECTORIES) {
    for (const name of ISOLINUX_NAMES) {
      const candidate = normalizePath(`${dir}/${name}`);
      if (reader.readText(candidate) !== undefined) return candidate;
    }
  }
  return undefined;
}

interface GrubRun {
  config: BootConfig;
  loopbackArgs: string[][];
}

/**
 * Runs a GRUB config; with `isoPath`, as the loopback convention does (a script exporting
 * `iso_path` then `configfile FILE`), once more without it, and the difference per entry.
 */
function runGrubConfig(reader: BootFileReader, file: string, text: string, options: IsoBootOptions, warnings: BootConfigWarning[]): GrubRun {
  const base = { reader, platform: options.platform ?? 'efi', pathBases: ['/'] };
  const plain = parseGrubConfig(text, file, base);
  if (options.isoPath === undefined) return { config: plain, loopbackArgs: plain.entries.map(() => []) };

  const variables: Record<string, string> = { iso_path: options.isoPath };
  for (const probe of fsUuidProbes(text)) {
    if (options.isoFsUuid !== undefined) variables[probe.variable] = options.isoFsUuid;
    else {
      warnings.push({
        code: BootConfigWarningCode.MISSING_VALUE,
        message: `probe --fs-uuid sets ${probe.variable} to the UUID of the file system holding the image; without it (isoFsUuid) the value stays empty`,
        file,
        line: probe.line,
      });
    }
  }
  const script = `export ${Object.keys(variables).join(' ')}\nconfigfile ${file}\n`;
  const withPath = parseGrubConfig(script, LOOPBACK_BOOT_SCRIPT, { ...base, variables: { ...variables, prefix: dirName(file) } });
  const mentions = [options.isoPath, options.isoFsUuid ?? ''];
  return { config: withPath, loopbackArgs: loopbackArgsByEntry(withPath.entries, plain.entries, mentions) };
}

/** The entry with its files looked up in the image; a missing one makes it unbootable, saying which. */
function resolveInIso(iso: Iso, entry: BootEntry, source: IsoEntrySource): IsoBootEntry {
  const resolved: IsoBootEntry = { ...entry, pathBases: ['/'], iso: source, initrdFiles: [] };
  const find = (path: string): string | undefined => {
    const info = iso.stat(normalizePath(path));
    return info?.kind === 'file' ? info.path : undefined;
  };
  const missing: { code: UnbootableCode; message: string }[] = [];
  if (entry.kernel !== undefined) {
    const kernelFile = find(entry.kernel);
    if (kernelFile === undefined) missing.push({ code: UnbootableCode.KERNEL_NOT_FOUND, message: `kernel ${entry.kernel} is not in the image` });
    else resolved.kernelFile = kernelFile;
  }
  for (const initrd of entry.initrds) {
    const initrdFile = find(initrd);
    if (initrdFile === undefined) missing.push({ code: UnbootableCode.INITRD_NOT_FOUND, message: `initrd ${initrd} is not in the image` });
    else resolved.initrdFiles.push(initrdFile);
  }
  if (entry.devicetree !== undefined) {
    const devicetreeFile = find(entry.devicetree);
    if (devicetreeFile === undefined) missing.push({ code: UnbootableCode.DEVICETREE_NOT_FOUND, message: `device tree ${entry.devicetree} is not in the image` });
    else resolved.devicetreeFile = devicetreeFile;
  }
  if (resolved.unbootableReason === undefined && missing[0] !== undefined) resolved.unbootableReason = missing[0];
  return resolved;
}

/** The menus' entries before their files are looked up in the image (what isoBootEntries resolves). */
export interface IsoBootMenus extends BootConfig {
  entries: (BootEntry & { iso: IsoEntrySource })[];
  configFiles: IsoConfigFile[];
}

/** Finds the boot configs in the reader's namespace (an image's) and parses them; see the module comment. */
export function readIsoBootMenus(reader: BootFileReader, options: IsoBootOptions = {}): IsoBootMenus {
  const warnings: BootConfigWarning[] = [];
  const configFiles: IsoConfigFile[] = [];
  const parts: GrubRun[] = [];

  const loopbackText = options.isoPath === undefined ? undefined : reader.readText(ISO_LOOPBACK_CONFIG);
  if (loopbackText !== undefined) {
    parts.push(runGrubConfig(reader, ISO_LOOPBACK_CONFIG, loopbackText, options, warnings));
    configFiles.push({ file: ISO_LOOPBACK_CONFIG, loader: 'grub', loopback: true });
  }
  for (const file of ISO_GRUB_CONFIGS) {
    const text = reader.readText(file);
    if (text === undefined) continue;
    parts.push(runGrubConfig(reader, file, text, options, warnings));
    configFiles.push({ file, loader: 'grub', loopback: false });
    break;
  }
  const isolinuxConfig = findIsolinuxConfig(reader);
  if (isolinuxConfig !== undefined) {
    const config = parseSyslinuxConfig(reader.readText(isolinuxConfig)!, isolinuxConfig, { reader, pathBases: ['/'] });
    parts.push({ config, loopbackArgs: config.entries.map(() => []) });
    configFiles.push({ file: isolinuxConfig, loader: 'syslinux', loopback: false });
  }
  if (parts.length === 0) {
    const looked = [...(options.isoPath !== undefined ? [ISO_LOOPBACK_CONFIG] : []), ...ISO_GRUB_CONFIGS].join(', ');
    warnings.push({ code: BootConfigWarningCode.FILE_NOT_FOUND, message: `no boot configuration in the image (looked for ${looked} and isolinux's isolinux.cfg or syslinux.cfg)` });
  }

  const entries: IsoBootMenus['entries'] = [];
  let defaultId: string | undefined;
  for (const { config, loopbackArgs } of parts) {
    warnings.push(...config.warnings);
    config.entries.forEach((entry, index) => {
      const iso: IsoEntrySource = { loopbackArgs: loopbackArgs[index] ?? [] };
      if (options.imageFile !== undefined) iso.imageFile = options.imageFile;
      if (options.isoPath !== undefined) iso.isoPath = options.isoPath;
      entries.push({ ...entry, pathBases: ['/'], isDefault: entry.isDefault && defaultId === undefined, iso });
    });
    if (defaultId === undefined && config.defaultId !== undefined) defaultId = config.defaultId;
  }
  const menus: IsoBootMenus = { entries, warnings, configFiles };
  if (defaultId !== undefined) menus.defaultId = defaultId;
  return menus;
}

/** Finds the image's boot configs, parses them, and returns their entries with files looked up in the image. */
export function isoBootEntries(image: Iso | IsoSource, options: IsoBootOptions = {}): IsoBootConfig {
  const iso = image instanceof Iso ? image : openIso(image);
  const menus = readIsoBootMenus(isoBootFileReader(iso), options);
  return { ...menus, entries: menus.entries.map((entry) => resolveInIso(iso, entry, entry.iso)) };
}
