/**
 * The Boot Loader Specification's order ("Sorting") in ONE comparator, and the choice of the
 * default entry as systemd-boot makes it. Pure.
 */
import { globMatch } from '../text.js';
import type { BlsEntry } from './entry.js';
import { compareUapiVersions } from './version-compare.js';

/** BLS "Boot counting": tries left at zero means the entry is "bad". */
export function isBadEntry(entry: Pick<BlsEntry, 'bootCounting'>): boolean {
  return entry.bootCounting !== undefined && entry.bootCounting.triesLeft === 0;
}

/**
 * BLS "Alphanumerical Order": strcmp(3) on UTF-8, an unspecified or empty string lower.
 * JavaScript compares UTF-16 code units, which orders like UTF-8 bytes except across the
 * surrogate range; BLS fields are ASCII in practice.
 */
function compareAlphanumerical(a: string | undefined, b: string | undefined): number {
  const left = a ?? '';
  const right = b ?? '';
  if (left === right) return 0;
  return left < right ? -1 : 1;
}

function stripConfSuffix(fileName: string): string {
  return fileName.endsWith('.conf') ? fileName.slice(0, -'.conf'.length) : fileName;
}

/** Negative when `a` is listed before `b` (newest and best first). */
export function compareBlsEntries(a: BlsEntry, b: BlsEntry): number {
  // 1. Bad entries after all others.
  const badA = isBadEntry(a);
  const badB = isBadEntry(b);
  if (badA !== badB) return badA ? 1 : -1;

  const hasKeyA = (a.sortKey ?? '') !== '';
  const hasKeyB = (b.sortKey ?? '') !== '';
  if (hasKeyA && hasKeyB) {
    // 2. sort-key ascending, then machine-id ascending, then version descending.
    const bySortKey = compareAlphanumerical(a.sortKey, b.sortKey);
    if (bySortKey !== 0) return bySortKey;
    const byMachineId = compareAlphanumerical(a.machineId, b.machineId);
    if (byMachineId !== 0) return byMachineId;
    const byVersion = compareUapiVersions(b.version ?? '', a.version ?? '');
    if (byVersion !== 0) return byVersion;
  } else if (hasKeyA !== hasKeyB) {
    // 3. An entry with a sort-key before one without.
    return hasKeyA ? -1 : 1;
  }
  // 4. File name without the suffix, decreasing version order. The counters stay in: the spec
  // notes that removing them is not necessary.
  return compareUapiVersions(stripConfSuffix(b.fileName), stripConfSuffix(a.fileName));
}

export function sortBlsEntries(entries: readonly BlsEntry[]): BlsEntry[] {
  // Array.prototype.sort is stable, so equal entries keep their directory order.
  return [...entries].sort(compareBlsEntries);
}

/** How an entry id matches a default pattern: a glob, case-insensitive as systemd-boot folds ids. */
function matchesPattern(pattern: string, entry: BlsEntry): boolean {
  const folded = pattern.toLowerCase();
  const id = entry.id.toLowerCase();
  // Accept the id with or without `.conf`: bootctl prints it with, GRUB's blscfg without.
  return globMatch(folded, id) || globMatch(folded, stripConfSuffix(id));
}

export interface BlsDefaultChoice {
  /** Index into the sorted entries, or undefined when there are none. */
  index: number | undefined;
  /** Which rule chose it. */
  rule: 'override' | 'loader.conf' | 'saved' | 'first';
  /** Patterns that matched nothing, for warnings. */
  unmatched: string[];
}

/**
 * systemd-boot's choice: an explicit override (our command line), else loader.conf's `default`
 * (`@saved` meaning the remembered entry), else the first entry in sort order. A pattern
 * matching several entries picks the first of them in sort order (the newest).
 */
export function chooseBlsDefault(
  sorted: readonly BlsEntry[],
  choices: { override?: string; configured?: string; savedEntryId?: string },
): BlsDefaultChoice {
  const unmatched: string[] = [];
  const tryPattern = (pattern: string | undefined): number | undefined => {
    if (pattern === undefined || pattern === '') return undefined;
    const index = sorted.findIndex((entry) => matchesPattern(pattern, entry));
    if (index < 0) {
      unmatched.push(pattern);
      return undefined;
    }
    return index;
  };
  const byOverride = tryPattern(choices.override);
  if (byOverride !== undefined) return { index: byOverride, rule: 'override', unmatched };
  if (choices.configured === '@saved') {
    const bySaved = tryPattern(choices.savedEntryId);
    if (bySaved !== undefined) return { index: bySaved, rule: 'saved', unmatched };
  } else {
    const byConfig = tryPattern(choices.configured);
    if (byConfig !== undefined) return { index: byConfig, rule: 'loader.conf', unmatched };
  }
  return { index: sorted.length > 0 ? 0 : undefined, rule: 'first', unmatched };
}
