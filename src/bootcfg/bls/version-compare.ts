/**
 * The UAPI "Version Format Specification" comparison (uapi-group.org, specs/
 * version_format_specification.md), used by the Boot Loader Specification to order entries by
 * `version` and by file name. systemd's strverscmp_improved() is the reference implementation;
 * the tests pin the cases its test suite pins.
 *
 * Summary of the rules, applied segment by segment from the left:
 * - only `[A-Za-z0-9]` and `~ - ^ .` matter; every other character is skipped;
 * - `~` sorts before everything, even the end of the string (`1.0~rc1` < `1.0`);
 * - then a string that has ended is older (`1.0` < `1.0.1`);
 * - `-`, then `^`, then `.`: a string with the separator where the other has none is older;
 * - a numeric segment is newer than an alphabetical one; numbers compare by value (leading
 *   zeros ignored); letters compare in ASCII order, a longer run being newer when one is a
 *   prefix of the other.
 */

function isDigit(char: string | undefined): boolean {
  return char !== undefined && char >= '0' && char <= '9';
}

function isAsciiLetter(char: string | undefined): boolean {
  return char !== undefined && ((char >= 'a' && char <= 'z') || (char >= 'A' && char <= 'Z'));
}

function isVersionChar(char: string): boolean {
  return isDigit(char) || isAsciiLetter(char) || char === '~' || char === '-' || char === '^' || char === '.';
}

function sign(value: number): -1 | 0 | 1 {
  return value < 0 ? -1 : value > 0 ? 1 : 0;
}

/** strcmp(3) on code units: enough for the ASCII the rules leave. */
function compareStrings(a: string, b: string): -1 | 0 | 1 {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** -1 when `a` is older than `b`, 1 when newer, 0 when the spec calls them equal. */
export function compareUapiVersions(a: string, b: string): -1 | 0 | 1 {
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && !isVersionChar(a[i]!)) i++;
    while (j < b.length && !isVersionChar(b[j]!)) j++;

    // The separator characters, in the spec's order. `~` is checked before the end of string.
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
    }
    if (i >= a.length || j >= b.length) {
      return compareStrings(a.slice(i), b.slice(j));
    }
    for (const separator of ['-', '^', '.']) {
      if (a[i] === separator || b[j] === separator) {
        if (a[i] !== separator) return 1;
        if (b[j] !== separator) return -1;
        i++;
        j++;
      }
    }

    if (isDigit(a[i]) || isDigit(b[j])) {
      let endA = i;
      while (isDigit(a[endA])) endA++;
      let endB = j;
      while (isDigit(b[endB])) endB++;
      // A number against no number: the number is newer.
      if ((endA > i) !== (endB > j)) return endA > i ? 1 : -1;
      while (a[i] === '0') i++;
      while (b[j] === '0') j++;
      const byLength = sign(endA - i - (endB - j));
      if (byLength !== 0) return byLength;
      const byDigits = compareStrings(a.slice(i, endA), b.slice(j, endB));
      if (byDigits !== 0) return byDigits;
      i = endA;
      j = endB;
    } else {
      let endA = i;
      while (isAsciiLetter(a[endA])) endA++;
      let endB = j;
      while (isAsciiLetter(b[endB])) endB++;
      const common = Math.min(endA - i, endB - j);
      const byLetters = compareStrings(a.slice(i, i + common), b.slice(j, j + common));
      if (byLetters !== 0) return byLetters;
      const byLength = sign(endA - i - (endB - j));
      if (byLength !== 0) return byLength;
      i = endA;
      j = endB;
    }
  }
}
