/**
 * Every boot entry a machine (or a volume, or an ISO image) offers, in one list with one
 * default: the rule `list`, `reboot` and library callers share. Reads files (through resolve.ts
 * and the ISO file source); the choosing is pure (bootList).
 */
import fs from 'node:fs';
import path from 'node:path';
import { BOOTCFG_LIMITS } from '../limits.js';
import { isoBootEntries, type IsoBootEntry } from './iso9660/boot-entries.js';
import { locateIsoFile, withIsoFile } from './iso9660/file-source.js';
import { createRootedReader, readBootConfig, readRegularFileNoFollow, type ReadBootConfigOptions, type ResolvedBootEntry, type RootBootConfig } from './resolve.js';
import { joinPath } from './text.js';
import type { BootConfigWarning } from './types.js';
import { ukiBootEntries, type UkiFile } from './uki-entries.js';
import { volumeShapePlaces } from './volume-shape.js';

export interface MachineBootEntries {
  /** The boot loader's own configuration (GRUB, BLS Type #1, syslinux or the bare /boot). */
  readonly config: RootBootConfig;
  /** BLS Type #2 entries: UKIs in EFI/Linux on the ESP or XBOOTLDR. */
  readonly ukis: ResolvedBootEntry[];
  /** The ESP directories searched (host paths). */
  readonly espDirs: string[];
}

/**
 * The volume at `rootDir`: its loader's configuration, plus the UKIs in EFI/Linux of each ESP
 * (`espDir` if given, else where the volume's shape says an ESP is mounted).
 */
export function readMachineBootEntries(rootDir: string, options: ReadBootConfigOptions & { espDir?: string } = {}): MachineBootEntries {
  const config = readBootConfig(rootDir, options);
  const reader = createRootedReader(rootDir);
  const espMounts = volumeShapePlaces(config.shape.shape, reader).espMounts;
  const linuxDirs = options.espDir !== undefined
    ? [path.join(path.resolve(options.espDir), 'EFI/Linux')]
    : [...new Set(espMounts.flatMap((mount) => {
        const host = reader.hostPath(joinPath(mount, 'EFI/Linux'));
        return host !== undefined && reader.kind(joinPath(mount, 'EFI/Linux')) === 'directory' ? [host] : [];
      }))];
  const files: UkiFile[] = [];
  for (const linuxDir of linuxDirs) {
    let names: string[];
    try {
      names = fs.readdirSync(linuxDir).sort().slice(0, BOOTCFG_LIMITS.directoryEntries);
    } catch {
      continue;
    }
    for (const name of names) {
      // BLS Type #2: "files with the .efi suffix"; addons (*.addon.efi) live in .extra.d directories.
      if (!name.toLowerCase().endsWith('.efi')) continue;
      const bytes = readRegularFileNoFollow(path.join(linuxDir, name), BOOTCFG_LIMITS.ukiFileBytes, () => undefined);
      if (bytes !== undefined) files.push({ path: path.join(linuxDir, name), bytes });
    }
  }
  const ukis = ukiBootEntries(files).map((entry): ResolvedBootEntry => ({ ...entry, kernelFile: entry.kernel!, initrdFiles: [] }));
  const espDirs = options.espDir !== undefined ? [path.resolve(options.espDir)] : linuxDirs.map((dir) => path.dirname(path.dirname(dir)));
  return { config, ukis, espDirs };
}

/** The entries of an ISO image, as booted from that image file where it lies. */
export function readIsoFileEntries(file: string): { entries: IsoBootEntry[]; warnings: BootConfigWarning[] } {
  let location: { isoPath: string; fsUuid?: string } | undefined;
  try {
    location = locateIsoFile(file);
  } catch {
    // Not on a file system we can see (a pipe, a vanished mount): no loopback arguments then.
  }
  const config = withIsoFile(file, (iso) =>
    isoBootEntries(iso, { imageFile: file, ...(location !== undefined ? { isoPath: location.isoPath } : {}), ...(location?.fsUuid !== undefined ? { isoFsUuid: location.fsUuid } : {}) }),
  );
  // A path inside the image says little without the image: name both.
  return { entries: config.entries, warnings: config.warnings.map((warning) => ({ ...warning, file: `${file}: ${warning.file ?? ''}` })) };
}

export type ListedEntry = ResolvedBootEntry | IsoBootEntry;

export interface BootList {
  /** Loader entries in menu order, then UKIs (BLS Type #2 order), then an ISO image's. */
  readonly entries: ListedEntry[];
  readonly loader: RootBootConfig['loader'];
  readonly shape: RootBootConfig['shape'];
  readonly configFile: string | undefined;
  readonly espDirs: string[];
  readonly warnings: BootConfigWarning[];
}

/**
 * One list, one default. The loader's default stays the default (it is what the machine boots
 * when nobody chooses); without a loader entry the first UKI that has tries left (BLS Type #2
 * sorts bad ones last); an ISO image's own default only when nothing else is there.
 */
export function bootList(machine: MachineBootEntries, iso?: { entries: IsoBootEntry[]; warnings: BootConfigWarning[] }): BootList {
  const loaderEntries = machine.config.entries;
  const loaderHasDefault = loaderEntries.some((entry) => entry.isDefault);
  const ukiDefault = loaderEntries.length === 0 ? machine.ukis.findIndex((entry) => entry.unbootableReason === undefined && entry.bootCounting?.triesLeft !== 0) : -1;
  const ukis = machine.ukis.map((entry, index) => ({ ...entry, isDefault: !loaderHasDefault && index === ukiDefault }));
  const isoIsAlone = loaderEntries.length + ukis.length === 0;
  const isoEntries = (iso?.entries ?? []).map((entry) => ({ ...entry, isDefault: isoIsAlone && entry.isDefault }));
  return {
    entries: [...loaderEntries, ...ukis, ...isoEntries],
    loader: machine.config.loader,
    shape: machine.config.shape,
    configFile: machine.config.configFile,
    espDirs: machine.espDirs,
    warnings: [...machine.config.warnings, ...(iso?.warnings ?? [])],
  };
}

/** readMachineBootEntries + readIsoFileEntries + bootList: what `list` shows and `reboot` chooses from. */
export function readBootList(rootDir: string, options: ReadBootConfigOptions & { espDir?: string; isoFile?: string } = {}): BootList {
  const { isoFile, ...machineOptions } = options;
  return bootList(readMachineBootEntries(rootDir, machineOptions), isoFile === undefined ? undefined : readIsoFileEntries(isoFile));
}

/** A warning as one line for people: `FILE:LINE: message`. */
export function formatBootConfigWarning(warning: BootConfigWarning): string {
  return `${warning.file ?? ''}${warning.line !== undefined ? `:${warning.line}` : ''}: ${warning.message}`;
}
