/**
 * rpm's version comparison (rpmvercmp), which GRUB's blscfg module (Fedora's and RHEL's GRUB)
 * uses to order BLS entries: segments are runs of digits or of letters, anything else only
 * separates; digits compare as numbers (leading zeros ignored) and beat letters; `~` sorts
 * before anything, even the end. Whoever has segments left over is newer. Pure.
 */
const isDigit = (char: string | undefined): boolean => char !== undefined && char >= '0' && char <= '9';
const isAlpha = (char: string | undefined): boolean => char !== undefined && /[A-Za-z]/.test(char);

/** Negative when `a` is older than `b`, positive when newer, 0 when rpm calls them equal. */
export function compareRpmVersions(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && !isDigit(a[i]) && !isAlpha(a[i]) && a[i] !== '~') i++;
    while (j < b.length && !isDigit(b[j]) && !isAlpha(b[j]) && b[j] !== '~') j++;
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const numeric = isDigit(a[i]);
    const take = (text: string, start: number): number => {
      let end = start;
      while (end < text.length && (numeric ? isDigit(text[end]) : isAlpha(text[end]))) end++;
      return end;
    };
    const endA = take(a, i);
    const endB = take(b, j);
    // The segment of b is of the other kind: a number is newer than letters.
    if (endB === j) return numeric ? 1 : -1;
    let left = a.slice(i, endA);
    let right = b.slice(j, endB);
    if (numeric) {
      left = left.replace(/^0+/, '');
      right = right.replace(/^0+/, '');
      if (left.length !== right.length) return left.length > right.length ? 1 : -1;
    }
    if (left !== right) return left > right ? 1 : -1;
    i = endA;
    j = endB;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/** `name-version-release` split at the last two dashes, as blscfg splits a file name. */
export function splitNameVersionRelease(text: string): { name: string; version: string; release: string } {
  const last = text.lastIndexOf('-');
  if (last < 0) return { name: text, version: '', release: '' };
  const release = text.slice(last + 1);
  const rest = text.slice(0, last);
  const middle = rest.lastIndexOf('-');
  if (middle < 0) return { name: '', version: rest, release };
  return { name: rest.slice(0, middle), version: rest.slice(middle + 1), release };
}

/** `version-release` split at the last dash (a BLS `version` key as blscfg reads it). */
function splitVersionRelease(text: string): { version: string; release: string } {
  const last = text.lastIndexOf('-');
  return last < 0 ? { version: text, release: '' } : { version: text.slice(0, last), release: text.slice(last + 1) };
}

function compareNvr(a: { name?: string; version: string; release: string }, b: { name?: string; version: string; release: string }): number {
  return compareRpmVersions(a.name ?? '', b.name ?? '') || compareRpmVersions(a.version, b.version) || compareRpmVersions(a.release, b.release);
}

/**
 * blscfg's menu order, newest first: when every entry has a `version` key, by that (as
 * version-release) and then by file name; otherwise by file name alone (as name-version-release,
 * `.conf` cut). RHEL 8's rule; RHEL 9 and Fedora order by file name only, which gives the same
 * menu unless entries of several machine-ids share a /boot.
 */
export function sortForBlscfg<T extends { fileName: string; version?: string | undefined }>(entries: readonly T[]): T[] {
  const byFileName = (a: T, b: T): number =>
    compareNvr(splitNameVersionRelease(b.fileName.replace(/\.conf$/, '')), splitNameVersionRelease(a.fileName.replace(/\.conf$/, '')));
  const allVersioned = entries.every((entry) => entry.version !== undefined && entry.version !== '');
  return [...entries].sort((a, b) => (allVersioned ? compareNvr(splitVersionRelease(b.version!), splitVersionRelease(a.version!)) : 0) || byFileName(a, b));
}
