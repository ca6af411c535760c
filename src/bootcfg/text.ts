/**
 * Small helpers every boot-config parser shares: the size cap, line splitting, POSIX path
 * arithmetic in the reader's namespace, and shell-style globs. Pure.
 */
import { ErrorCode, ParseError } from '../errors.js';
import { BOOTCFG_LIMITS } from '../limits.js';
import type { BootConfigWarning, BootConfigWarningCode } from './types.js';

/** Refuses a config larger than BOOTCFG_LIMITS.configFileBytes before any work is done on it. */
export function assertConfigSize(text: string, format: string, file: string): void {
  // Characters bound the UTF-8 size from below; counting bytes exactly would cost a copy.
  if (text.length > BOOTCFG_LIMITS.configFileBytes) {
    throw new ParseError(
      ErrorCode.FORMAT_LIMIT_EXCEEDED,
      format,
      `${file} has ${text.length} characters; at most ${BOOTCFG_LIMITS.configFileBytes} are read`,
    );
  }
}

/** Lines without their terminators; `\r\n` and `\n` both end a line. */
export function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

/** Collects warnings with the file they belong to. */
export class WarningSink {
  readonly warnings: BootConfigWarning[] = [];

  add(code: BootConfigWarningCode, message: string, file?: string, line?: number): void {
    const warning: BootConfigWarning = { code, message };
    if (file !== undefined) warning.file = file;
    if (line !== undefined) warning.line = line;
    this.warnings.push(warning);
  }
}

/**
 * `/a/./b//c/../d` -> `/a/b/d`. `..` at the top stays at the top, as it does at a chroot's root:
 * a path can never climb out of the namespace it is resolved in.
 */
export function normalizePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}

/** `relative` taken from `base` unless it is absolute; the result is normalized. */
export function joinPath(base: string, relative: string): string {
  return normalizePath(relative.startsWith('/') ? relative : `${base}/${relative}`);
}

/**
 * A path "relative to the root of a partition" (BLS, GRUB device paths) placed under the
 * directory where that partition is mounted: `underBase('/boot', '/vmlinuz')` is `/boot/vmlinuz`.
 */
export function underBase(base: string, path: string): string {
  return normalizePath(`${base}/${path}`);
}

export function dirName(path: string): string {
  const normalized = normalizePath(path);
  const slash = normalized.lastIndexOf('/');
  return slash <= 0 ? '/' : normalized.slice(0, slash);
}

export function baseName(path: string): string {
  const normalized = normalizePath(path);
  return normalized.slice(normalized.lastIndexOf('/') + 1);
}

/**
 * fnmatch(3) without flags: `*`, `?`, `[...]` (with `!`/`^` negation and ranges), `\` escapes.
 * Iterative with backtracking to the last `*`, so a hostile pattern costs O(n*m), not more.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = -1;
  while (t < text.length) {
    if (p < pattern.length) {
      const char = pattern[p]!;
      if (char === '*') {
        starP = p++;
        starT = t;
        continue;
      }
      if (char === '?') {
        p++;
        t++;
        continue;
      }
      if (char === '[') {
        const match = matchBracket(pattern, p, text[t]!);
        if (match !== undefined) {
          if (match.matched) {
            p = match.next;
            t++;
            continue;
          }
        } else if (text[t] === '[') {
          p++;
          t++;
          continue;
        }
      } else {
        const literal = char === '\\' && p + 1 < pattern.length ? pattern[p + 1]! : char;
        if (literal === text[t]) {
          p += char === '\\' && p + 1 < pattern.length ? 2 : 1;
          t++;
          continue;
        }
      }
    }
    if (starP < 0) return false;
    p = starP + 1;
    t = ++starT;
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** undefined when the bracket is not closed (then `[` is literal). */
function matchBracket(pattern: string, open: number, char: string): { matched: boolean; next: number } | undefined {
  let index = open + 1;
  const negate = pattern[index] === '!' || pattern[index] === '^';
  if (negate) index++;
  let matched = false;
  let first = true;
  while (index < pattern.length && (first || pattern[index] !== ']')) {
    first = false;
    const low = pattern[index]!;
    if (pattern[index + 1] === '-' && index + 2 < pattern.length && pattern[index + 2] !== ']') {
      const high = pattern[index + 2]!;
      if (char >= low && char <= high) matched = true;
      index += 3;
    } else {
      if (char === low) matched = true;
      index++;
    }
  }
  if (index >= pattern.length) return undefined;
  return { matched: matched !== negate, next: index + 1 };
}
