/**
 * Debian version ordering, as dpkg compares versions (deb-version(7), "Sorting algorithm";
 * dpkg's lib/dpkg/version.c, verrevcmp): `[epoch:]upstream[-revision]`, epoch numerically,
 * then upstream and revision each by alternating non-digit and digit runs. In the non-digit
 * runs `~` sorts before everything (even the end), letters before other characters; digit
 * runs compare as numbers. Used for kernel releases (`6.1.0-26-amd64` after `6.1.0-9-amd64`).
 */

/** Weight of one character in a non-digit run (deb-version(7)). */
function order(char: string | undefined): number {
  if (char === undefined) return 0;
  if (char === '~') return -1;
  if (/[A-Za-z]/.test(char)) return char.charCodeAt(0);
  return char.charCodeAt(0) + 256;
}

function isDigit(char: string | undefined): boolean {
  return char !== undefined && char >= '0' && char <= '9';
}

/** dpkg's verrevcmp on one part (upstream or revision). */
export function compareDebianVersionPart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDifference = 0;
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const left = i < a.length && !isDigit(a[i]) ? order(a[i]) : 0;
      const right = j < b.length && !isDigit(b[j]) ? order(b[j]) : 0;
      if (left !== right) return left - right;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (firstDifference === 0) firstDifference = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDifference !== 0) return firstDifference;
  }
  return 0;
}

function splitVersion(version: string): { epoch: number; upstream: string; revision: string } {
  const colon = version.indexOf(':');
  const epochText = colon >= 0 ? version.slice(0, colon) : '';
  const epoch = /^\d+$/.test(epochText) ? Number.parseInt(epochText, 10) : 0;
  const rest = colon >= 0 && /^\d+$/.test(epochText) ? version.slice(colon + 1) : version;
  const dash = rest.lastIndexOf('-');
  return dash >= 0 ? { epoch, upstream: rest.slice(0, dash), revision: rest.slice(dash + 1) } : { epoch, upstream: rest, revision: '' };
}

/** Negative when `a` is older than `b`, positive when newer, 0 when dpkg calls them equal. */
export function compareDebianVersions(a: string, b: string): number {
  const left = splitVersion(a);
  const right = splitVersion(b);
  if (left.epoch !== right.epoch) return left.epoch - right.epoch;
  const upstream = compareDebianVersionPart(left.upstream, right.upstream);
  if (upstream !== 0) return upstream;
  return compareDebianVersionPart(left.revision, right.revision);
}
