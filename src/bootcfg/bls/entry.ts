/**
 * One Boot Loader Specification Type #1 entry (`/loader/entries/*.conf`) -> its keys, with
 * repeated keys kept in order. BLS, "Type #1 Boot Loader Entry Keys": the first word of a line
 * is the key, separated by whitespace from the value; lines starting with `#` are comments.
 * Pure: text and the file name in, a record out.
 */
import { assertConfigSize, splitLines, WarningSink } from '../text.js';
import { BootConfigWarningCode, type BootConfigWarning, type BootCounting } from '../types.js';

export interface BlsEntry {
  /** File name with the boot-counting suffix removed, `.conf` kept (as systemd-boot names it). */
  id: string;
  /** The file name as found, counters included. */
  fileName: string;
  /** The path the text was read from, for diagnostics. */
  file: string;
  title?: string;
  version?: string;
  machineId?: string;
  sortKey?: string;
  linux?: string;
  efi?: string;
  /** Every `initrd` line, in order: all are loaded, concatenated. */
  initrds: string[];
  /** Every `options` line, in order; the kernel gets them joined by a space. */
  options: string[];
  devicetree?: string;
  devicetreeOverlays: string[];
  architecture?: string;
  /** Every `extra` line, in order (systemd-boot: extra files for the entry). */
  extras: string[];
  bootCounting?: BootCounting;
  /** The line each single-valued key came from (for diagnostics on the entry). */
  lineOf: Record<string, number>;
  warnings: BootConfigWarning[];
}

const SINGLE_VALUED_KEYS = ['title', 'version', 'machine-id', 'sort-key', 'linux', 'efi', 'devicetree', 'architecture'] as const;
type SingleValuedKey = (typeof SINGLE_VALUED_KEYS)[number];

/**
 * BLS "Boot counting": `NAME+LEFT[-DONE].conf`, and `.efi` for Type #2 entries (UKIs). The plus
 * and the numbers must come immediately before the suffix; anything else is part of the name.
 */
const BOOT_COUNTING_SUFFIX = /^(.*)\+(\d+)(?:-(\d+))?(\.conf|\.efi)$/i;

export function splitBootCounting(fileName: string): { id: string; bootCounting?: BootCounting } {
  const match = BOOT_COUNTING_SUFFIX.exec(fileName);
  if (!match) return { id: fileName };
  return {
    id: `${match[1]}${match[4]}`,
    bootCounting: { triesLeft: Number(match[2]), triesDone: match[3] === undefined ? 0 : Number(match[3]) },
  };
}

export function parseBlsEntry(text: string, file: string): BlsEntry {
  assertConfigSize(text, 'BLS entry', file);
  const fileName = file.slice(file.lastIndexOf('/') + 1);
  const { id, bootCounting } = splitBootCounting(fileName);
  const sink = new WarningSink();
  const entry: BlsEntry = {
    id,
    fileName,
    file,
    initrds: [],
    options: [],
    devicetreeOverlays: [],
    extras: [],
    lineOf: {},
    warnings: sink.warnings,
  };
  if (bootCounting) entry.bootCounting = bootCounting;

  const single: Partial<Record<SingleValuedKey, string>> = {};
  splitLines(text).forEach((rawLine, index) => {
    const line = index + 1;
    const trimmed = rawLine.trim();
    if (trimmed === '' || trimmed.startsWith('#')) return;
    const match = /^(\S+)(?:\s+(.*))?$/s.exec(trimmed)!;
    const key = match[1]!;
    const value = (match[2] ?? '').trim();
    if (value === '') {
      sink.add(BootConfigWarningCode.MISSING_VALUE, `key "${key}" has no value`, file, line);
      return;
    }
    switch (key) {
      case 'initrd':
        entry.initrds.push(value);
        return;
      case 'options':
        entry.options.push(value);
        return;
      case 'extra':
        entry.extras.push(value);
        return;
      case 'devicetree-overlay':
        // "Multiple overlays are separated by spaces and applied in the same order."
        entry.devicetreeOverlays.push(...value.split(/\s+/));
        return;
      default:
        break;
    }
    if ((SINGLE_VALUED_KEYS as readonly string[]).includes(key)) {
      const singleKey = key as SingleValuedKey;
      if (single[singleKey] !== undefined) {
        // systemd's bootspec.c lets the last one win; say so, since it is probably a mistake.
        sink.add(BootConfigWarningCode.DUPLICATE_KEY, `key "${key}" given again; the last value is used`, file, line);
      }
      single[singleKey] = value;
      entry.lineOf[key] = line;
      return;
    }
    // Forward compatibility: keys from newer specs or loaders are noted, not fatal.
    sink.add(BootConfigWarningCode.UNKNOWN_KEY, `unknown key "${key}" ignored`, file, line);
  });

  if (single.title !== undefined) entry.title = single.title;
  if (single.version !== undefined) entry.version = single.version;
  if (single['machine-id'] !== undefined) entry.machineId = single['machine-id'];
  if (single['sort-key'] !== undefined) entry.sortKey = single['sort-key'];
  if (single.linux !== undefined) entry.linux = single.linux;
  if (single.efi !== undefined) entry.efi = single.efi;
  if (single.devicetree !== undefined) entry.devicetree = single.devicetree;
  if (single.architecture !== undefined) entry.architecture = single.architecture;
  if (entry.linux === undefined && entry.efi === undefined) {
    sink.add(BootConfigWarningCode.MISSING_VALUE, 'entry has neither "linux" nor "efi" (BLS requires one)', file);
  }
  return entry;
}
