import { ErrorCode, KexecError } from '../errors.js';
import type { BootEntry } from './types.js';

/**
 * Picks the entry a user names: nothing means the default; otherwise, in this order, an exact
 * id, an exact title, a 0-based index into the list as shown, then a glob (`*`, `?`) over ids
 * and titles that must match exactly one entry. Pure.
 */
export function selectBootEntry<E extends BootEntry>(entries: readonly E[], query?: string): E {
  if (entries.length === 0) {
    throw new KexecError(ErrorCode.NO_BOOT_ENTRY, 'No boot entries were found.', {
      remedy: 'Check the root (--root), or name a kernel directly: kexec-ts load /boot/vmlinuz-VERSION --initrd ... --reuse-cmdline',
    });
  }
  if (query === undefined) {
    const chosen = entries.find((entry) => entry.isDefault) ?? entries[0]!;
    return chosen;
  }
  const byId = entries.find((entry) => entry.id === query);
  if (byId !== undefined) return byId;
  const byTitle = entries.filter((entry) => entry.title === query);
  if (byTitle.length === 1) return byTitle[0]!;
  if (/^\d+$/.test(query)) {
    const byIndex = entries[Number(query)];
    if (byIndex !== undefined) return byIndex;
  }
  const pattern = globToRegExp(query);
  const matches = entries.filter((entry) => pattern.test(entry.id) || pattern.test(entry.title));
  if (matches.length === 1) return matches[0]!;
  const shown = (list: readonly E[]) => list.map((entry) => `${entries.indexOf(entry)}: ${entry.title} (${entry.id})`).join('; ');
  throw new KexecError(
    ErrorCode.NO_BOOT_ENTRY,
    matches.length === 0 ? `No boot entry matches '${query}'.` : `'${query}' matches ${matches.length} entries: ${shown(matches)}.`,
    { remedy: `Name one entry by id, title, index or a narrower pattern; the entries are: ${shown(entries)}` },
  );
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}
