/**
 * A whole BLS setup: the `loader/entries/*.conf` of one or more partitions (XBOOTLDR and ESP,
 * merged as "Locating Boot Entries" asks), sorted by the spec, with the default chosen.
 * Pure: files come through the injected reader.
 */
import { BOOTCFG_LIMITS } from '../../limits.js';
import { dirName, joinPath, WarningSink } from '../text.js';
import {
  BootConfigWarningCode,
  UnbootableCode,
  type BootConfig,
  type BootEntry,
  type BootFileReader,
} from '../types.js';
import { parseBlsEntry, type BlsEntry } from './entry.js';
import { parseLoaderConf } from './loader-conf.js';
import { chooseBlsDefault, sortBlsEntries } from './sort.js';

export interface BlsReadOptions {
  /** Partition roots holding `loader/entries/` (reader paths), in priority order. Default `['/boot']`. */
  partitionRoots?: string[];
  /** A default given by the user (a glob over entry ids); wins over loader.conf. */
  defaultOverride?: string;
  /** The entry remembered by the firmware (LoaderEntryDefault), used for `default @saved`. */
  savedEntryId?: string;
}

/**
 * Paths in an entry are "relative to the root of the file system containing the boot entry
 * snippet itself" (BLS). When that partition is mounted at `partitionRoot` that is where they
 * live; when /boot is a plain directory of the root file system, kernel-install writes paths
 * relative to `/` instead (it strips only a real mount point), hence the second base.
 */
export function blsPathBases(partitionRoot: string): string[] {
  return partitionRoot === '/' ? ['/'] : [partitionRoot, '/'];
}

export function blsEntryToBootEntry(entry: BlsEntry, pathBases: string[], id: string = entry.id): BootEntry {
  const bootEntry: BootEntry = {
    id,
    title: entry.title ?? id,
    initrds: [...entry.initrds],
    cmdline: entry.options.join(' '),
    source: { file: entry.file, line: entry.lineOf.linux ?? entry.lineOf.efi ?? 1 },
    isDefault: false,
    origin: 'bls',
    pathBases,
  };
  if (entry.version !== undefined) bootEntry.version = entry.version;
  if (entry.linux !== undefined) bootEntry.kernel = entry.linux;
  if (entry.devicetree !== undefined) bootEntry.devicetree = entry.devicetree;
  if (entry.sortKey !== undefined) bootEntry.sortKey = entry.sortKey;
  if (entry.machineId !== undefined) bootEntry.machineId = entry.machineId;
  if (entry.architecture !== undefined) bootEntry.architecture = entry.architecture;
  if (entry.devicetreeOverlays.length > 0) bootEntry.devicetreeOverlays = [...entry.devicetreeOverlays];
  if (entry.extras.length > 0) bootEntry.extras = [...entry.extras];
  if (entry.bootCounting) bootEntry.bootCounting = { ...entry.bootCounting };
  if (entry.linux === undefined) {
    bootEntry.unbootableReason = entry.efi !== undefined
      ? { code: UnbootableCode.CHAINLOADER, message: `runs the EFI program ${entry.efi}, not a Linux kernel` }
      : { code: UnbootableCode.NO_KERNEL, message: 'the entry has no "linux" key' };
  }
  return bootEntry;
}

/** The `*.conf` entries of each partition root, unsorted, with warnings for what was skipped. */
export function readBlsEntryFiles(reader: BootFileReader, partitionRoots: string[], sink: WarningSink): BlsEntry[] {
  const entries: BlsEntry[] = [];
  for (const root of partitionRoots) {
    const dir = joinPath(root, 'loader/entries');
    let names = reader.list(dir).filter((name) => name.endsWith('.conf') && !name.startsWith('.'));
    if (names.length > BOOTCFG_LIMITS.directoryEntries) {
      sink.add(BootConfigWarningCode.LIMIT_REACHED, `${names.length} entries; only the first ${BOOTCFG_LIMITS.directoryEntries} are read`, dir);
      names = names.slice(0, BOOTCFG_LIMITS.directoryEntries);
    }
    for (const name of names) {
      const file = joinPath(dir, name);
      const text = reader.readText(file);
      if (text === undefined) continue;
      const entry = parseBlsEntry(text, file);
      sink.warnings.push(...entry.warnings);
      entries.push(entry);
    }
  }
  return entries;
}

export function readBlsConfig(reader: BootFileReader, options: BlsReadOptions = {}): BootConfig {
  const sink = new WarningSink();
  const partitionRoots = options.partitionRoots ?? ['/boot'];
  const entries = readBlsEntryFiles(reader, partitionRoots, sink);

  const seen = new Set<string>();
  for (const entry of entries) {
    if (seen.has(entry.id)) {
      sink.add(BootConfigWarningCode.DUPLICATE_KEY, `entry id "${entry.id}" appears on more than one partition`, entry.file);
    }
    seen.add(entry.id);
  }

  // loader.conf lives on the ESP; systemd-boot reads the first one it finds.
  let configured: string | undefined;
  for (const root of partitionRoots) {
    const file = joinPath(root, 'loader/loader.conf');
    const text = reader.readText(file);
    if (text === undefined) continue;
    const conf = parseLoaderConf(text, file);
    sink.warnings.push(...conf.warnings);
    configured = conf.default;
    break;
  }

  let sorted = sortBlsEntries(entries);
  if (sorted.length > BOOTCFG_LIMITS.entries) {
    sink.add(BootConfigWarningCode.LIMIT_REACHED, `${sorted.length} entries; only the first ${BOOTCFG_LIMITS.entries} are kept`);
    sorted = sorted.slice(0, BOOTCFG_LIMITS.entries);
  }
  const choice = chooseBlsDefault(sorted, {
    ...(options.defaultOverride !== undefined ? { override: options.defaultOverride } : {}),
    ...(configured !== undefined ? { configured } : {}),
    ...(options.savedEntryId !== undefined ? { savedEntryId: options.savedEntryId } : {}),
  });
  for (const pattern of choice.unmatched) {
    sink.add(BootConfigWarningCode.DEFAULT_NOT_FOUND, `default "${pattern}" matches no entry`);
  }

  const bootEntries = sorted.map((entry) => blsEntryToBootEntry(entry, blsPathBases(dirName(dirName(dirName(entry.file))))));
  const config: BootConfig = { entries: bootEntries, warnings: sink.warnings };
  if (choice.index !== undefined) {
    bootEntries[choice.index]!.isDefault = true;
    config.defaultId = bootEntries[choice.index]!.id;
  }
  return config;
}
